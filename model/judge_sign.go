package model

import (
	"fmt"
	"math"
	"time"
)

// signMixture is the prior over q, the chance that a period counts against
// the canary, under the alternative "the canary is worse". Equal weights
// over a grid from barely worse to nearly always worse.
var signGrid = [...]float64{0.6, 0.7, 0.8, 0.9, 0.97}

func signMixture() []mixPoint {
	mix := make([]mixPoint, len(signGrid))
	for i, q := range signGrid {
		mix[i] = mixPoint{x: q, w: 1 / float64(len(signGrid))}
	}
	return mix
}

// judgeSign runs a sequential sign test on a per-period signal.
//
// A period counts against the canary ("+") when its value is worse than
// stable's by more than the tolerance. If the canary is no worse than that
// tolerance, each period is "+" with probability at most 1/2, whatever the
// shape or scale of the noise; the likelihood ratio of Bernoulli(q) against
// Bernoulli(1/2), mixed over q > 1/2, is then a nonnegative supermartingale
// and FAILs with probability at most 1/threshold at any look. It assumes
// periods are independent given the true difference; a warming-up canary
// (slow first minutes) is a real difference, and Since should start after
// any warm-up the operator expects.
//
// minReq > 0 guards quantile signals: see JudgeConfig.LatencyMinRequests.
func judgeSign(sig Signals, cs CustomSignal, minReq float64, cfg JudgeConfig, threshold float64, tr rate) MetricVerdict {
	mv := MetricVerdict{Signal: cs.Name, Threshold: threshold, EffectSize: math.NaN()}
	a := alignSince(cfg.Since,
		sig[Canary][cs.Name], sig[Stable][cs.Name],
		sig[Canary][Requests], sig[Stable][Requests])
	mix := signMixture()

	var k, plus, recent int
	var canaryReq float64
	ratios := make([]float64, 0, len(a.times))
	for i, t := range a.times {
		vc, vs := a.vals[0][i], a.vals[1][i]
		if math.IsNaN(vc) || math.IsNaN(vs) {
			continue
		}
		nc, ns := a.vals[2][i], a.vals[3][i]
		if minReq > 0 && !math.IsNaN(ns) && ns < minReq && !(ns >= nc) {
			continue
		}
		k++
		if !t.Before(tr.start) && t.Before(tr.end) {
			recent++
		}
		if nc > 0 {
			canaryReq += nc
		}
		tol := cs.Tolerance * math.Abs(vs)
		if (cs.HigherIsWorse && vc > vs+tol) || (!cs.HigherIsWorse && vc < vs-tol) {
			plus++
		}
		if vs != 0 {
			ratios = append(ratios, vc/vs)
		}
	}
	logL := make([]float64, len(mix))
	for j, m := range mix {
		logL[j] = float64(plus)*math.Log(2*m.x) + float64(k-plus)*math.Log(2*(1-m.x))
	}
	logE := logMixture(logL, mix)
	mv.Evidence = math.Exp(logE)
	mv.Periods = k
	mv.CanaryRequests = canaryReq
	mv.EffectSize = median(ratios)
	mv.Effect = signEffect(cs, mv.EffectSize, plus, k)

	if logE >= math.Log(threshold) {
		mv.Kind = VerdictFail
		mv.NeededPeriods = float64(k)
		mv.NeededRequests = canaryReq
		mv.Summary = fmt.Sprintf("%s %s, evidence %s ≥ %s", cs.Name.Label(), mv.Effect, formatE(mv.Evidence), formatE(threshold))
		return mv
	}

	// Power against "worse in SignAlternative of the periods": each period
	// adds a fixed expected log likelihood ratio, so the periods needed
	// follow from extraNeeded with one unit per compared period.
	pa := cfg.SignAlternative
	z := normalQuantile(cfg.Power)
	extra := math.Inf(1)
	for _, m := range mix {
		up, down := math.Log(2*m.x), math.Log(2*(1-m.x))
		g := pa*up + (1-pa)*down
		v := pa * (1 - pa) * (up - down) * (up - down)
		extra = math.Min(extra, extraNeeded(float64(k)*g, float64(k)*v, g, v, math.Log(threshold/m.w), z))
	}
	extra = math.Ceil(extra)
	mv.NeededPeriods = float64(k) + extra
	if extra == 0 {
		mv.Kind = VerdictPass
		mv.NeededRequests = canaryReq
		mv.Summary = fmt.Sprintf("%s %s", cs.Name.Label(), mv.Effect)
		return mv
	}
	mv.Kind = VerdictInsufficient
	perPeriod := tr.perMinute * tr.period.Minutes()
	mv.NeededRequests = canaryReq + extra*perPeriod
	if perPeriod == 0 {
		mv.NeededRequests = math.Inf(1)
	}
	// Periods arrive at the rate the recent window compared them.
	mv.ETA = -1
	if recent > 0 {
		window := tr.end.Sub(tr.start)
		mv.ETA = time.Duration(extra * float64(window) / float64(recent))
	}
	when := " (none comparable recently)"
	if mv.ETA >= 0 {
		when = fmt.Sprintf(" (~%s)", formatETA(mv.ETA))
	}
	if k == 0 {
		mv.Summary = fmt.Sprintf("%s: no periods with data on both sides yet; ~%.0f needed%s", cs.Name.Label(), extra, when)
		return mv
	}
	mv.Summary = fmt.Sprintf("%s: ~%.0f more periods with data on both sides%s", cs.Name.Label(), extra, when)
	return mv
}

func signEffect(cs CustomSignal, ratio float64, plus, k int) string {
	s := fmt.Sprintf("worse by >%s in %d of %d periods", FormatPercent(100*cs.Tolerance), plus, k)
	if !math.IsNaN(ratio) {
		s = fmt.Sprintf("canary %.2fx stable, ", ratio) + s
	}
	return s
}
