package model

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// VerdictKind is the judge's answer for one metric or overall.
type VerdictKind string

const (
	// VerdictPass: enough data to have caught the configured regression
	// with the configured power, and none was found.
	VerdictPass VerdictKind = "PASS"
	// VerdictFail: the evidence that the canary is worse crossed the bar.
	VerdictFail VerdictKind = "FAIL"
	// VerdictInsufficient: no regression found yet, but too little data to
	// say there is none.
	VerdictInsufficient VerdictKind = "INSUFFICIENT"
)

// CustomSignal declares a per-period metric the judge compares with a
// direction: the canary fails when it is worse than stable by more than
// Tolerance (relative) in significantly more than half of the periods.
type CustomSignal struct {
	Name          Signal
	HigherIsWorse bool
	Tolerance     float64 // relative, 0.10 = 10% worse is still fine
}

// JudgeConfig tunes the judge. The zero value of each field means its
// default (see DefaultJudgeConfig).
type JudgeConfig struct {
	// Alpha bounds the probability that a healthy canary watched for
	// Horizon is ever judged FAIL, however often the judge is consulted
	// (Doob's maximal inequality; see judge_detect.go for how the
	// from-start test, the step test and the change detector share it).
	// It is split evenly over the metrics judged (Bonferroni), so the
	// bound holds for the overall verdict, not just per metric. Default
	// 0.01: at most 1% false rollbacks in a day's watch, and the
	// evaluation measures the realised rate below it.
	Alpha float64
	// Power is the probability with which PASS promises the configured
	// regression would have been caught. Default 0.8.
	Power float64
	// MinRelativeRegression is the error-rate ratio (canary/stable) that
	// PASS must rule out, and that the requests-needed figure is for.
	// Default 2 (a doubled error rate).
	MinRelativeRegression float64
	// MinAbsoluteRegression is a floor on the regression, as a fraction of
	// requests (0.001 = 0.1 percentage points): against a stable error rate
	// near zero, "2x" is a vanishing difference no amount of traffic can
	// show, while an extra 0.1% of failed requests is. Default 0.001.
	MinAbsoluteRegression float64
	// LatencyTolerance is how much worse (relative) the canary's p99 may be
	// per period before that period counts against it. Default 0.10.
	LatencyTolerance float64
	// Latency is the latency signal judged. Default LatencyP99.
	Latency Signal
	// NoLatency leaves latency out (a target without latency metrics).
	NoLatency bool
	// LatencyMinRequests: a period's p99s are compared only when stable
	// served at least this many requests in it, or at least as many as the
	// canary. A p99 from a few requests is roughly their maximum, biased
	// low; the side with fewer requests looks faster. Biased in the
	// canary's favour (small canary share) costs power only; biased against
	// it (canary share above 50% at low traffic) would cause false FAILs.
	// Default 100.
	LatencyMinRequests float64
	// SignAlternative is, for latency and custom signals, the fraction of
	// periods the canary must be worse in for PASS to promise detection.
	// Default 0.9.
	SignAlternative float64
	// Custom signals judged besides errors and latency.
	Custom []CustomSignal
	// Period is the length of one datapoint's period. Default one minute
	// (what perch asks CloudWatch for). Not inferred from the data: at a
	// few requests an hour most periods are missing.
	Period time.Duration
	// Since: only periods starting at or after it are judged. Set it to
	// the start of the canary, not of the current step: both sides are
	// compared within each period, using that period's canary share, so
	// weight changes need no reset, and evidence keeps accumulating.
	Since time.Time
	// RateWindow is how many recent periods give the current canary
	// request rate and share, for the time estimate. Default 10.
	RateWindow int
	// RecentWindow is N in "PASS describes now": PASS needs the current
	// step, or the last N, whichever is longer, alone to have shown the
	// configured regression with the configured power. Default 30m: old
	// healthy evidence cannot vouch for the canary as it is now, and half
	// an hour is two to six typical bake steps, long enough that a canary
	// taking a few hundred requests a minute can pass on it (see
	// docs/evaluate.md for the arithmetic).
	RecentWindow time.Duration
	// Horizon is how long a healthy canary may be watched with Alpha still
	// bounding its chance of a false FAIL: the change detector's average
	// run length is set from it. Default 24h.
	Horizon time.Duration
	// StartTestFor is how long after its first judged period the
	// from-start test runs; the change detector carries on after. The
	// from-start test needs its start to be a fixed point, and perch's
	// engine keeps six hours of periods, after which the oldest one in the
	// data moves. Default 5h.
	StartTestFor time.Duration
}

// DefaultJudgeConfig is the configuration the zero value stands for.
func DefaultJudgeConfig() JudgeConfig {
	return JudgeConfig{
		Alpha:                 0.01,
		Power:                 0.8,
		MinRelativeRegression: 2,
		MinAbsoluteRegression: 0.001,
		LatencyTolerance:      0.10,
		Latency:               LatencyP99,
		LatencyMinRequests:    100,
		SignAlternative:       0.9,
		RateWindow:            10,
		Period:                time.Minute,
		RecentWindow:          30 * time.Minute,
		Horizon:               24 * time.Hour,
		StartTestFor:          5 * time.Hour,
	}
}

func (c JudgeConfig) withDefaults() JudgeConfig {
	d := DefaultJudgeConfig()
	if !(c.Alpha > 0 && c.Alpha < 1) {
		c.Alpha = d.Alpha
	}
	if !(c.Power > 0 && c.Power < 1) {
		c.Power = d.Power
	}
	if !(c.MinRelativeRegression > 1) {
		c.MinRelativeRegression = d.MinRelativeRegression
	}
	if !(c.MinAbsoluteRegression > 0) {
		c.MinAbsoluteRegression = d.MinAbsoluteRegression
	}
	if !(c.LatencyTolerance > 0) {
		c.LatencyTolerance = d.LatencyTolerance
	}
	if c.Latency == "" {
		c.Latency = d.Latency
	}
	if !(c.LatencyMinRequests > 0) {
		c.LatencyMinRequests = d.LatencyMinRequests
	}
	if !(c.SignAlternative > 0.5 && c.SignAlternative < 1) {
		c.SignAlternative = d.SignAlternative
	}
	if c.Period <= 0 {
		c.Period = d.Period
	}
	if c.RateWindow <= 0 {
		c.RateWindow = d.RateWindow
	}
	if c.RecentWindow <= 0 {
		c.RecentWindow = d.RecentWindow
	}
	if c.Horizon < c.Period {
		c.Horizon = d.Horizon
	}
	if c.StartTestFor <= 0 {
		c.StartTestFor = d.StartTestFor
	}
	return c
}

// MetricVerdict is the judge's answer for one signal.
type MetricVerdict struct {
	Signal Signal      `json:"signal"`
	Kind   VerdictKind `json:"kind"`
	// Evidence is the e-value against "the canary is no worse" of the
	// test in Test (for FAIL, the tests' combined evidence on that test's
	// scale), and Threshold that test's bar: FAIL when the evidence
	// reaches it. Tests has each test's own figures.
	Evidence  float64 `json:"evidence"`
	Threshold float64 `json:"threshold"`
	// Effect describes the observed difference for people; EffectSize is
	// its number: the canary/stable ratio of error rates, or the median
	// per-period canary/stable ratio of a latency or custom signal.
	Effect     string  `json:"effect"`
	EffectSize float64 `json:"effect_size"`
	// CanaryRequests counts the canary requests that went into the test;
	// NeededRequests is how many in total it takes (at the current share)
	// to have caught the configured regression: PASS needs no more, and
	// NeededRequests-CanaryRequests is the figure INSUFFICIENT reports.
	// +Inf when the current traffic can never get there (no canary or no
	// stable traffic).
	CanaryRequests float64 `json:"canary_requests"`
	NeededRequests float64 `json:"needed_requests"`
	// Periods compared (latency and custom signals) and how many in total
	// are needed.
	Periods       int     `json:"periods,omitempty"`
	NeededPeriods float64 `json:"needed_periods,omitempty"`
	// ETA is how long the remaining requests take at the recent canary
	// request rate; negative when there is no recent canary traffic.
	ETA time.Duration `json:"eta"`
	// Test is the test that produced the verdict: for FAIL the one with
	// the most evidence for its share of the budget; for PASS or
	// INSUFFICIENT the one whose power over the recent window PASS rests
	// on (or would). From and To bound the periods it weighed.
	Test TestKind  `json:"test,omitempty"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Tests is every test's evidence, for the screen that explains it.
	Tests []TestEvidence `json:"tests,omitempty"`
	// Invalid says which data was refused (a count that is NaN, negative,
	// not whole, or more than its requests): the metric never PASSes
	// while it is in the data judged.
	Invalid string `json:"invalid,omitempty"`
	// Summary is one line about this metric.
	Summary string `json:"summary"`
}

// MoreRequests is how many more canary requests the metric needs.
func (m MetricVerdict) MoreRequests() float64 {
	return math.Max(0, m.NeededRequests-m.CanaryRequests)
}

// Verdict is the judge's answer overall.
type Verdict struct {
	Overall VerdictKind     `json:"overall"`
	Metrics []MetricVerdict `json:"metrics"`
	Summary string          `json:"summary"` // one line for the screen
	// Test, From and To are the deciding metric's: which test and window
	// produced the verdict.
	Test TestKind  `json:"test,omitempty"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Metric returns the verdict for one signal.
func (v Verdict) Metric(s Signal) (MetricVerdict, bool) {
	for _, m := range v.Metrics {
		if m.Signal == s {
			return m, true
		}
	}
	return MetricVerdict{}, false
}

// Judge compares canary with stable on the data at or after cfg.Since,
// with no step known: JudgeSteps without its step test.
func Judge(sig Signals, cfg JudgeConfig, now time.Time) Verdict {
	return JudgeSteps(sig, cfg, now, time.Time{}, 0)
}

// JudgeSteps compares canary with stable on the data at or after
// cfg.Since. stepStart is when the current step (the split's last change)
// began, and steps bounds how many steps the rollout has (the plan's
// length, or the ladder's for a hand-driven canary); with stepStart zero
// there is no step test.
//
// It is a pure function of the data, recomputed from scratch at every poll
// (about a millisecond for six hours of one-minute periods). Every metric
// runs three anytime-valid tests on the same per-period likelihood ratios
// (judge_detect.go): from the start, since the step began, and a change
// detector that lets evidence start at any period, so a regression that
// begins hours into a healthy canary is caught in minutes. A healthy
// canary watched for cfg.Horizon reaches FAIL with probability at most
// cfg.Alpha however many times JudgeSteps is consulted.
//
// PASS describes now: it needs the recent window (the current step, or the
// last cfg.RecentWindow, whichever is longer) alone to have been enough to
// show the configured regression with the configured power; old healthy
// history cannot vouch for the canary as it is now.
//
// A period with no data on a side is no data, never zero: count evidence
// comes only from periods in which both sides served requests, and p99
// evidence only from periods in which both sides have a p99. (A missing
// 5xx count next to a request count is zero errors: ALB publishes no 5xx
// datapoint for a period without any.) A count that cannot be one (NaN,
// negative, not whole) is refused and keeps the metric from PASS.
//
// The newest period may be incomplete and revised by a later poll; the
// count tests condition on the counts seen so far in it, which keeps their
// guarantee, while a revised p99 is a fresh draw and counted once.
func JudgeSteps(sig Signals, cfg JudgeConfig, now, stepStart time.Time, steps int) Verdict {
	cfg = cfg.withDefaults()
	signs := make([]CustomSignal, 0, 1+len(cfg.Custom))
	slowCounts := !cfg.NoLatency && cfg.Latency == LatencyP99 && hasCounts(sig, SlowRequests, cfg.Since)
	if !cfg.NoLatency && !slowCounts {
		signs = append(signs, CustomSignal{Name: cfg.Latency, HigherIsWorse: true, Tolerance: cfg.LatencyTolerance})
	}
	signs = append(signs, cfg.Custom...)
	metrics := 1 + len(signs)
	if slowCounts {
		metrics++
	}

	j := &judging{cfg: cfg, now: now, tr: traffic(sig, cfg, now),
		budget: budget{periods: float64(cfg.Horizon) / float64(cfg.Period)}}
	if first, ok := firstPeriod(sig, cfg.Since); ok {
		// The from-start test runs while its start is a fixed point.
		j.scope.fromStart = now.Sub(first) <= cfg.StartTestFor
		if !stepStart.IsZero() && stepStart.After(first) && steps >= 1 {
			j.scope.stepStart, j.budget.steps = stepStart, steps
		}
	}

	v := Verdict{Metrics: make([]MetricVerdict, 0, metrics)}
	others := metrics - 1
	errorsBudget := j.budget.forMetric(metricAlpha(cfg.Alpha, true, others))
	otherBudget := j.budget.forMetric(metricAlpha(cfg.Alpha, false, others))
	v.Metrics = append(v.Metrics, judgeCounts(sig, countSpec{signal: Errors5xx, missingIsZero: true, what: "errors"}, j, errorsBudget))
	if slowCounts {
		what := "slow requests"
		if th := newest(sig[Stable][SlowThreshold]); th > 0 {
			what = "slower than " + formatMs(th)
		}
		v.Metrics = append(v.Metrics, judgeCounts(sig, countSpec{signal: SlowRequests, what: what}, j, otherBudget))
	}
	for _, cs := range signs {
		minReq := 0.0
		if cs.Name == cfg.Latency && !cfg.NoLatency {
			minReq = cfg.LatencyMinRequests
		}
		v.Metrics = append(v.Metrics, judgeSign(sig, cs, minReq, j, otherBudget))
	}
	overall(&v, cfg, now)
	return v
}

// hasCounts reports whether both sides have a count of s since since.
func hasCounts(sig Signals, s Signal, since time.Time) bool {
	for _, side := range Sides {
		pts := sig[side][s]
		if len(pts) == 0 || pts[len(pts)-1].T.Before(since) {
			return false
		}
	}
	return true
}

// firstPeriod is the first period at or after since with requests on
// either side.
func firstPeriod(sig Signals, since time.Time) (time.Time, bool) {
	var first time.Time
	found := false
	for _, side := range Sides {
		for _, p := range sig[side][Requests] {
			if p.T.Before(since) {
				continue
			}
			if !found || p.T.Before(first) {
				first, found = p.T, true
			}
			break
		}
	}
	return first, found
}

// newest is the newest point's value, 0 for none.
func newest(pts []Point) float64 {
	if len(pts) == 0 {
		return 0
	}
	return pts[len(pts)-1].V
}

// overall combines the metrics: any FAIL fails; PASS needs every metric to
// pass; otherwise the summary names the metric furthest from enough data.
func overall(v *Verdict, cfg JudgeConfig, now time.Time) {
	ms := v.Metrics
	var fails []string
	worst, strongest, invalid := -1, -1, -1
	allPass := true
	for i, m := range ms {
		if m.Invalid != "" && invalid < 0 {
			invalid = i
		}
		switch m.Kind {
		case VerdictFail:
			fails = append(fails, m.Summary)
			if strongest < 0 || m.Evidence/m.Threshold > ms[strongest].Evidence/ms[strongest].Threshold {
				strongest = i
			}
		case VerdictInsufficient:
			allPass = false
			if worst < 0 || further(m, ms[worst]) {
				worst = i
			}
		}
	}
	decided := func(i int) {
		v.Test, v.From, v.To = ms[i].Test, ms[i].From, ms[i].To
	}
	switch {
	case len(fails) > 0:
		v.Overall, v.Summary = VerdictFail, "FAIL: "+strings.Join(fails, "; ")
		decided(strongest)
		return
	case allPass:
		var sb strings.Builder
		for i, m := range ms {
			if i > 0 {
				sb.WriteString(", ")
			}
			switch m.Signal {
			case Errors5xx:
				fmt.Fprintf(&sb, "no %gx error rate", cfg.MinRelativeRegression)
			case SlowRequests:
				fmt.Fprintf(&sb, "no %gx share of slow requests", cfg.MinRelativeRegression)
			default:
				fmt.Fprintf(&sb, "no worse %s", m.Signal.Label())
			}
		}
		w := ms[0]
		fmt.Fprintf(&sb, " %s (%s canary requests)", windowPhrase(passCheck{test: w.Test, from: w.From}, now), formatCount(w.CanaryRequests))
		v.Overall, v.Summary = VerdictPass, "PASS: "+sb.String()
		decided(0)
		return
	}
	v.Overall = VerdictInsufficient
	if invalid >= 0 {
		v.Summary = "INSUFFICIENT: " + ms[invalid].Summary
		decided(invalid)
		return
	}
	v.Summary = "INSUFFICIENT: healthy so far, too little recent data to rule out a new regression: " + ms[worst].Summary
	decided(worst)
}

// further reports whether a is further from enough data than b.
func further(a, b MetricVerdict) bool {
	if a.ETA < 0 || b.ETA < 0 {
		return a.ETA < 0 && b.ETA >= 0
	}
	if a.ETA != b.ETA {
		return a.ETA > b.ETA
	}
	return a.MoreRequests() > b.MoreRequests()
}
