package model

import (
	"fmt"
	"math"
	"time"
)

// signGrid is the prior over q, the chance that a period counts against
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

// judgeSign runs the sequential sign tests on a per-period signal: latency
// p99 where the slow-request counts are not available, and custom signals.
//
// A period counts against the canary ("+") when its value is worse than
// stable's by more than the tolerance. If the canary is no worse than that
// tolerance, each period is "+" with probability at most 1/2, whatever the
// shape or scale of the noise; the likelihood ratio of Bernoulli(q) against
// Bernoulli(1/2), mixed over q > 1/2, is then a nonnegative supermartingale,
// and feeds the same three tests as the counts (judge_detect.go). It
// assumes periods are independent given the true difference; a warming-up
// canary (slow first minutes) is a real difference, and Since should start
// after any warm-up the operator expects.
//
// minReq > 0 guards quantile signals: see JudgeConfig.LatencyMinRequests.
func judgeSign(sig Signals, cs CustomSignal, minReq float64, j *judging, b budget) MetricVerdict {
	cfg := j.cfg
	mv := MetricVerdict{Signal: cs.Name, EffectSize: math.NaN()}
	a := alignSince(cfg.Since,
		sig[Canary][cs.Name], sig[Stable][cs.Name],
		sig[Canary][Requests], sig[Stable][Requests])
	w := newSignWeights(cfg.SignAlternative)
	tr, ps := signTrail(a, cs, minReq, w)

	tests, score := tr.tests(b, j.scope)
	mv.Tests = tests
	if score >= 0 {
		dec, _ := decisive(tests)
		k, req := ps.summarise(&mv, cs, dec.From)
		mv.Kind = VerdictFail
		mv.Test, mv.From, mv.To = dec.Test, dec.From, tr.times[len(tr.times)-1].Add(cfg.Period)
		mv.Evidence, mv.Threshold = math.Exp(math.Min(score+dec.logBar, maxLogE)), dec.Threshold
		mv.Periods, mv.NeededPeriods = k, float64(k)
		mv.CanaryRequests, mv.NeededRequests = req, req
		mv.Summary = fmt.Sprintf("%s %s, %s, evidence %s ≥ %s", cs.Name.Label(), mv.Effect,
			testPhrase(dec.Test, dec.From), formatE(mv.Evidence), formatE(mv.Threshold))
		return mv
	}

	ws := j.windowStart()
	pc := tr.passCheck(b, j.scope, ws, normalQuantile(cfg.Power), w.altMean, w.altVar)
	k, req := ps.summarise(&mv, cs, pc.from)
	mv.Periods, mv.CanaryRequests = k, req
	mv.Test, mv.From, mv.To = pc.test, pc.from, j.now
	if dec, ok := decisive(tests); ok {
		mv.Evidence, mv.Threshold = dec.Evidence, dec.Threshold
	}
	extra := math.Ceil(pc.extra)
	mv.NeededPeriods = float64(k) + extra
	if extra == 0 {
		mv.Kind = VerdictPass
		mv.NeededRequests = req
		mv.Summary = fmt.Sprintf("%s %s %s", cs.Name.Label(), mv.Effect, windowPhrase(pc, j.now))
		return mv
	}
	return signInsufficient(mv, ps, pc, k, req, extra, cs, j)
}

// signWeights are, per mixture component, the log ratios of a worse and
// a not-worse period, and what a period adds under "worse in
// SignAlternative of the periods": the mean and variance of its log
// likelihood ratio.
type signWeights struct {
	mix                       []mixPoint
	up, down, altMean, altVar []float64
}

func newSignWeights(pa float64) signWeights {
	mix := signMixture()
	w := signWeights{mix: mix, up: make([]float64, len(mix)), down: make([]float64, len(mix)),
		altMean: make([]float64, len(mix)), altVar: make([]float64, len(mix))}
	for k, m := range mix {
		w.up[k], w.down[k] = math.Log(2*m.x), math.Log(2*(1-m.x))
		w.altMean[k] = pa*w.up[k] + (1-pa)*w.down[k]
		w.altVar[k] = pa * (1 - pa) * (w.up[k] - w.down[k]) * (w.up[k] - w.down[k])
	}
	return w
}

// signPeriod is one period compared: whether the canary was worse, its
// requests, and the canary-to-stable ratio where stable's value is not 0.
type signPeriod struct {
	t         time.Time
	plus      bool
	canaryReq float64
	ratio     float64
	hasRatio  bool
}

type signPeriods []signPeriod

// signTrail compares the sides period by period and feeds the trail.
func signTrail(a aligned, cs CustomSignal, minReq float64, w signWeights) (*trail, signPeriods) {
	tr := newTrail(w.mix, nil, len(a.times))
	var ps signPeriods
	for i, t := range a.times {
		vc, vs := a.vals[0][i], a.vals[1][i]
		if math.IsNaN(vc) || math.IsNaN(vs) || math.IsInf(vc, 0) || math.IsInf(vs, 0) {
			continue
		}
		nc, ns := a.vals[2][i], a.vals[3][i]
		if minReq > 0 && !math.IsNaN(ns) && ns < minReq && !(ns >= nc) {
			continue
		}
		tol := cs.Tolerance * math.Abs(vs)
		p := signPeriod{t: t, plus: (cs.HigherIsWorse && vc > vs+tol) || (!cs.HigherIsWorse && vc < vs-tol)}
		if nc > 0 {
			p.canaryReq = nc
		}
		if vs != 0 {
			p.ratio, p.hasRatio = vc/vs, true
		}
		ps = append(ps, p)
		logL, mean, variance := tr.next(t)
		copy(mean, w.altMean)
		copy(variance, w.altVar)
		for k := range w.mix {
			logL[k] = w.down[k]
			if p.plus {
				logL[k] = w.up[k]
			}
		}
	}
	return tr, ps
}

// summarise counts the periods from from on and sets mv's effect from
// them: the median ratio and how many were worse.
func (ps signPeriods) summarise(mv *MetricVerdict, cs CustomSignal, from time.Time) (k int, canaryReq float64) {
	plus := 0
	ratios := make([]float64, 0, len(ps))
	for _, p := range ps {
		if p.t.Before(from) {
			continue
		}
		k++
		canaryReq += p.canaryReq
		if p.plus {
			plus++
		}
		if p.hasRatio {
			ratios = append(ratios, p.ratio)
		}
	}
	mv.EffectSize = median(ratios)
	mv.Effect = signEffect(cs, mv.EffectSize, plus, k)
	return k, canaryReq
}

// signInsufficient is the verdict when the recent window could not yet
// have shown a regression: the periods (and requests) still needed, and
// when they should have arrived.
func signInsufficient(mv MetricVerdict, ps signPeriods, pc passCheck, k int, req, extra float64, cs CustomSignal, j *judging) MetricVerdict {
	mv.Kind = VerdictInsufficient
	perPeriod := j.tr.perMinute * j.tr.period.Minutes()
	mv.NeededRequests = req + extra*perPeriod
	if perPeriod == 0 || math.IsInf(extra, 1) {
		mv.NeededRequests = math.Inf(1)
	}
	// Comparable periods arrive at the rate the recent traffic window
	// compared them; a sliding window holds no more than it spans.
	recent := 0
	for _, p := range ps {
		if !p.t.Before(j.tr.start) && p.t.Before(j.tr.end) {
			recent++
		}
	}
	mv.ETA = -1
	if recent > 0 && !math.IsInf(extra, 1) {
		per := j.tr.end.Sub(j.tr.start) / time.Duration(recent)
		mv.ETA = time.Duration(extra) * per
		if !pc.grows && time.Duration(float64(k)+extra)*per > j.cfg.RecentWindow {
			mv.ETA = -1
		}
	}
	when := " (none comparable recently)"
	switch {
	case mv.ETA >= 0:
		when = fmt.Sprintf(" (~%s)", formatETA(mv.ETA))
	case recent > 0 && !pc.grows:
		when = " (more than the window holds: hold a step longer)"
	}
	if k == 0 {
		mv.Summary = fmt.Sprintf("%s: no periods with data on both sides %s; ~%.0f needed%s", cs.Name.Label(), windowPhrase(pc, j.now), extra, when)
		return mv
	}
	mv.Summary = fmt.Sprintf("%s: ~%.0f more periods with data on both sides %s%s", cs.Name.Label(), extra, windowPhrase(pc, j.now), when)
	return mv
}

func signEffect(cs CustomSignal, ratio float64, plus, k int) string {
	s := fmt.Sprintf("worse by >%s in %d of %d periods", FormatPercent(100*cs.Tolerance), plus, k)
	if !math.IsNaN(ratio) {
		s = fmt.Sprintf("canary %.2fx stable, ", ratio) + s
	}
	return s
}
