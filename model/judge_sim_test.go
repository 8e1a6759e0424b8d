package model

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
)

// simBase is when every simulated canary starts.
var simBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// canarySim generates per-minute CloudWatch-like data for a canary.
type canarySim struct {
	perMinute   float64 // total requests per minute, both sides
	share       float64 // canary share of requests
	stableRate  float64 // stable 5xx fraction
	canaryRate  float64 // canary 5xx fraction
	stableP99   float64 // ms; 0 = no latency data
	canaryP99   float64
	p99Noise    float64 // log-normal sigma of a period's p99
	regressFrom int     // the canary's rates apply from this period; before it, stable's
	// stableSlow and canarySlow are the shares of requests slower than
	// the slow threshold (180 ms); both 0: no slow-request counts.
	stableSlow, canarySlow float64
}

func poisson(rng *rand.Rand, mean float64) float64 {
	if mean <= 0 {
		return 0
	}
	if mean > 50 {
		return math.Max(0, math.Round(mean+math.Sqrt(mean)*rng.NormFloat64()))
	}
	l, k, p := math.Exp(-mean), 0.0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// binomial draws by inverting the CDF: exact, and quick while n*p is small.
func binomial(rng *rand.Rand, n, p float64) float64 {
	if n <= 0 || p <= 0 {
		return 0
	}
	if p >= 1 {
		return n
	}
	u := rng.Float64()
	pmf := math.Pow(1-p, n)
	cdf := pmf
	k := 0.0
	for cdf < u && k < n {
		pmf *= (n - k) / (k + 1) * p / (1 - p)
		k++
		cdf += pmf
	}
	return k
}

// step appends period i to sig.
func (c canarySim) step(rng *rand.Rand, sig *Signals, i int) {
	t := simBase.Add(time.Duration(i) * time.Minute)
	for _, side := range Sides {
		if sig[side] == nil {
			sig[side] = SideSignals{}
		}
		share, rate, p99, slow := 1-c.share, c.stableRate, c.stableP99, c.stableSlow
		if side == Canary {
			share, rate, p99, slow = c.share, c.canaryRate, c.canaryP99, c.canarySlow
			if i < c.regressFrom {
				rate, p99, slow = c.stableRate, c.stableP99, c.stableSlow
			}
		}
		n := poisson(rng, c.perMinute*share)
		if n == 0 {
			continue // CloudWatch publishes nothing for an idle period
		}
		s := sig[side]
		s[Requests] = append(s[Requests], Point{t, n})
		s[Errors5xx] = append(s[Errors5xx], Point{t, binomial(rng, n, rate)})
		if p99 > 0 {
			s[LatencyP99] = append(s[LatencyP99], Point{t, p99 * math.Exp(c.p99Noise*rng.NormFloat64())})
		}
		if c.stableSlow > 0 {
			s[SlowRequests] = append(s[SlowRequests], Point{t, binomial(rng, n, slow)})
			if side == Stable {
				s[SlowThreshold] = append(s[SlowThreshold], Point{t, 180})
			}
		}
	}
}

// firstFail runs a canary for up to periods minutes, consulting the judge
// after every one, and returns the 1-based period of the first FAIL (0 if
// none) and the final verdict.
func (c canarySim) firstFail(rng *rand.Rand, cfg JudgeConfig, periods int) (int, Verdict) {
	var sig Signals
	cfg.Since = simBase
	var v Verdict
	for i := 0; i < periods; i++ {
		c.step(rng, &sig, i)
		v = Judge(sig, cfg, simBase.Add(time.Duration(i+1)*time.Minute))
		if v.Overall == VerdictFail {
			return i + 1, v
		}
	}
	return 0, v
}

// healthy is the healthy canary: equal error rates, 10% canary
// share, 1000 requests a minute, 0.5% errors, equal noisy latency.
var healthy = canarySim{perMinute: 1000, share: 0.1, stableRate: 0.005, canaryRate: 0.005,
	stableP99: 120, canaryP99: 120, p99Noise: 0.15}

func TestTypeIErrorUnderRepeatedLooks(t *testing.T) {
	runs := 1000
	if testing.Short() {
		runs = 500
	}
	cfg := DefaultJudgeConfig()
	rng := rand.New(rand.NewPCG(1, 2))
	fails := 0
	for r := 0; r < runs; r++ {
		if at, _ := healthy.firstFail(rng, cfg, 60); at > 0 {
			fails++
		}
	}
	rate := float64(fails) / float64(runs)
	// Ville's inequality bounds the true rate by alpha. The Monte Carlo
	// margin: if the true rate were exactly alpha, seeing more than
	// alpha*runs + 3 sd would happen about once in a thousand runs of this
	// test; a broken (non-martingale) e-process lands far above it, as the
	// peeked z-test below does.
	limit := cfg.Alpha + 3*math.Sqrt(cfg.Alpha*(1-cfg.Alpha)/float64(runs))
	t.Logf("healthy canaries judged FAIL at some look: %d of %d (%.2f%%), limit %.2f%%", fails, runs, 100*rate, 100*limit)
	if rate > limit {
		t.Fatalf("false FAIL rate %.3f above alpha %.3f (+ margin: %.3f)", rate, cfg.Alpha, limit)
	}
}

// zPeeked is the classic mistake: a one-sided two-proportion z-test on the
// cumulative counts at level alpha, read at every period.
func zPeeked(sig Signals, alpha float64) bool {
	nc, ns := Sum(sig[Canary][Requests], simBase), Sum(sig[Stable][Requests], simBase)
	ec, es := Sum(sig[Canary][Errors5xx], simBase), Sum(sig[Stable][Errors5xx], simBase)
	if nc == 0 || ns == 0 {
		return false
	}
	p := (ec + es) / (nc + ns)
	se := math.Sqrt(p * (1 - p) * (1/nc + 1/ns))
	if se == 0 {
		return false
	}
	return (ec/nc-es/ns)/se > normalQuantile(1-alpha)
}

func TestPeekedZTestExceedsAlpha(t *testing.T) {
	const runs, alpha = 500, 0.01
	rng := rand.New(rand.NewPCG(3, 4))
	fails := 0
	for r := 0; r < runs; r++ {
		var sig Signals
		for i := 0; i < 60; i++ {
			healthy.step(rng, &sig, i)
			if zPeeked(sig, alpha) {
				fails++
				break
			}
		}
	}
	rate := float64(fails) / runs
	t.Logf("fixed-sample z-test at alpha %.2f peeked every period: %d of %d healthy canaries rejected (%.1f%%)", alpha, fails, runs, 100*rate)
	if rate < 3*alpha {
		t.Fatalf("peeked z-test false rate %.3f; expected far above alpha %.2f", rate, alpha)
	}
}

func detectionPeriods(t *testing.T, c canarySim, runs, periods int, seed uint64) (detected int, med float64, all []int) {
	t.Helper()
	cfg := DefaultJudgeConfig()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for r := 0; r < runs; r++ {
		at, v := c.firstFail(rng, cfg, periods)
		if at > 0 {
			detected++
			all = append(all, at)
			if r == 0 {
				t.Logf("example: period %d: %s", at, v.Summary)
			}
		} else {
			all = append(all, periods+1)
		}
	}
	sort.Ints(all)
	return detected, float64(all[len(all)/2]), all
}

func TestPowerErrorSpike(t *testing.T) {
	cases := []struct {
		name           string
		ratio          float64
		periods        int
		wantMedianUpTo float64
	}{
		{"2x", 2, 120, 60},
		{"10x", 10, 20, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := healthy
			c.canaryRate = healthy.stableRate * tc.ratio
			detected, med, all := detectionPeriods(t, c, 200, tc.periods, 7)
			t.Logf("%s error rate: detected in %d of 200 runs within %d periods; median %.0f periods; p90 %d", tc.name, detected, tc.periods, med, all[len(all)*9/10])
			if detected < 180 || med > tc.wantMedianUpTo {
				t.Fatalf("%s: detected %d/200, median %.0f periods (want >= 180 and <= %.0f)", tc.name, detected, med, tc.wantMedianUpTo)
			}
		})
	}
}

func TestLatencyRegressionFails(t *testing.T) {
	c := healthy
	c.canaryP99 = 3 * c.stableP99
	detected, med, _ := detectionPeriods(t, c, 100, 60, 11)
	t.Logf("3x p99: detected in %d of 100 runs, median %.0f periods", detected, med)
	if detected < 100 || med > 15 {
		t.Fatalf("3x p99 regression: detected %d/100, median %.0f periods", detected, med)
	}
	// The FAIL names latency, not errors.
	rng := rand.New(rand.NewPCG(5, 5))
	_, v := c.firstFail(rng, DefaultJudgeConfig(), 60)
	m, _ := v.Metric(LatencyP99)
	if v.Overall != VerdictFail || m.Kind != VerdictFail || m.EffectSize < 2.5 || m.EffectSize > 3.5 {
		t.Fatalf("verdict %s, latency %+v", v.Overall, m)
	}
	if e, _ := v.Metric(Errors5xx); e.Kind == VerdictFail {
		t.Fatalf("errors failed on a latency-only regression: %+v", e)
	}
}

func TestEqualNoisyLatencyDoesNotFail(t *testing.T) {
	c := healthy
	c.p99Noise = 0.4 // very noisy p99s, equal on both sides
	cfg := DefaultJudgeConfig()
	cfg.LatencyTolerance = 0.01 // almost no tolerance: pure sign test
	rng := rand.New(rand.NewPCG(13, 14))
	fails, runs := 0, 300
	if testing.Short() {
		runs = 150
	}
	for r := 0; r < runs; r++ {
		at, v := c.firstFail(rng, cfg, 120)
		if at > 0 {
			if m, _ := v.Metric(LatencyP99); m.Kind == VerdictFail {
				fails++
			}
		}
	}
	// Each metric gets alpha/2 = 0.5%: 1.5 of 300 expected at worst.
	t.Logf("equal noisy latency: %d of %d runs FAIL on p99", fails, runs)
	if fails > runs/100 {
		t.Fatalf("%d of %d equal-latency runs FAILed on p99", fails, runs)
	}
}

func TestLowTrafficIsInsufficientNeverPass(t *testing.T) {
	// 100 requests a day: mostly empty minutes. A week of it, judged hourly.
	c := canarySim{perMinute: 100.0 / (24 * 60), share: 0.1, stableRate: 0.005, canaryRate: 0.005,
		stableP99: 120, canaryP99: 120, p99Noise: 0.15}
	cfg := DefaultJudgeConfig()
	cfg.Since = simBase
	for seed := uint64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		var sig Signals
		for i := 0; i < 7*24*60; i++ {
			c.step(rng, &sig, i)
			if (i+1)%60 != 0 {
				continue
			}
			v := Judge(sig, cfg, simBase.Add(time.Duration(i+1)*time.Minute))
			if v.Overall == VerdictPass {
				t.Fatalf("seed %d hour %d: PASS on 100 requests a day: %s", seed, (i+1)/60, v.Summary)
			}
			e, _ := v.Metric(Errors5xx)
			if e.Kind != VerdictInsufficient && e.Kind != VerdictFail {
				t.Fatalf("seed %d: errors %s", seed, e.Kind)
			}
			more := e.MoreRequests()
			seen := Sum(sig[Canary][Requests], simBase) > 0
			// At 100 requests a day no half hour can hold enough: the
			// figure is what the window would need, and it says that only
			// a step held longer gets there.
			if e.Kind == VerdictInsufficient && seen && (!(more > 0) || math.IsInf(more, 1) ||
				(e.ETA <= 0 && !strings.Contains(e.Summary, "hold a step longer"))) {
				t.Fatalf("seed %d hour %d: no usable requests-needed figure (%v more, ETA %v): %s", seed, (i+1)/60, more, e.ETA, e.Summary)
			}
			if e.Kind == VerdictInsufficient && i+1 == 7*24*60 && more < 1000 {
				// A week in, stable's rate is known well enough for the
				// figure to be realistic: thousands, not a handful.
				t.Fatalf("seed %d: after a week needs only %.0f more: %s", seed, more, e.Summary)
			}
			if seed == 0 && (i+1) == 7*24*60 {
				t.Logf("after a week: %s", v.Summary)
			}
		}
	}
}
