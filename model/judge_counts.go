package model

import (
	"fmt"
	"math"
	"time"
)

// countMixture is the grid of canary/stable rate ratios theta that a count
// metric's e-processes mix over, reaching far above the regression that
// matters (theta*), with the weights the step test and the change detector
// give them; countStartWeights are the from-start test's. Each component
// pays log(1/w) extra evidence, once, so the weights say where the budget
// is spent:
//   - the from-start test puts most on theta* itself: a small regression
//     from the first request is what it alone catches soon, in tens of
//     periods, and a 2x canary is the most common bad deploy; a large one
//     clears its low bar (about six nats) in two periods anyway;
//   - the detector's bar is about thirteen nats, where a large regression
//     that starts late must cross in as few periods as the counts allow
//     (three at 100 canary requests a minute and 10x errors), so the large
//     ratios weigh most; theta* keeps a fifth, which sets the power behind
//     a PASS on the recent window.
//
// Weights sum to 1 in both.
func countMixture(thetaStar float64) []mixPoint {
	return []mixPoint{
		{thetaStar, 0.2},
		{1.5 * thetaStar, 0.1},
		{2.5 * thetaStar, 0.3},
		{5 * thetaStar, 0.3},
		{10 * thetaStar, 0.07},
		{25 * thetaStar, 0.03},
	}
}

// countStartWeights are the from-start test's weights over countMixture.
func countStartWeights() []float64 { return []float64{0.55, 0.15, 0.12, 0.12, 0.04, 0.02} }

// shareUnder is the canary's share of the counted requests when its rate
// is theta times stable's and its share of requests is p0.
func shareUnder(theta, p0 float64) float64 {
	return theta * p0 / (theta*p0 + 1 - p0)
}

// countSpec says what a count metric counts.
type countSpec struct {
	signal Signal // counted per period: Errors5xx or SlowRequests
	// missingIsZero: a period with requests and no count had none (ALB
	// publishes no zero 5xx count). Otherwise a missing count is no data.
	missingIsZero bool
	// what the counted requests are, for people: "errors", "slower than
	// 180 ms".
	what string
}

// countPeriod is one period both sides served in, with its counts.
type countPeriod struct {
	t              time.Time
	nc, ns, ec, es float64
}

// judgeCounts runs the conditional binomial tests on a count: 5xx errors,
// or requests slower than a threshold.
//
// In a period where the canary served n_c requests and stable n_s, given
// the total count e of both sides, the canary's part is Binomial(e, p0)
// with p0 = n_c/(n_c+n_s) if both sides have the same rate, and
// Binomial(e, p1(theta)) if the canary's rate is theta times stable's. The
// likelihood ratio p1-vs-p0 of each period, mixed over theta by
// countMixture, feeds the three tests (see judge_detect.go); each is a
// nonnegative martingale under "equal rates" (a supermartingale when the
// canary is better, as the ratio grows with the canary's count).
// Conditioning on each period's traffic makes weight changes between
// periods harmless, and on each period's total makes a common-mode burst
// (both sides failing together) no evidence at all.
func judgeCounts(sig Signals, spec countSpec, j *judging, b budget) MetricVerdict {
	cfg := j.cfg
	mv := MetricVerdict{Signal: spec.signal, EffectSize: math.NaN()}
	periods, nsAll, esAll, invalid := countPeriods(sig, spec, cfg.Since)
	mv.Invalid = invalid
	if nsAll == 0 {
		mv.Kind = VerdictInsufficient
		mv.NeededRequests = math.Inf(1)
		mv.ETA = -1
		mv.Summary = fmt.Sprintf("%s: no stable traffic to compare with", spec.signal.Label())
		if mv.Invalid != "" {
			mv.Summary += "; refused data: " + mv.Invalid
		}
		return mv
	}
	rs, r1, target := countRates(cfg, nsAll, esAll, spec.what)
	mix := countMixture(cfg.MinRelativeRegression)
	tr := countTrail(periods, mix, rs, r1)
	tests, score := tr.tests(b, j.scope)
	mv.Tests = tests
	if score >= 0 {
		return countFail(mv, periods, tests, score, cfg.Period, spec)
	}
	return countRecent(mv, periods, tr, mix, rs, r1, target, spec, j, b)
}

// countPeriods reads the periods both sides served with their counts,
// and stable's totals over every period it served; invalid says why a
// period's numbers cannot be counts ("" if none).
func countPeriods(sig Signals, spec countSpec, since time.Time) (periods []countPeriod, nsAll, esAll float64, invalid string) {
	a := alignSince(since,
		sig[Canary][Requests], sig[Stable][Requests],
		sig[Canary][spec.signal], sig[Stable][spec.signal])
	names := [4]string{"canary requests", "stable requests", "canary " + spec.signal.Label(), "stable " + spec.signal.Label()}

	for i, t := range a.times {
		var v [4]float64
		bad := ""
		for s := range v {
			v[s] = a.vals[s][i]
			if !a.has[s][i] {
				continue
			}
			if why := badCount(v[s]); why != "" {
				bad = fmt.Sprintf("%s at %s is %s", names[s], t.UTC().Format("15:04"), why)
			}
		}
		for s := 2; s < 4 && bad == ""; s++ {
			if !a.has[s][i] {
				v[s] = math.NaN()
				if spec.missingIsZero && a.has[s-2][i] {
					v[s] = 0
				}
			} else if !(v[s] <= v[s-2]) {
				bad = fmt.Sprintf("%s at %s is %g, more than its %g requests", names[s], t.UTC().Format("15:04"), v[s], v[s-2])
			}
		}
		if bad != "" {
			// A count that cannot be a count says the data is broken:
			// weigh none of that period, and never PASS on the rest.
			if invalid == "" {
				invalid = bad
			}
			continue
		}
		c, s, ec, es := v[0], v[1], v[2], v[3]
		if s > 0 && !math.IsNaN(es) {
			nsAll += s
			esAll += es
		}
		if !(c > 0) || !(s > 0) || math.IsNaN(ec) || math.IsNaN(es) {
			continue // a side without traffic compares with nothing
		}
		periods = append(periods, countPeriod{t: t, nc: c, ns: s, ec: ec, es: es})
	}

	return periods, nsAll, esAll, invalid
}

// countRates is stable's rate rs and the regressed rate r1 that a PASS
// must rule out, with its description.
func countRates(cfg JudgeConfig, nsAll, esAll float64, what string) (rs, r1 float64, target string) {
	// The rate PASS must rule out: theta* times stable's, or stable's plus
	// the absolute floor, whichever is larger. Stable's rate comes from all
	// its traffic judged; with fewer than three counted it is taken at the
	// rule of three's 95% bound, 3/n_s, rather than at (near) zero, and
	// capped at one half so a regression above it stays possible.
	rs = math.Min(math.Max(esAll, 3)/nsAll, 0.5)
	r1 = cfg.MinRelativeRegression * rs
	target = fmt.Sprintf("%gx %s", cfg.MinRelativeRegression, what)
	if r1 < rs+cfg.MinAbsoluteRegression {
		r1 = rs + cfg.MinAbsoluteRegression
		target = fmt.Sprintf("+%s %s", FormatPercent(100*cfg.MinAbsoluteRegression), what)
	}
	r1 = math.Min(r1, 1)
	return rs, r1, target
}

// countTrail feeds each period's likelihood ratios, and their moments
// under the regression r1, to the tests' trail.
func countTrail(periods []countPeriod, mix []mixPoint, rs, r1 float64) *trail {
	logTheta := make([]float64, len(mix))
	for k, m := range mix {
		logTheta[k] = math.Log(m.x)
	}
	tr := newTrail(mix, countStartWeights(), len(periods))
	for _, p := range periods {
		p0 := p.nc / (p.nc + p.ns)
		lambda := p.nc*r1 + p.ns*rs // expected count under the regression
		pt := p.nc * r1 / lambda
		logL, mean, second := tr.next(p.t)
		for k, m := range mix {
			// With p1 = theta p0 / (theta p0 + 1 - p0), both log ratios
			// share d = log(theta p0 + 1 - p0):
			//   log(p1/p0) = log(theta) - d,   log((1-p1)/(1-p0)) = -d
			d := math.Log1p(p0 * (m.x - 1))
			up, down := logTheta[k]-d, -d
			logL[k] = p.ec*up + p.es*down
			mean[k] = lambda * (pt*up + (1-pt)*down)
			second[k] = lambda * (pt*up*up + (1-pt)*down*down)
		}
	}
	return tr
}

// countFail is the verdict when a test has crossed its bar.
func countFail(mv MetricVerdict, periods []countPeriod, tests []TestEvidence, score float64, period time.Duration, spec countSpec) MetricVerdict {
	dec, _ := decisive(tests)
	mv.Kind = VerdictFail
	mv.Test, mv.From, mv.To = dec.Test, dec.From, periodsEnd(periods, period)
	mv.Evidence, mv.Threshold = math.Exp(math.Min(score+dec.logBar, maxLogE)), dec.Threshold
	nc, _ := countTotals(periods, dec.From)
	mv.CanaryRequests, mv.NeededRequests = nc, nc
	mv.Effect, mv.EffectSize = countEffect(periods, dec.From, spec.what)
	mv.Summary = fmt.Sprintf("%s %s, %s, evidence %s ≥ %s", spec.signal.Label(), mv.Effect,
		testPhrase(dec.Test, dec.From), formatE(mv.Evidence), formatE(mv.Threshold))
	return mv
}

// countRecent is PASS when the recent window alone would have shown the
// regression, and otherwise INSUFFICIENT with the canary requests still
// needed.
func countRecent(mv MetricVerdict, periods []countPeriod, tr *trail, mix []mixPoint, rs, r1 float64, target string,
	spec countSpec, j *judging, b budget) MetricVerdict {
	cfg := j.cfg
	// PASS: the recent window alone would have shown the regression.
	ws := j.windowStart()
	var perMean, perSecond []float64
	if q := j.tr.share; q > 0 && q < 1 {
		lambda := r1 + rs*(1-q)/q // counted requests per canary request
		perMean, perSecond = make([]float64, len(mix)), make([]float64, len(mix))
		for k, m := range mix {
			g, s2 := perCountMoments(r1/lambda, shareUnder(m.x, q), q)
			perMean[k], perSecond[k] = lambda*g, lambda*s2
		}
	}
	pc := tr.passCheck(b, j.scope, ws, normalQuantile(cfg.Power), perMean, perSecond)
	nc, _ := countTotals(periods, pc.from)
	mv.CanaryRequests = nc
	mv.Test, mv.From, mv.To = pc.test, pc.from, j.now
	mv.Effect, mv.EffectSize = countEffect(periods, pc.from, spec.what)
	if dec, ok := decisive(mv.Tests); ok {
		mv.Evidence, mv.Threshold = dec.Evidence, dec.Threshold
	}
	extra := pc.extra
	if extra > 0 && !math.IsInf(extra, 1) {
		// Only canary requests in periods where stable also served count;
		// at low traffic that is a small fraction of them.
		extra /= j.tr.paired
	}
	if math.IsNaN(extra) {
		extra = math.Inf(1)
	}
	mv.NeededRequests = nc + extra
	if extra == 0 && mv.Invalid == "" {
		mv.Kind = VerdictPass
		mv.Summary = fmt.Sprintf("%s %s; %s would have shown %s (%s canary requests)", spec.signal.Label(), mv.Effect, target,
			windowPhrase(pc, j.now), formatCount(nc))
		return mv
	}
	mv.Kind = VerdictInsufficient
	if mv.Invalid != "" {
		mv.ETA = -1
		mv.Summary = fmt.Sprintf("%s: refused data (%s), so no PASS", spec.signal.Label(), mv.Invalid)
		return mv
	}
	mv.ETA = j.recentETA(pc, nc, extra)
	mv.Summary = fmt.Sprintf("%s: ~%s more canary requests %s to rule out %s%s", spec.signal.Label(), formatCount(extra),
		windowPhrase(pc, j.now), target, etaNote(mv.ETA, j.tr, pc.grows))
	return mv
}

// badCount says why v cannot be a count of requests ("" if it can).
func badCount(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 0):
		return fmt.Sprint(v)
	case v < 0:
		return fmt.Sprintf("%g, below zero", v)
	case math.Abs(v-math.Round(v)) > 1e-9*math.Max(1, v):
		return fmt.Sprintf("%g, not a whole number", v)
	}
	return ""
}

// countTotals adds up the canary's requests and counts from from on.
func countTotals(ps []countPeriod, from time.Time) (nc, ec float64) {
	for _, p := range ps {
		if !p.t.Before(from) {
			nc += p.nc
			ec += p.ec
		}
	}
	return nc, ec
}

// periodsEnd is the end of the newest period.
func periodsEnd(ps []countPeriod, period time.Duration) time.Time {
	if len(ps) == 0 {
		return time.Time{}
	}
	return ps[len(ps)-1].t.Add(period)
}

// perCountMoments is the mean and second moment, per counted request, of
// the log likelihood ratio of share pk against p0 when they land on the
// canary with probability pt. The second moment (not the variance) is
// what a Poisson number of counted requests needs.
func perCountMoments(pt, pk, p0 float64) (mean, second float64) {
	a := math.Log(pk / p0)
	b := math.Log((1 - pk) / (1 - p0))
	return pt*a + (1-pt)*b, pt*a*a + (1-pt)*b*b
}

// countEffect compares the canary's rate with stable's over the periods
// from from on.
func countEffect(ps []countPeriod, from time.Time, what string) (string, float64) {
	var nc, ns, ec, es float64
	for _, p := range ps {
		if !p.t.Before(from) {
			nc, ns, ec, es = nc+p.nc, ns+p.ns, ec+p.ec, es+p.es
		}
	}
	if nc == 0 || ns == 0 {
		return "no traffic on both sides", math.NaN()
	}
	rc, rs := ec/nc, es/ns
	ratio := rc / rs
	switch {
	case rs == 0 && rc == 0:
		ratio = 1
	case rs == 0:
		ratio = math.Inf(1)
	}
	s := fmt.Sprintf("canary %s vs stable %s", ratePct(rc), ratePct(rs))
	if what != "errors" {
		s += " " + what
	}
	if !math.IsInf(ratio, 1) && (ratio >= 1.05 || ratio <= 0.95) {
		s += fmt.Sprintf(" (%.1fx)", ratio)
	}
	return s, ratio
}

// ratePct prints a rate with enough digits for small ones.
func ratePct(r float64) string {
	switch p := 100 * r; {
	case p == 0:
		return "0%"
	case p < 0.1:
		return fmt.Sprintf("%.3f%%", p)
	case p < 10:
		return fmt.Sprintf("%.2f%%", p)
	default:
		return fmt.Sprintf("%.1f%%", p)
	}
}
