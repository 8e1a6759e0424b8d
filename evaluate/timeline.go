package evaluate

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim"
)

// Timeline is what a scenario says about the canary being evaluated, as
// offsets from the simulator's start (where perch attaches). The harness
// reads it from the scenario rather than from the data: whether a
// detection was true or false is a fact of the script, not something to
// infer from the noise.
type Timeline struct {
	ALB string `json:"alb"`
	// CanaryStart is when the canary first has traffic: -history when it
	// has weight from the start of the backfilled history.
	CanaryStart time.Duration `json:"canary_start"`
	// Weight and RequestsPerMinute are in force at CanaryStart.
	Weight            int     `json:"canary_weight"`
	RequestsPerMinute float64 `json:"requests_per_minute"`
	// Regression is nil for a healthy canary.
	Regression *Regression `json:"regression,omitempty"`
	// WeightChanges are the offsets of scripted canary_weight events, at
	// which the harness re-reads the split (as perch's poll would notice).
	WeightChanges []time.Duration `json:"-"`
}

// Regression is the moment the canary starts behaving worse than stable.
type Regression struct {
	At time.Duration `json:"at"`
	// What says how much worse, e.g. "canary 5xx 1% vs stable 0.5% (2x)".
	What string `json:"what"`
	// Stable and Canary are the sides' parameters from that moment on,
	// and CanaryPerMinute the canary's requests a minute: what the oracle
	// knows (see oracle.go).
	Stable, Canary  SideParams `json:"-"`
	CanaryPerMinute float64    `json:"-"`
}

// SideParams are one side's scripted error rate and latency (ms).
type SideParams struct{ ErrorRate, P50, P99 float64 }

// Errors and Latency say what got worse.
func (r *Regression) Errors() bool { return r.Canary.ErrorRate > r.Stable.ErrorRate }

// Latency reports whether the canary's latency got worse.
func (r *Regression) Latency() bool {
	return r.Canary.P99 > r.Stable.P99 || r.Canary.P50 > r.Stable.P50
}

type sideParams struct{ errRate, p50, p99 float64 }

func (p sideParams) exported() SideParams {
	return SideParams{ErrorRate: p.errRate, P50: p.p50, P99: p.p99}
}

func (p *sideParams) apply(s *sim.Side) {
	if s == nil {
		return
	}
	if s.ErrorRate != nil {
		p.errRate = *s.ErrorRate
	}
	if s.LatencyP50Ms != nil {
		p.p50 = *s.LatencyP50Ms
	}
	if s.LatencyP99Ms != nil {
		p.p99 = *s.LatencyP99Ms
	}
}

// worse describes how canary is worse than stable, "" when it is not.
// Only what the judge looks at counts: 5xx and latency, not 4xx.
func worse(stable, canary sideParams) string {
	var parts []string
	if canary.errRate > stable.errRate {
		s := fmt.Sprintf("canary 5xx %g%% vs stable %g%%", roundTo(100*canary.errRate, 4), roundTo(100*stable.errRate, 4))
		if stable.errRate > 0 {
			s += fmt.Sprintf(" (%gx)", roundTo(canary.errRate/stable.errRate, 2))
		}
		parts = append(parts, s)
	}
	if canary.p99 > stable.p99 {
		parts = append(parts, fmt.Sprintf("canary p99 %g ms vs stable %g ms", canary.p99, stable.p99))
	} else if canary.p50 > stable.p50 {
		parts = append(parts, fmt.Sprintf("canary p50 %g ms vs stable %g ms", canary.p50, stable.p50))
	}
	return strings.Join(parts, ", ")
}

func roundTo(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// TimelineOf reads the first ALB canary of a validated scenario (as
// sim.LoadScenario returns it: base sides complete, events sorted).
func TimelineOf(sc *sim.Scenario) (Timeline, error) {
	if len(sc.ALBs) == 0 {
		return Timeline{}, fmt.Errorf("scenario %s: evaluate needs an ALB canary (albs:), and this scenario has none", sc.Name)
	}
	a := sc.ALBs[0]
	if a.Stable.ErrorRate == nil || a.Canary.ErrorRate == nil {
		return Timeline{}, fmt.Errorf("scenario %s: not validated (load it with sim.LoadScenario)", sc.Name)
	}
	var stable, canary sideParams
	stable.apply(&a.Stable)
	canary.apply(&a.Canary)
	rpm, weight := a.RequestsPerMinute, a.CanaryWeight
	tl := Timeline{ALB: a.Name}
	started := false
	at := -sc.History.D()
	observe := func(at time.Duration) {
		if weight <= 0 || rpm <= 0 {
			return
		}
		if !started {
			started = true
			tl.CanaryStart, tl.Weight, tl.RequestsPerMinute = at, weight, rpm
		}
		if tl.Regression == nil {
			if w := worse(stable, canary); w != "" {
				tl.Regression = &Regression{At: at, What: w, Stable: stable.exported(), Canary: canary.exported(),
					CanaryPerMinute: rpm * float64(weight) / 100}
			}
		}
	}
	observe(at)
	for _, ev := range a.Events {
		at = max(ev.At.D(), -sc.History.D())
		if ev.RequestsPerMinute != nil {
			rpm = *ev.RequestsPerMinute
		}
		if ev.CanaryWeight != nil {
			weight = *ev.CanaryWeight
			tl.WeightChanges = append(tl.WeightChanges, at)
		}
		stable.apply(ev.Both)
		canary.apply(ev.Both)
		stable.apply(ev.Stable)
		canary.apply(ev.Canary)
		observe(at)
	}
	if !started {
		return Timeline{}, fmt.Errorf("scenario %s: the canary %s never gets traffic (canary_weight and requests_per_minute stay 0)", sc.Name, a.Name)
	}
	return tl, nil
}

// String describes the timeline in one line.
func (tl Timeline) String() string {
	s := fmt.Sprintf("%s: canary %d%% of %s req/min", tl.ALB, tl.Weight, trimFloat(tl.RequestsPerMinute))
	if tl.CanaryStart > 0 {
		s += fmt.Sprintf(" from %s", short(tl.CanaryStart))
	}
	if tl.Regression == nil {
		return s + "; healthy (no regression)"
	}
	return s + fmt.Sprintf("; regression at %s: %s", short(tl.Regression.At), tl.Regression.What)
}

func trimFloat(x float64) string { return fmt.Sprintf("%g", x) }

// short prints a duration without Go's zero units: 5m, 1h30m, -30m.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
