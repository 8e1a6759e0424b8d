package model

import (
	"math/rand/v2"
	"testing"
	"time"
)

// stepSignals builds 1-minute data: healthy for hours at 10%, then a
// regression (canary error rate x10) from spikeAt on, at 25% canary.
func stepSignals(rng *rand.Rand, start, spikeAt, end time.Time) Signals {
	sig := Signals{SideSignals{}, SideSignals{}}
	for t := start; t.Before(end); t = t.Add(time.Minute) {
		share, canaryErr := 0.10, 0.005
		if !t.Before(spikeAt.Add(-5 * time.Minute)) {
			share = 0.25
		}
		if !t.Before(spikeAt) {
			canaryErr = 0.05
		}
		n := 1000.0
		c, s := n*share, n*(1-share)
		sig[Canary][Requests] = append(sig[Canary][Requests], Point{t, c})
		sig[Stable][Requests] = append(sig[Stable][Requests], Point{t, s})
		sig[Canary][Errors5xx] = append(sig[Canary][Errors5xx], Point{t, binomial(rng, c, canaryErr)})
		sig[Stable][Errors5xx] = append(sig[Stable][Errors5xx], Point{t, binomial(rng, s, 0.005)})
	}
	return sig
}

func TestJudgeStepsCatchesALateRegressionSooner(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	spike := start.Add(3 * time.Hour)
	stepStart := spike.Add(-5 * time.Minute)
	cfg := JudgeConfig{NoLatency: true}
	var wholeMinutes, stepMinutes []float64
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		sig := stepSignals(rng, start, spike, spike.Add(30*time.Minute))
		detect := func(judge func(now time.Time) Verdict) float64 {
			for m := 1; m <= 30; m++ {
				now := spike.Add(time.Duration(m) * time.Minute)
				if judge(now).Overall == VerdictFail {
					return float64(m)
				}
			}
			return 31
		}
		wholeMinutes = append(wholeMinutes, detect(func(now time.Time) Verdict { return Judge(truncate(sig, now), cfg, now) }))
		stepMinutes = append(stepMinutes, detect(func(now time.Time) Verdict {
			return JudgeSteps(truncate(sig, now), cfg, now, stepStart, 4)
		}))
	}
	w, s := median(wholeMinutes), median(stepMinutes)
	t.Logf("median minutes to FAIL after a late 10x regression: whole history %v, step-aware %v", w, s)
	if s > 4 || s*2 > w {
		t.Fatalf("step-aware judge should catch the late regression in a few minutes and at least twice as fast: %v vs %v", s, w)
	}
}

func TestJudgeStepsKeepsTheFalseFailRate(t *testing.T) {
	// Healthy canary, steps every 10 minutes, judged every minute.
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

func truncate(sig Signals, now time.Time) Signals {
	out := Signals{SideSignals{}, SideSignals{}}
	for _, side := range Sides {
		for name, pts := range sig[side] {
			for _, p := range pts {
				if p.T.Add(time.Minute).After(now) {
					break
				}
				out[side][name] = append(out[side][name], p)
			}
		}
	}
	return out
}
