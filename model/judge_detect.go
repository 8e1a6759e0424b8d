package model

import (
	"math"
	"slices"
	"time"
)

// TestKind names one of the judge's sequential tests. Every metric runs
// all of them on the same per-period likelihood ratios; a verdict says
// which one produced it.
type TestKind string

const (
	// TestFromStart weighs every period from the first one judged: the
	// quickest to convict a canary that is bad from its first request.
	TestFromStart TestKind = "from the start"
	// TestStep weighs the periods since the current step (the split's
	// last change) began: a step is a likely moment for a regression to
	// show, so it gets its own share of the budget.
	TestStep TestKind = "since the step began"
	// TestDetector is the change detector: evidence starting at any
	// period (a Shiryaev-Roberts e-detector), for a regression that
	// begins hours into a healthy canary.
	TestDetector TestKind = "change detector"
	// TestRecent is the power check behind PASS: the recent window alone
	// would have shown the configured regression.
	TestRecent TestKind = "recent window"
)

// The false-alarm budget alpha (per metric, alpha/metrics) is shared by
// the three tests as weights of one mixture, so the guarantee is for the
// verdict, whichever test fires:
//
//	S_t = shareFromStart*E_start + (shareSteps/steps)*E_step + (shareDetector/T)*R_t
//
// where each E is a mixture-of-likelihood-ratios martingale (expectation
// 1 under "the canary is no worse"), R_t is the Shiryaev-Roberts sum of
// such martingales over every start (so R_t - t is a martingale) and T is
// the horizon in periods. S is a nonnegative submartingale with
// E[S_T] <= 1, so by Doob's maximal inequality a healthy canary watched
// for T periods reaches S >= 1/alpha_m with probability at most alpha_m,
// alpha_m being the metric's part of alpha (metricAlpha). The shares are
// fixed in advance: the from-start test gets the most because the bar it
// must clear (log(1/(share alpha_m)), about 6 nats) is what a small
// regression from the first request pays in tens of periods; the detector
// clears log(T/(share alpha_m)), about 13.5 nats, where a share counts for
// less (a nat of it is a few percent); a step, a likely moment for a
// regression, gets a little of its own.
const (
	shareFromStart = 0.5
	shareSteps     = 0.05
	shareDetector  = 0.45
)

// TestEvidence is one test's evidence for one metric.
type TestEvidence struct {
	Test TestKind `json:"test"`
	// From is the first period the test weighs: the start, the step, or
	// for the detector the start that carries most of its evidence.
	From time.Time `json:"from"`
	// Evidence is the test's own e-value against "the canary is no
	// worse"; Threshold is the bar it alone would need to reach for FAIL
	// (its share of the budget). FAIL comes when the tests' evidence,
	// each as a fraction of its bar, adds up to 1.
	Evidence  float64 `json:"evidence"`
	Threshold float64 `json:"threshold"`
	logE      float64
	logBar    float64
}

// budget is what the tests of one metric share.
type budget struct {
	// alpha is the metric's part of the verdict's budget (see
	// metricShares).
	alpha float64
	// periods is the horizon T in periods (cfg.Horizon / cfg.Period).
	periods float64
	// steps bounds how many steps the rollout has (the plan's or the
	// ladder's length); 0 without a step test.
	steps int
}

// errorsWeight is the errors metric's weight in the split of alpha over
// the metrics, each other metric (latency, custom signals) weighing 1:
// with latency, errors get 64% and latency 36%. A failed request is what
// matters most to users and what the static alarms watch, and its counts
// are the sparser (0.5% of requests against latency's 1% above stable's
// p99), so a share of its budget buys more there; latency's regressions
// tend to move many requests at once and cross with room to spare.
const errorsWeight = 1.75

// metricAlpha is one metric's part of alpha (Bonferroni, weighted), given
// how many metrics besides errors are judged.
func metricAlpha(alpha float64, errors bool, others int) float64 {
	total := errorsWeight + float64(others)
	if errors {
		return alpha * errorsWeight / total
	}
	return alpha / total
}

func (b budget) forMetric(alpha float64) budget { b.alpha = alpha; return b }

// logBar is the log of the bar test must clear alone.
func (b budget) logBar(test TestKind) float64 {
	base := -math.Log(b.alpha)
	switch test {
	case TestFromStart:
		return base - math.Log(shareFromStart)
	case TestStep:
		return base + math.Log(float64(max(b.steps, 1))) - math.Log(shareSteps)
	}
	return base + math.Log(b.periods) - math.Log(shareDetector)
}

// trail is one metric's per-period log likelihood ratios, one per
// mixture component, with what each period would add under the
// configured regression (for the power behind PASS). Period i's values for
// component c are at i*len(mix)+c: one allocation per metric, not three
// per period, since the judge runs at every poll over hours of periods.
type trail struct {
	// mix is the grid of alternatives, weighted as the step test and the
	// change detector weigh them; startW is the from-start test's own
	// weights over the same grid (each test is its own e-process, so each
	// may have its own prior, fixed in advance).
	mix    []mixPoint
	startW []float64
	times  []time.Time
	logL   []float64
	// altMean and altSecond are the expected log likelihood ratio and
	// its second moment (or variance) per period under the configured
	// regression.
	altMean, altSecond []float64
}

// newTrail prepares a trail; startW nil gives the from-start test mix's
// weights.
func newTrail(mix []mixPoint, startW []float64, capacity int) *trail {
	k := len(mix)
	if startW == nil {
		startW = make([]float64, k)
		for c, m := range mix {
			startW[c] = m.w
		}
	}
	return &trail{mix: mix, startW: startW, times: make([]time.Time, 0, capacity), logL: make([]float64, 0, capacity*k),
		altMean: make([]float64, 0, capacity*k), altSecond: make([]float64, 0, capacity*k)}
}

// weights are test's weights over the grid.
func (l *trail) weights(test TestKind) []float64 {
	if test == TestFromStart {
		return l.startW
	}
	w := make([]float64, len(l.mix))
	for c, m := range l.mix {
		w[c] = m.w
	}
	return w
}

// next appends period t and returns its three rows to fill in.
func (l *trail) next(t time.Time) (logL, mean, second []float64) {
	k := len(l.mix)
	l.times = append(l.times, t)
	l.logL = slices.Grow(l.logL, k)[:len(l.logL)+k]
	l.altMean = slices.Grow(l.altMean, k)[:len(l.altMean)+k]
	l.altSecond = slices.Grow(l.altSecond, k)[:len(l.altSecond)+k]
	n := len(l.logL)
	return l.logL[n-k : n], l.altMean[n-k : n], l.altSecond[n-k : n]
}

// row is period i's log likelihood ratios.
func (l *trail) row(i int) []float64 { k := len(l.mix); return l.logL[i*k : (i+1)*k] }

// scope is where the tests start for one verdict.
type scope struct {
	// fromStart: the from-start test runs (its start is a fixed point:
	// see JudgeConfig.StartTestFor).
	fromStart bool
	// stepStart: the current step began here; zero for no step test.
	stepStart time.Time
}

// tests runs the three tests over l and returns their evidence (absent
// tests left out) and the log of the combined score S (FAIL at >= 0).
func (l *trail) tests(b budget, sc scope) ([]TestEvidence, float64) {
	k := len(l.mix)
	sumA := make([]float64, k)
	sumS := make([]float64, k)
	logR := make([]float64, k)  // Shiryaev-Roberts, per component
	cusum := make([]float64, k) // the matching CUSUM, for where evidence starts
	cusumFrom := make([]int, k)
	for c := range logR {
		logR[c] = math.Inf(-1)
	}
	stepFrom := -1
	for i, t := range l.times {
		inStep := !sc.stepStart.IsZero() && !t.Before(sc.stepStart)
		if inStep && stepFrom < 0 {
			stepFrom = i
		}
		for c, x := range l.row(i) {
			sumA[c] += x
			if inStep {
				sumS[c] += x
			}
			// R_t = (R_{t-1} + 1) L_t: every period is a possible start.
			logR[c] = math.Min(logAddExp(logR[c], 0)+x, maxLogE)
			if cusum[c] <= 0 {
				cusum[c], cusumFrom[c] = 0, i
			}
			cusum[c] += x
		}
	}
	var out []TestEvidence
	if sc.fromStart && len(l.times) > 0 {
		out = append(out, l.evidence(TestFromStart, l.times[0], logMixtureW(sumA, l.startW), b))
	}
	if stepFrom >= 0 {
		out = append(out, l.evidence(TestStep, l.times[stepFrom], logMixture(sumS, l.mix), b))
	}
	if len(l.times) > 0 {
		// The start most of the detector's evidence comes from: the
		// CUSUM's of the component that weighs most in the sum.
		best := 0
		for c := range logR {
			if logR[c]+math.Log(l.mix[c].w) > logR[best]+math.Log(l.mix[best].w) {
				best = c
			}
		}
		out = append(out, l.evidence(TestDetector, l.times[cusumFrom[best]], logMixture(logR, l.mix), b))
	}
	score := math.Inf(-1)
	for _, te := range out {
		score = logAddExp(score, te.logE-te.logBar)
	}
	return out, score
}

func (l *trail) evidence(test TestKind, from time.Time, logE float64, b budget) TestEvidence {
	bar := b.logBar(test)
	return TestEvidence{Test: test, From: from, Evidence: math.Exp(logE), Threshold: math.Exp(bar), logE: logE, logBar: bar}
}

// decisive is the test whose evidence is the largest fraction of its bar.
func decisive(tests []TestEvidence) (TestEvidence, bool) {
	var best TestEvidence
	found := false
	for _, te := range tests {
		if !found || te.logE-te.logBar > best.logE-best.logBar {
			best, found = te, true
		}
	}
	return best, found
}

// power says whether the periods from index from on would, under the
// configured regression, have taken test over its bar with probability
// z's power (the normal approximation of extraNeeded), and how many more
// units of data (perUnit moments each) it would take otherwise.
func (l *trail) power(from int, test TestKind, bar, z float64, perMean, perSecond []float64) (extra float64) {
	extra = math.Inf(1)
	for c, w := range l.weights(test) {
		var M, V float64
		k := len(l.mix)
		for i := from; i < len(l.times); i++ {
			M += l.altMean[i*k+c]
			V += l.altSecond[i*k+c]
		}
		pm, pv := 0.0, 0.0
		if perMean != nil {
			pm, pv = perMean[c], perSecond[c]
		}
		extra = math.Min(extra, extraNeeded(M, V, pm, pv, bar-math.Log(w), z))
	}
	return extra
}

// index is the first period at or after t.
func (l *trail) index(t time.Time) int {
	for i, pt := range l.times {
		if !pt.Before(t) {
			return i
		}
	}
	return len(l.times)
}

// logAddExp is log(exp(a) + exp(b)) without overflow.
func logAddExp(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}
