package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// ringOf keeps the newest 360 periods, as perch's engine does.
func ringOf(sig *Signals) {
	for _, side := range Sides {
		for k, pts := range sig[side] {
			if len(pts) > 360 {
				sig[side][k] = pts[len(pts)-360:]
			}
		}
	}
}

// watch plays c for periods minutes, consulting judge after each, and
// returns the first period (0-based) at which it said FAIL (-1: never),
// and whether it said PASS at or after period passFrom before that.
func (c canarySim) watch(rng *rand.Rand, periods, passFrom int, judge func(sig Signals, now time.Time) Verdict) (int, bool, Verdict) {
	var sig Signals
	var v Verdict
	passed := false
	for i := 0; i < periods; i++ {
		c.step(rng, &sig, i)
		ringOf(&sig)
		v = judge(sig, simBase.Add(time.Duration(i+1)*time.Minute))
		if v.Overall == VerdictFail {
			return i, passed, v
		}
		if i >= passFrom && v.Overall == VerdictPass {
			passed = true
		}
	}
	return -1, passed, v
}

// The change detector's budget: with a short horizon and a large alpha
// (so the rate is measurable in a few hundred runs), healthy canaries
// judged every period for the whole horizon are falsely failed at most
// alpha of the time. A detector whose bar left out the horizon (a
// from-the-start bar at every start) fails most of them.
func TestChangeDetectorKeepsItsBudget(t *testing.T) {
	runs := 300
	if testing.Short() || raceEnabled {
		runs = 60
	}
	cfg := JudgeConfig{NoLatency: true, Alpha: 0.2, Horizon: 2 * time.Hour}
	c := canarySim{perMinute: 1000, share: 0.1, stableRate: 0.005, canaryRate: 0.005}
	rng := rand.New(rand.NewPCG(101, 102))
	fails := 0
	for r := 0; r < runs; r++ {
		if at, _, _ := c.watch(rng, 120, 0, func(sig Signals, now time.Time) Verdict { return Judge(sig, cfg, now) }); at >= 0 {
			fails++
		}
	}
	rate := float64(fails) / float64(runs)
	limit := cfg.Alpha + 3*math.Sqrt(cfg.Alpha*(1-cfg.Alpha)/float64(runs))
	t.Logf("healthy canaries falsely failed within the horizon: %d of %d (%.1f%%), bound %.0f%%", fails, runs, 100*rate, 100*cfg.Alpha)
	if rate > limit {
		t.Fatalf("false FAIL rate %.3f above alpha %.2f (+ margin: %.3f)", rate, cfg.Alpha, limit)
	}
}

// A regression that begins hours into a healthy canary is caught in
// minutes by the change detector, where the from-start test alone has to
// climb out of hours of healthy evidence first.
func TestLateRegressionIsCaughtInMinutes(t *testing.T) {
	runs := 60
	if raceEnabled {
		runs = 15
	}
	c := canarySim{perMinute: 1000, share: 0.1, stableRate: 0.005, canaryRate: 0.05, regressFrom: 120}
	cfg := JudgeConfig{NoLatency: true}
	rng := rand.New(rand.NewPCG(7, 8))
	var delays []float64
	for r := 0; r < runs; r++ {
		at, _, v := c.watch(rng, 180, 0, func(sig Signals, now time.Time) Verdict { return Judge(sig, cfg, now) })
		if at >= 0 && at < c.regressFrom {
			t.Fatalf("run %d: FAIL before the regression: %s", r, v.Summary)
		}
		if at < 0 {
			at = 1000
		}
		delays = append(delays, float64(at-c.regressFrom+1))
		if r == 0 {
			if v.Test != TestDetector || !strings.Contains(v.Summary, string(TestDetector)) {
				t.Errorf("a late regression should be the change detector's: %+v", v)
			}
			if from := v.From.Sub(simBase); from < 118*time.Minute || from > 122*time.Minute {
				t.Errorf("the detector's evidence starts at %s, the regression at 2h0m", from)
			}
			t.Logf("example: %s", v.Summary)
		}
	}
	med := median(delays)
	t.Logf("10x errors after two healthy hours at 100 canary req/min: median %v periods to FAIL", med)
	// Five nats a period against a bar of about fifteen: three periods.
	if med > 4 {
		t.Fatalf("median %v periods after the onset, want at most 4", med)
	}
}

// The step test: a regression that comes with a step is caught at least as
// fast as by the change detector, and healthy canaries stepped every ten
// minutes keep the budget.
func TestJudgeStepsKeepsTheFalseFailRate(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := JudgeConfig{NoLatency: true}
	fails := 0
	const runs = 200
	for seed := range uint64(runs) {
		rng := rand.New(rand.NewPCG(seed, 2))
		sig := Signals{SideSignals{}, SideSignals{}}
		failed := false
		for m := 0; m < 40 && !failed; m++ {
			t0 := start.Add(time.Duration(m) * time.Minute)
			share := []float64{0.05, 0.10, 0.25, 0.50}[m/10]
			c, s := 1000*share, 1000*(1-share)
			sig[Canary][Requests] = append(sig[Canary][Requests], Point{t0, c})
			sig[Stable][Requests] = append(sig[Stable][Requests], Point{t0, s})
			sig[Canary][Errors5xx] = append(sig[Canary][Errors5xx], Point{t0, binomial(rng, c, 0.005)})
			sig[Stable][Errors5xx] = append(sig[Stable][Errors5xx], Point{t0, binomial(rng, s, 0.005)})
			stepStart := start.Add(time.Duration(m/10*10) * time.Minute)
			failed = JudgeSteps(sig, cfg, t0.Add(time.Minute), stepStart, 4).Overall == VerdictFail
		}
		if failed {
			fails++
		}
	}
	if rate := float64(fails) / runs; rate > 0.02 {
		t.Fatalf("healthy canaries FAILed in %d of %d runs", fails, runs)
	}
}

func TestStepRegressionIsTheStepTests(t *testing.T) {
	// Healthy for three hours at 10%, a step to 25% and from five minutes
	// later ten times the errors.
	c := canarySim{perMinute: 1000, share: 0.25, stableRate: 0.005, canaryRate: 0.05, regressFrom: 185}
	step := simBase.Add(180 * time.Minute)
	rng := rand.New(rand.NewPCG(3, 3))
	var delays []float64
	for r := 0; r < 30; r++ {
		at, _, v := c.watch(rng, 200, 0, func(sig Signals, now time.Time) Verdict {
			return JudgeSteps(sig, JudgeConfig{NoLatency: true}, now, step, 4)
		})
		if at < 0 {
			t.Fatalf("run %d: never failed: %s", r, v.Summary)
		}
		delays = append(delays, float64(at-c.regressFrom+1))
	}
	if med := median(delays); med > 3 {
		t.Fatalf("median %v periods after a regression that came with a step", med)
	}
}

// PASS describes now: it rests on the recent window alone, so hours of
// healthy history at modest traffic vouch for nothing, while the same
// canary held at one step for hours, or at high traffic, passes.
func TestPassNeedsRecentEvidence(t *testing.T) {
	healthyAt := func(perMinute float64) canarySim {
		return canarySim{perMinute: perMinute, share: 0.1, stableRate: 0.005, canaryRate: 0.005, stableSlow: 0.01, canarySlow: 0.01}
	}
	history := func(c canarySim, periods int) Signals {
		rng := rand.New(rand.NewPCG(5, 6))
		var sig Signals
		for i := 0; i < periods; i++ {
			c.step(rng, &sig, i)
		}
		return sig
	}
	now := simBase.Add(3 * time.Hour)
	cfg := DefaultJudgeConfig()

	// 100 canary requests a minute for three hours: no half hour shows a
	// doubled error rate.
	v := Judge(history(healthyAt(1000), 180), cfg, now)
	if v.Overall != VerdictInsufficient || !strings.Contains(v.Summary, "healthy so far, too little recent data to rule out a new regression") {
		t.Fatalf("three healthy hours at 1000 req/min: %s", v.Summary)
	}
	if v.Test != TestDetector || !v.From.Equal(now.Add(-30*time.Minute)) {
		t.Errorf("INSUFFICIENT should name the window it lacks: %s from %s", v.Test, v.From)
	}
	// The same canary, held at this step for two hours: the step is the
	// window, and it is long enough.
	v = JudgeSteps(history(healthyAt(1000), 180), cfg, now, now.Add(-2*time.Hour), 4)
	if v.Overall != VerdictPass || v.Test != TestStep || !strings.Contains(v.Summary, "since the step began (2h00m)") {
		t.Fatalf("a two-hour step at 1000 req/min: %s (%s)", v.Summary, v.Test)
	}
	// 2,000 canary requests a minute: the last half hour is enough.
	v = Judge(history(healthyAt(20000), 180), cfg, now)
	if v.Overall != VerdictPass || v.Test != TestDetector || !strings.Contains(v.Summary, "in the last 30m") {
		t.Fatalf("three healthy hours at 20000 req/min: %s", v.Summary)
	}
	for _, m := range v.Metrics {
		if m.From.Before(now.Add(-30 * time.Minute)) {
			t.Errorf("%s passed on data from %s, before the window", m.Signal, m.From)
		}
	}
}

// When PASS comes from the last half hour, a regression of the configured
// size over that half hour would have been caught with the configured
// power: check it on canaries that doubled their error rate exactly at the
// window's start.
func TestRecentPassIsCalibrated(t *testing.T) {
	runs := 200
	if raceEnabled {
		runs = 40
	}
	cfg := DefaultJudgeConfig()
	cfg.NoLatency = true
	// A traffic at which healthy canaries just pass on the window (at 3,500
	// req/min none do).
	c := canarySim{perMinute: 4000, share: 0.1, stableRate: 0.005, canaryRate: 0.005}
	rng := rand.New(rand.NewPCG(31, 32))
	passes := 0
	for r := 0; r < 40; r++ {
		var sig Signals
		for i := 0; i < 90; i++ {
			c.step(rng, &sig, i)
		}
		if Judge(sig, cfg, simBase.Add(90*time.Minute)).Overall == VerdictPass {
			passes++
		}
	}
	if passes < 20 {
		t.Fatalf("only %d of 40 healthy canaries pass at %v req/min", passes, c.perMinute)
	}
	bad := c
	bad.canaryRate, bad.regressFrom = 2*c.stableRate, 60
	detected := 0
	for r := 0; r < runs; r++ {
		if at, _, _ := bad.watch(rng, 90, 0, func(sig Signals, now time.Time) Verdict { return Judge(sig, cfg, now) }); at >= 0 {
			detected++
		}
	}
	power := float64(detected) / float64(runs)
	t.Logf("%d of 40 healthy canaries pass on the last 30m; a 2x regression over that half hour is caught in %.0f%% (promised %.0f%%)",
		passes, 100*power, 100*cfg.Power)
	if power < cfg.Power-0.1 {
		t.Fatalf("PASS promises too much: only %.0f%% of 2x regressions over the window detected", 100*power)
	}
}

// Issue 17: a count that cannot be one keeps the judge from PASS. The
// same data with valid counts passes.
func TestInvalidCountsNeverPass(t *testing.T) {
	c := canarySim{perMinute: 20000, share: 0.1, stableRate: 0.005, canaryRate: 0.005, stableSlow: 0.01, canarySlow: 0.01}
	rng := rand.New(rand.NewPCG(9, 9))
	var sig Signals
	for i := 0; i < 60; i++ {
		c.step(rng, &sig, i)
	}
	now := simBase.Add(60 * time.Minute)
	if v := Judge(sig, DefaultJudgeConfig(), now); v.Overall != VerdictPass {
		t.Fatalf("valid data should pass: %s", v.Summary)
	}
	for _, tc := range []struct {
		side   Side
		signal Signal
		value  float64
	}{
		{Canary, Errors5xx, math.NaN()},
		{Canary, Errors5xx, -3},
		{Stable, Errors5xx, 2.5},
		{Canary, Requests, math.NaN()},
		{Stable, Requests, -1},
		{Canary, Requests, 1999.5},
		{Canary, SlowRequests, math.Inf(1)},
		{Stable, SlowRequests, 0.25},
		{Canary, Errors5xx, 1e6}, // more errors than requests
	} {
		bad := Signals{SideSignals{}, SideSignals{}}
		for _, side := range Sides {
			for k, pts := range sig[side] {
				bad[side][k] = append([]Point(nil), pts...)
			}
		}
		pts := bad[tc.side][tc.signal]
		pts[len(pts)-10].V = tc.value
		v := Judge(bad, DefaultJudgeConfig(), now)
		if v.Overall != VerdictInsufficient || !strings.Contains(v.Summary, "refused data") {
			t.Errorf("%s %s = %v: %s, want INSUFFICIENT naming the refused data", tc.side, tc.signal, tc.value, v.Summary)
		}
	}
}

// Latency as counts: with slow-request counts on both sides the canary's
// share of slow requests is judged like its share of errors, and the p99
// sign test is not run; without them, it is.
func TestSlowCountsReplaceTheP99SignTest(t *testing.T) {
	// The latency-regression demo: p99 triples, 11.4% of the canary's
	// requests are slower than stable's p99 instead of 1%.
	c := canarySim{perMinute: 1000, share: 0.1, stableRate: 0.005, canaryRate: 0.005, stableP99: 180, canaryP99: 540,
		p99Noise: 0.1, stableSlow: 0.01, canarySlow: 0.114, regressFrom: 60}
	rng := rand.New(rand.NewPCG(4, 4))
	var delays []float64
	for r := 0; r < 30; r++ {
		at, _, v := c.watch(rng, 90, 0, func(sig Signals, now time.Time) Verdict { return Judge(sig, DefaultJudgeConfig(), now) })
		if at < c.regressFrom {
			t.Fatalf("run %d: FAIL at %d: %s", r, at, v.Summary)
		}
		if _, ok := v.Metric(LatencyP99); ok {
			t.Fatal("the p99 sign test ran beside the slow-request counts")
		}
		m, ok := v.Metric(SlowRequests)
		if !ok || m.Kind != VerdictFail || !strings.Contains(m.Summary, "slower than 180 ms") {
			t.Fatalf("slow requests: %+v", m)
		}
		delays = append(delays, float64(at-c.regressFrom+1))
	}
	// Thirteen nats a period: one or two periods.
	if med := median(delays); med > 2 {
		t.Errorf("3x p99 after an hour: median %v periods", med)
	}
	// The same data without the counts falls back to the p99 sign test.
	c.stableSlow, c.canarySlow = 0, 0
	_, _, v := c.watch(rng, 90, 0, func(sig Signals, now time.Time) Verdict { return Judge(sig, DefaultJudgeConfig(), now) })
	if _, ok := v.Metric(LatencyP99); !ok {
		t.Fatalf("no p99 sign test without slow counts: %+v", v)
	}
}

// A common-mode burst (both sides fail together for a minute) is no
// evidence: the conditional test weighs the canary's share of the errors,
// and that share does not move.
func TestCommonModeBurstsAreNoEvidence(t *testing.T) {
	fails := 0
	const runs = 100
	for r := 0; r < runs; r++ {
		rng := rand.New(rand.NewPCG(uint64(r), 77))
		var sig Signals
		failed := false
		for i := 0; i < 90 && !failed; i++ {
			rate := 0.005
			if i%30 == 10 {
				rate = 0.10 // both sides, one minute
			}
			c := canarySim{perMinute: 1000, share: 0.1, stableRate: rate, canaryRate: rate}
			c.step(rng, &sig, i)
			failed = Judge(sig, JudgeConfig{NoLatency: true}, simBase.Add(time.Duration(i+1)*time.Minute)).Overall == VerdictFail
		}
		if failed {
			fails++
		}
	}
	if fails > 2 {
		t.Fatalf("%d of %d canaries FAILed on bursts both sides shared", fails, runs)
	}
}
