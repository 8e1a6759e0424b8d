package model

import (
	"fmt"
	"math"
	"time"
)

// errorMixture is the prior over the canary/stable error-rate ratio theta
// that the error-rate e-process mixes over. It is a grid around the
// regression that matters (theta*), reaching far above it: a large
// regression then crosses the bar within a period or two through the high
// components, while theta* itself, weighted most, sets the cost of
// detecting the configured regression (each component pays log(1/w) extra
// evidence). Weights sum to 1.
func errorMixture(thetaStar float64) []mixPoint {
	xs := []float64{thetaStar, 1.5 * thetaStar, 2.5 * thetaStar, 5 * thetaStar, 10 * thetaStar, 25 * thetaStar}
	if lo := thetaStar / 1.5; lo > 1.05 {
		xs = append(xs, lo)
	}
	mix := make([]mixPoint, len(xs))
	const head = 0.3
	for i, x := range xs {
		w := (1 - head) / float64(len(xs)-1)
		if i == 0 {
			w = head
		}
		mix[i] = mixPoint{x: x, w: w}
	}
	return mix
}

// shareUnder is the canary's share of errors when its error rate is theta
// times stable's and its share of requests is p0.
func shareUnder(theta, p0 float64) float64 {
	return theta * p0 / (theta*p0 + 1 - p0)
}

// count reads a per-period count: missing is zero, and counts are whole.
func count(v float64) float64 {
	if !(v > 0) {
		return 0
	}
	return math.Round(v)
}

// judgeErrors runs the conditional binomial e-process on 5xx counts.
//
// In a period where the canary served n_c requests and stable n_s, given
// the total errors e of both sides, the canary's errors are
// Binomial(e, p0) with p0 = n_c/(n_c+n_s) if both sides fail at the same
// rate, and Binomial(e, p1(theta)) if the canary fails theta times as
// often. The product over periods of the likelihood ratio p1-vs-p0, mixed
// over theta by errorMixture, is a nonnegative martingale under "equal
// rates" (and a supermartingale when the canary is better, as the ratio
// grows with the canary's count), so by Ville's inequality it ever reaches
// 1/alpha with probability at most alpha. Conditioning on each period's
// traffic makes weight changes between periods harmless.
func judgeErrors(sig Signals, cfg JudgeConfig, threshold float64, tr rate) MetricVerdict {
	mv := MetricVerdict{Signal: Errors5xx, Threshold: threshold, EffectSize: math.NaN()}
	a := alignSince(cfg.Since,
		sig[Canary][Requests], sig[Stable][Requests],
		sig[Canary][Errors5xx], sig[Stable][Errors5xx])
	mix := errorMixture(cfg.MinRelativeRegression)
	logL := make([]float64, len(mix))

	logTheta := make([]float64, len(mix))
	for k, m := range mix {
		logTheta[k] = math.Log(m.x)
	}
	// With p1 = theta p0 / (theta p0 + 1 - p0), both log ratios share one
	// logarithm, d = log(theta p0 + 1 - p0):
	//   log(p1/p0) = log(theta) - d,   log((1-p1)/(1-p0)) = -d
	// so each period costs one log per component, kept for the power sums.
	type period struct{ nc, ns float64 }
	periods := make([]period, 0, len(a.times))
	logD := make([]float64, 0, len(a.times)*len(mix))
	var nc, ns, ec, es float64
	var nsAll, esAll float64 // stable's rate, from every period it served
	for i := range a.times {
		c, s := a.vals[0][i], a.vals[1][i]
		if s > 0 {
			nsAll += s
			esAll += math.Min(count(a.vals[3][i]), math.Round(s))
		}
		if !(c > 0) || !(s > 0) {
			continue // a side without traffic compares with nothing
		}
		periods = append(periods, period{c, s})
		eC := math.Min(count(a.vals[2][i]), math.Round(c))
		eS := math.Min(count(a.vals[3][i]), math.Round(s))
		nc, ns, ec, es = nc+c, ns+s, ec+eC, es+eS
		p0 := c / (c + s)
		for k, m := range mix {
			d := math.Log1p(p0 * (m.x - 1))
			logD = append(logD, d)
			logL[k] += eC*(logTheta[k]-d) - eS*d
		}
	}
	logE := logMixture(logL, mix)
	mv.Evidence = math.Exp(logE)
	mv.CanaryRequests = nc
	mv.Periods = len(periods)
	mv.Effect, mv.EffectSize = errorEffect(nc, ns, ec, es)

	if logE >= math.Log(threshold) {
		mv.Kind = VerdictFail
		mv.NeededRequests = nc
		mv.Summary = fmt.Sprintf("%s %s, evidence %s ≥ %s", Errors5xx.Label(), mv.Effect, formatE(mv.Evidence), formatE(threshold))
		return mv
	}

	// Power: how much evidence the data so far would have produced had the
	// canary been regressed by the configured amount, and how many more
	// canary requests at the current share would make up the rest. The
	// stable rate comes from all of stable's traffic since Since; with
	// fewer than three stable errors it is taken at the rule of three's 95%
	// bound, 3/n_s, rather than at (near) zero.
	target := fmt.Sprintf("%gx errors", cfg.MinRelativeRegression)
	if nsAll == 0 {
		mv.Kind = VerdictInsufficient
		mv.NeededRequests = math.Inf(1)
		mv.ETA = -1
		mv.Summary = fmt.Sprintf("%s: no stable traffic to compare with", Errors5xx.Label())
		return mv
	}
	// From a handful of stable requests the bound exceeds any real rate;
	// capping it at one half keeps a regression above it possible.
	rs := math.Min(math.Max(esAll, 3)/nsAll, 0.5)
	r1 := cfg.MinRelativeRegression * rs
	if r1 < rs+cfg.MinAbsoluteRegression {
		r1 = rs + cfg.MinAbsoluteRegression
		target = fmt.Sprintf("+%s errors", FormatPercent(100*cfg.MinAbsoluteRegression))
	}
	r1 = math.Min(r1, 1)
	M := make([]float64, len(mix))
	V := make([]float64, len(mix))
	for i, p := range periods {
		lambda := p.nc*r1 + p.ns*rs // expected errors under the alternative
		pt := p.nc * r1 / lambda
		for k := range mix {
			d := logD[i*len(mix)+k]
			a, b := logTheta[k]-d, -d
			M[k] += lambda * (pt*a + (1-pt)*b)
			V[k] += lambda * (pt*a*a + (1-pt)*b*b)
		}
	}
	z := normalQuantile(cfg.Power)
	extra := math.Inf(1)
	q := tr.share
	for k, m := range mix {
		var mk, vk float64
		if q > 0 && q < 1 {
			lambda := r1 + rs*(1-q)/q // errors per canary request
			g, s2 := perErrorMoments(r1/lambda, shareUnder(m.x, q), q)
			mk, vk = lambda*g, lambda*s2
		}
		extra = math.Min(extra, extraNeeded(M[k], V[k], mk, vk, math.Log(threshold/m.w), z))
	}
	if extra > 0 && !math.IsInf(extra, 1) {
		// Only canary requests in periods where stable also served count;
		// at low traffic that is a small fraction of them.
		extra /= tr.paired
	}
	if math.IsNaN(extra) {
		extra = math.Inf(1)
	}
	mv.NeededRequests = nc + extra
	if extra == 0 {
		mv.Kind = VerdictPass
		mv.Summary = fmt.Sprintf("%s %s; %s would have shown within %s canary requests", Errors5xx.Label(), mv.Effect, target, formatCount(nc))
		return mv
	}
	mv.Kind = VerdictInsufficient
	mv.ETA = tr.eta(extra)
	mv.Summary = fmt.Sprintf("%s: ~%s more canary requests to detect %s%s", Errors5xx.Label(), formatCount(extra), target, etaNote(mv.ETA, tr))
	return mv
}

// perErrorMoments is the mean and second moment, per error, of the log
// likelihood ratio of share pk against p0 when errors land on the canary
// with probability pt. The second moment (not the variance) is what a
// Poisson number of errors needs.
func perErrorMoments(pt, pk, p0 float64) (mean, second float64) {
	a := math.Log(pk / p0)
	b := math.Log((1 - pk) / (1 - p0))
	return pt*a + (1-pt)*b, pt*a*a + (1-pt)*b*b
}

func errorEffect(nc, ns, ec, es float64) (string, float64) {
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
	if !math.IsInf(ratio, 1) && (ratio >= 1.05 || ratio <= 0.95) {
		s += fmt.Sprintf(" (%.1fx)", ratio)
	}
	return s, ratio
}

// ratePct prints an error rate with enough digits for small ones.
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

// etaNote says how long the remaining requests take, for a summary.
func etaNote(eta time.Duration, tr rate) string {
	switch {
	case eta < 0:
		return " (no canary traffic now)"
	case tr.perMinute >= 10:
		return fmt.Sprintf(" (~%s at %s/min)", formatETA(eta), formatCount(tr.perMinute))
	case tr.perMinute >= 0.1:
		return fmt.Sprintf(" (~%s at %.1f/min)", formatETA(eta), tr.perMinute)
	}
	return fmt.Sprintf(" (~%s at %.1f/h)", formatETA(eta), 60*tr.perMinute)
}
