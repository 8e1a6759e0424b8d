package scenario

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Lambda is one function whose alias splits invocations between a stable
// and a canary version by weight:
//
//	lambdas:
//	  - name: orders                 # the function name
//	    alias: live                  # default "live"
//	    invocations_per_minute: 1200
//	    stable_version: "7"          # versions 1..max(stable, canary) are published
//	    canary_version: "8"
//	    canary_weight: 10            # initial percent routed to the canary; 0 means no routing
//	    extras: [dangling-routing-alias]
//	    stable: {error_rate: 0.002, duration_p50_ms: 120, duration_p99_ms: 600, concurrency_limit: 0}
//	    canary: {error_rate: 0.002, duration_p50_ms: 120, duration_p99_ms: 600, concurrency_limit: 0}
//	    events:
//	      - at: 2m
//	        canary: {error_rate: 0.05}
type Lambda struct {
	Name                 string        `yaml:"name"`
	Alias                string        `yaml:"alias"`
	InvocationsPerMinute float64       `yaml:"invocations_per_minute"`
	StableVersion        string        `yaml:"stable_version"`
	CanaryVersion        string        `yaml:"canary_version"`
	CanaryWeight         float64       `yaml:"canary_weight"`
	Extras               []string      `yaml:"extras"`
	Stable               LambdaSide    `yaml:"stable"`
	Canary               LambdaSide    `yaml:"canary"`
	Events               []LambdaEvent `yaml:"events"`
	// Logs is what the function logs (signals.go).
	Logs *Logs `yaml:"logs"`
}

// LambdaSide is one version's behaviour. In an event, only the fields
// given change.
type LambdaSide struct {
	ErrorRate     *float64 `yaml:"error_rate"`
	DurationP50Ms *float64 `yaml:"duration_p50_ms"`
	DurationP99Ms *float64 `yaml:"duration_p99_ms"`
	// ConcurrencyLimit caps the version's concurrent executions; beyond
	// it invocations are throttled. 0 means no limit. (AWS reserves
	// concurrency per function and provisions it per version; one cap per
	// version is what lets a scenario throttle the canary alone.)
	ConcurrencyLimit *int `yaml:"concurrency_limit"`
	// State is the version's GetFunctionConfiguration State: Active
	// (default), Pending, Inactive or Failed. Not changeable in an event.
	State *string `yaml:"state"`
}

// LambdaEvent changes parameters at an offset from the simulator's start.
type LambdaEvent struct {
	At                   Duration    `yaml:"at"`
	InvocationsPerMinute *float64    `yaml:"invocations_per_minute"`
	Stable               *LambdaSide `yaml:"stable"`
	Canary               *LambdaSide `yaml:"canary"`
	Both                 *LambdaSide `yaml:"both"`
	// CanaryWeight, when set, rewrites the alias's routing (percent to the
	// canary, stable as FunctionVersion) as a second operator would.
	CanaryWeight *float64 `yaml:"canary_weight"`
}

// Extras a scenario can ask for on a Lambda function, for bad-input tests.
const (
	// An alias "<alias>-dangling" on the stable version routing 10% to a
	// version that was never published.
	ExtraDanglingRoutingAlias = "dangling-routing-alias"
	// An alias "<alias>-plain" on the stable version with no routing.
	ExtraNoRoutingAlias = "no-routing-alias"
	// An alias "<alias>-latest" on $LATEST.
	ExtraLatestAlias = "latest-alias"
)

var knownLambdaExtras = []string{ExtraDanglingRoutingAlias, ExtraNoRoutingAlias, ExtraLatestAlias}

const (
	defaultLambdaErrorRate = 0.002
	defaultDurationP50Ms   = 120
	defaultDurationP99Ms   = 600
	defaultAlias           = "live"
	maxSeededVersions      = 200
)

var (
	lambdaFunctionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	lambdaAliasName    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)
	versionNumber      = regexp.MustCompile(`^[1-9][0-9]{0,8}$`)
)

func (sc *Scenario) validateLambdas() error {
	names := map[string]bool{}
	for i := range sc.Lambdas {
		l := &sc.Lambdas[i]
		p := []any{"lambdas", i}
		if !lambdaFunctionName.MatchString(l.Name) {
			return ferr(with(p, "name"), "%q must be 1-64 letters, digits, hyphens or underscores", l.Name)
		}
		if names[l.Name] {
			return ferr(with(p, "name"), "%q is used twice", l.Name)
		}
		names[l.Name] = true
		if l.Alias == "" {
			l.Alias = defaultAlias
		}
		if !lambdaAliasName.MatchString(l.Alias) || strings.Trim(l.Alias, "0123456789") == "" {
			return ferr(with(p, "alias"), "%q must be letters, digits, hyphens or underscores, and not only digits (that is a version)", l.Alias)
		}
		if err := checkRate(with(p, "invocations_per_minute"), l.InvocationsPerMinute); err != nil {
			return err
		}
		if l.StableVersion == "" {
			l.StableVersion = "1"
		}
		if !versionNumber.MatchString(l.StableVersion) {
			return ferr(with(p, "stable_version"), "%q is not a published version number such as 7", l.StableVersion)
		}
		if l.CanaryVersion == "" {
			n, _ := strconv.Atoi(l.StableVersion)
			l.CanaryVersion = strconv.Itoa(n + 1)
		}
		if !versionNumber.MatchString(l.CanaryVersion) {
			return ferr(with(p, "canary_version"), "%q is not a published version number such as 8", l.CanaryVersion)
		}
		if l.CanaryVersion == l.StableVersion {
			return ferr(with(p, "canary_version"), "%q is also the stable version", l.CanaryVersion)
		}
		if l.HighestVersion() > maxSeededVersions {
			return ferr(with(p, "canary_version"), "versions 1..%d would be published; at most %d", l.HighestVersion(), maxSeededVersions)
		}
		if err := checkPercent(with(p, "canary_weight"), l.CanaryWeight); err != nil {
			return err
		}
		for j, x := range l.Extras {
			ok := false
			for _, k := range knownLambdaExtras {
				ok = ok || x == k
			}
			if !ok {
				return ferr(with(p, "extras", j), "unknown extra %q (have %s)", x, strings.Join(knownLambdaExtras, ", "))
			}
		}
		fillLambdaSide(&l.Stable)
		fillLambdaSide(&l.Canary)
		if err := l.Stable.validate(with(p, "stable")); err != nil {
			return err
		}
		if err := l.Canary.validate(with(p, "canary")); err != nil {
			return err
		}
		for j := range l.Events {
			if err := l.validateEvent(with(p, "events", j), &l.Events[j], sc.History.D()); err != nil {
				return err
			}
		}
		if err := l.validateTimeline(p); err != nil {
			return err
		}
	}
	return nil
}

func checkPercent(p []any, v float64) error {
	if math.IsNaN(v) || v < 0 || v > 100 {
		return ferr(p, "%v is out of range (0..100 percent)", v)
	}
	return nil
}

// HighestVersion is the highest version the function publishes: its
// stable or canary version.
func (l *Lambda) HighestVersion() int {
	s, _ := strconv.Atoi(l.StableVersion)
	c, _ := strconv.Atoi(l.CanaryVersion)
	return max(s, c)
}

func fillLambdaSide(s *LambdaSide) {
	set := func(p **float64, v float64) {
		if *p == nil {
			*p = &v
		}
	}
	set(&s.ErrorRate, defaultLambdaErrorRate)
	set(&s.DurationP50Ms, defaultDurationP50Ms)
	set(&s.DurationP99Ms, math.Max(defaultDurationP99Ms, *s.DurationP50Ms))
	if s.ConcurrencyLimit == nil {
		z := 0
		s.ConcurrencyLimit = &z
	}
	if s.State == nil {
		a := "Active"
		s.State = &a
	}
}

// validate checks the fields that are set; base sides have all set.
func (s *LambdaSide) validate(p []any) error {
	if v := s.ErrorRate; v != nil && (math.IsNaN(*v) || *v < 0 || *v > 1) {
		return ferr(with(p, "error_rate"), "%v is out of range (0..1, a fraction of invocations)", *v)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"duration_p50_ms", s.DurationP50Ms}, {"duration_p99_ms", s.DurationP99Ms}} {
		if f.v != nil && (math.IsNaN(*f.v) || *f.v <= 0 || *f.v > 900000) {
			return ferr(with(p, f.name), "%v is out of range (0 < ms <= 900000, Lambda's 15-minute limit)", *f.v)
		}
	}
	if s.DurationP50Ms != nil && s.DurationP99Ms != nil && *s.DurationP99Ms < *s.DurationP50Ms {
		return ferr(with(p, "duration_p99_ms"), "p99 %vms is below p50 %vms", *s.DurationP99Ms, *s.DurationP50Ms)
	}
	if c := s.ConcurrencyLimit; c != nil && (*c < 0 || *c > 100000) {
		return ferr(with(p, "concurrency_limit"), "%d is out of range (0 for no limit, up to 100000)", *c)
	}
	if st := s.State; st != nil && !ValidLambdaState(*st) {
		return ferr(with(p, "state"), "%q is not Active, Pending, Inactive or Failed", *st)
	}
	return nil
}

func (l *Lambda) validateEvent(p []any, ev *LambdaEvent, history time.Duration) error {
	if ev.At.D() < -history {
		return ferr(with(p, "at"), "%s is before the backfilled history (-%s)", ev.At.D(), history)
	}
	if ev.InvocationsPerMinute == nil && ev.Stable == nil && ev.Canary == nil && ev.Both == nil && ev.CanaryWeight == nil {
		return ferr(p, "an event must change something (invocations_per_minute, stable, canary, both or canary_weight)")
	}
	if ev.InvocationsPerMinute != nil {
		if err := checkRate(with(p, "invocations_per_minute"), *ev.InvocationsPerMinute); err != nil {
			return err
		}
	}
	if ev.CanaryWeight != nil {
		if err := checkPercent(with(p, "canary_weight"), *ev.CanaryWeight); err != nil {
			return err
		}
	}
	for _, side := range []struct {
		name string
		s    *LambdaSide
	}{{"stable", ev.Stable}, {"canary", ev.Canary}, {"both", ev.Both}} {
		if side.s == nil {
			continue
		}
		if side.s.State != nil {
			return ferr(with(p, side.name, "state"), "a version's state cannot change in an event (use Sim.SetVersionState in tests)")
		}
		if err := side.s.validate(with(p, side.name)); err != nil {
			return err
		}
	}
	return nil
}

// validateTimeline checks the parameters in force after each event, and
// sorts the events by time.
func (l *Lambda) validateTimeline(p []any) error {
	order := make([]int, len(l.Events))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return l.Events[order[x]].At < l.Events[order[y]].At })
	params := l.BaseParams()
	for _, i := range order {
		params.Apply(&l.Events[i])
		for _, vp := range []VersionParams{params.Stable, params.Canary} {
			if vp.P99 < vp.P50 {
				return ferr(with(p, "events", i), "after this event p99 %vms is below p50 %vms", vp.P99, vp.P50)
			}
		}
	}
	sort.SliceStable(l.Events, func(x, y int) bool { return l.Events[x].At < l.Events[y].At })
	return nil
}

// VersionParams is one version's behaviour in the traffic model.
type VersionParams struct {
	ErrRate  float64
	P50, P99 float64 // milliseconds
	Limit    int     // concurrency cap, 0 for none
}

type LambdaParams struct {
	RPM            float64
	Stable, Canary VersionParams
}

func (l *Lambda) BaseParams() LambdaParams {
	side := func(s LambdaSide) VersionParams {
		return VersionParams{ErrRate: *s.ErrorRate, P50: *s.DurationP50Ms, P99: *s.DurationP99Ms, Limit: *s.ConcurrencyLimit}
	}
	return LambdaParams{RPM: l.InvocationsPerMinute, Stable: side(l.Stable), Canary: side(l.Canary)}
}

func (vp *VersionParams) Apply(s *LambdaSide) {
	if s == nil {
		return
	}
	if s.ErrorRate != nil {
		vp.ErrRate = *s.ErrorRate
	}
	if s.DurationP50Ms != nil {
		vp.P50 = *s.DurationP50Ms
	}
	if s.DurationP99Ms != nil {
		vp.P99 = *s.DurationP99Ms
	}
	if s.ConcurrencyLimit != nil {
		vp.Limit = *s.ConcurrencyLimit
	}
}

func (p *LambdaParams) Apply(ev *LambdaEvent) {
	if ev.InvocationsPerMinute != nil {
		p.RPM = *ev.InvocationsPerMinute
	}
	p.Stable.Apply(ev.Both)
	p.Canary.Apply(ev.Both)
	p.Stable.Apply(ev.Stable)
	p.Canary.Apply(ev.Canary)
}

// ValidLambdaState reports whether s is a State a Lambda version can be
// given: Active, Pending, Inactive or Failed.
func ValidLambdaState(s string) bool {
	switch s {
	case "Active", "Pending", "Inactive", "Failed":
		return true
	}
	return false
}
