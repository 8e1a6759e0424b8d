package scenario

import (
	"math"
	"regexp"
	"time"
)

// The seed's other signals: what the services behind a canary log, and
// how saturated they are. Both are optional sections of an ALB canary
// (logs also of a Lambda alias):
//
//	albs:
//	  - name: checkout
//	    saturation:                       # the ECS services behind the two target groups
//	      cluster: shop
//	      stable_service: checkout-blue   # default <name>-stable
//	      canary_service: checkout-green  # default <name>-canary
//	      stable: {cpu_percent: 20, cpu_per_1k_rpm: 2, memory_percent: 45}
//	      canary: {cpu_percent: 20, cpu_per_1k_rpm: 2, memory_percent: 45, memory_leak_per_hour: 60, leak_from: 0s}
//	    logs:
//	      group: /ecs/checkout            # default /ecs/<name>; streams <name>-<side>/app/<task id>
//	      usual:                          # lines both sides log, per request
//	        - {message: "WARN retry {n}/3 calling payments after {ms}ms", rate: 0.01}
//	      canary:                         # lines only the canary logs
//	        - {message: "ERROR java.lang.IllegalStateException: coupon {id} has no owner", rate: 0.002, from: 5m}
//
// Every 5xx (ALB) or function error (Lambda) is also logged as an ERROR
// line, and every stream logs one INFO summary line a minute, so lines
// follow the traffic model's counts exactly.

// Saturation declares the ECS services behind an ALB canary's target
// groups, whose AWS/ECS CPUUtilization and MemoryUtilization the traffic
// model publishes from each side's requests.
type Saturation struct {
	Cluster       string         `yaml:"cluster"`
	StableService string         `yaml:"stable_service"`
	CanaryService string         `yaml:"canary_service"`
	Stable        SaturationSide `yaml:"stable"`
	Canary        SaturationSide `yaml:"canary"`
}

// SaturationSide is one service's utilisation model.
type SaturationSide struct {
	// CPUPercent at no traffic, plus CPUPer1kRPM for every thousand
	// requests a minute the side serves.
	CPUPercent  float64 `yaml:"cpu_percent"`
	CPUPer1kRPM float64 `yaml:"cpu_per_1k_rpm"`
	// MemoryPercent is the resting memory; MemoryLeakPerHour adds that
	// many percentage points an hour from LeakFrom (a leak), up to 100.
	MemoryPercent     float64  `yaml:"memory_percent"`
	MemoryLeakPerHour float64  `yaml:"memory_leak_per_hour"`
	LeakFrom          Duration `yaml:"leak_from"`
	// ConnectionErrorRate is the fraction of requests whose connection to
	// a target fails (TargetConnectionErrorCount).
	ConnectionErrorRate float64 `yaml:"connection_error_rate"`
}

// CPUAt is the side's CPU utilisation at rpm requests a minute.
func (s SaturationSide) CPUAt(rpm float64) float64 {
	return math.Min(100, s.CPUPercent+s.CPUPer1kRPM*rpm/1000)
}

// MemoryAt is the side's memory utilisation sinceStart into the scenario.
func (s SaturationSide) MemoryAt(sinceStart time.Duration) float64 {
	m := s.MemoryPercent
	if d := sinceStart - s.LeakFrom.D(); d > 0 {
		m += s.MemoryLeakPerHour * d.Hours()
	}
	return math.Min(100, m)
}

// Logs is what a canary's services log (see the package comment above).
type Logs struct {
	Group  string    `yaml:"group"`
	Usual  []LogLine `yaml:"usual"`
	Stable []LogLine `yaml:"stable"`
	Canary []LogLine `yaml:"canary"`
}

// LogLine is a line logged at Rate per request from From on. Its message
// may hold {n} (a small count), {ms} (a duration), {id} (an id like
// ord-12345) and {uuid}, filled per line.
type LogLine struct {
	Message string   `yaml:"message"`
	Rate    float64  `yaml:"rate"`
	From    Duration `yaml:"from"`
}

// DefaultUsualLines are what both sides log when a scenario names none:
// retries and slow queries, the background noise NEW must not mark.
var DefaultUsualLines = []LogLine{
	{Message: "WARN retry {n}/3 calling payments after {ms}ms (request {uuid})", Rate: 0.01},
	{Message: "WARN slow query on orders table took {ms}ms id={id}", Rate: 0.002},
}

var logGroupName = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]{1,512}$`)

func (sc *Scenario) validateSignals() error {
	for i := range sc.ALBs {
		a := &sc.ALBs[i]
		p := []any{"albs", i}
		if s := a.Saturation; s != nil {
			if err := s.validate(with(p, "saturation"), a.Name); err != nil {
				return err
			}
		}
		if a.Logs != nil {
			if err := a.Logs.validate(with(p, "logs"), "/ecs/"+a.Name); err != nil {
				return err
			}
		}
	}
	for i := range sc.Lambdas {
		l := &sc.Lambdas[i]
		if l.Logs != nil {
			if err := l.Logs.validate([]any{"lambdas", i, "logs"}, "/aws/lambda/"+l.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Saturation) validate(p []any, name string) error {
	if s.Cluster == "" {
		s.Cluster = "default"
	}
	if s.StableService == "" {
		s.StableService = name + "-stable"
	}
	if s.CanaryService == "" {
		s.CanaryService = name + "-canary"
	}
	for _, side := range []struct {
		name string
		s    *SaturationSide
	}{{"stable", &s.Stable}, {"canary", &s.Canary}} {
		q := with(p, side.name)
		for _, f := range []struct {
			name string
			v    float64
		}{{"cpu_percent", side.s.CPUPercent}, {"memory_percent", side.s.MemoryPercent}} {
			if math.IsNaN(f.v) || f.v < 0 || f.v > 100 {
				return ferr(with(q, f.name), "%v is out of range (0..100)", f.v)
			}
		}
		if v := side.s.CPUPer1kRPM; math.IsNaN(v) || v < 0 || v > 100 {
			return ferr(with(q, "cpu_per_1k_rpm"), "%v is out of range (0..100)", v)
		}
		if v := side.s.MemoryLeakPerHour; math.IsNaN(v) || v < 0 || v > 1000 {
			return ferr(with(q, "memory_leak_per_hour"), "%v is out of range (0..1000 percentage points an hour)", v)
		}
		if err := checkProb(with(q, "connection_error_rate"), side.s.ConnectionErrorRate); err != nil {
			return err
		}
	}
	return nil
}

func (l *Logs) validate(p []any, defaultGroup string) error {
	if l.Group == "" {
		l.Group = defaultGroup
	}
	if !logGroupName.MatchString(l.Group) {
		return ferr(with(p, "group"), "%q is not a log group name (1-512 of letters, digits, _ - / . #)", l.Group)
	}
	if l.Usual == nil {
		l.Usual = DefaultUsualLines
	}
	for _, set := range []struct {
		name  string
		lines []LogLine
	}{{"usual", l.Usual}, {"stable", l.Stable}, {"canary", l.Canary}} {
		for j, ln := range set.lines {
			q := with(p, set.name, j)
			if ln.Message == "" || len(ln.Message) > 1000 {
				return ferr(with(q, "message"), "must be 1-1000 characters")
			}
			if err := checkProb(with(q, "rate"), ln.Rate); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkProb(p []any, v float64) error {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return ferr(p, "%v is out of range (0..1, a fraction of requests)", v)
	}
	return nil
}
