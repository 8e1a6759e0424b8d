package model

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func approx(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.9g, want %.9g", what, got, want)
	}
}

// sigAt builds Signals from per-period rows; a negative value means the
// point is missing.
type row struct {
	nc, ns, ec, es, pc, ps float64
}

func buildSignals(rows []row) Signals {
	sig := Signals{SideSignals{}, SideSignals{}}
	add := func(side Side, s Signal, t time.Time, v float64) {
		if v >= 0 {
			sig[side][s] = append(sig[side][s], Point{t, v})
		}
	}
	for i, r := range rows {
		t := simBase.Add(time.Duration(i) * time.Minute)
		add(Canary, Requests, t, r.nc)
		add(Stable, Requests, t, r.ns)
		add(Canary, Errors5xx, t, r.ec)
		add(Stable, Errors5xx, t, r.es)
		add(Canary, LatencyP99, t, r.pc)
		add(Stable, LatencyP99, t, r.ps)
	}
	return sig
}

// testEvidence finds one test's evidence in a metric's verdict.
func testEvidence(t *testing.T, m MetricVerdict, test TestKind) TestEvidence {
	t.Helper()
	for _, te := range m.Tests {
		if te.Test == test {
			return te
		}
	}
	t.Fatalf("%s: no %s test in %+v", m.Signal, test, m.Tests)
	return TestEvidence{}
}

func TestErrorEValueKnown(t *testing.T) {
	// One period, equal traffic (p0 = 1/2), canary 3 errors, stable 1.
	// Under theta the canary's share of errors is p1 = theta/(theta+1), and
	// the likelihood ratio is (2 p1)^3 (2 (1-p1)):
	//   theta 2:   (4/3)^3 (2/3)        = 128/81
	//   theta 3:   (3/2)^3 (1/2)        = 27/16
	//   theta 5:   (5/3)^3 (1/3)        = 125/81
	//   theta 10:  (20/11)^3 (2/11)     = 16000/14641
	//   theta 20:  (40/21)^3 (2/21)     = 128000/194481
	//   theta 50:  (100/51)^3 (2/51)    = 2000000/6765201
	// The from-start test weighs them 0.55, 0.15, 0.12, 0.12, 0.04, 0.02;
	// the change detector 0.2, 0.1, 0.3, 0.3, 0.07, 0.03.
	lr := []float64{128.0 / 81, 27.0 / 16, 125.0 / 81, 16000.0 / 14641, 128000.0 / 194481, 2000000.0 / 6765201}
	var want, wantDet float64
	for i, w := range countStartWeights() {
		want += w * lr[i]
		wantDet += countMixture(2)[i].w * lr[i]
	}
	approx(t, "hand-computed e-value", want, 1.470824, 1e-6)
	approx(t, "hand-computed detector e-value", wantDet, 1.330549, 1e-6)
	sig := buildSignals([]row{{nc: 100, ns: 100, ec: 3, es: 1, pc: -1, ps: -1}})
	v := Judge(sig, JudgeConfig{NoLatency: true, Since: simBase}, simBase.Add(time.Minute))
	m, _ := v.Metric(Errors5xx)
	start := testEvidence(t, m, TestFromStart)
	approx(t, "from-start evidence", start.Evidence, want, 1e-9)
	// One metric: the from-start test alone would need 1/alpha over its
	// share of the budget.
	approx(t, "from-start bar", start.Threshold, 100/shareFromStart, 1e-9)
	// After one period the change detector has one start: the same ratios,
	// its own weights, against a bar T = 1440 periods times higher (and
	// its own share).
	det := testEvidence(t, m, TestDetector)
	approx(t, "detector evidence", det.Evidence, wantDet, 1e-9)
	approx(t, "detector bar", det.Threshold, 100*1440/shareDetector, 1e-6)

	// Two periods multiply per component, then mix (a mixture of products,
	// not a product of mixtures, which would not be a martingale). Second
	// period: p0 = 1/5, no canary errors, stable 2: per theta
	// ((1-p1)/(4/5))^2 with p1 = theta/(theta+4).
	var mix, sr float64
	for i, c := range countMixture(2) {
		p1 := c.x / (c.x + 4)
		second := math.Pow((1-p1)/0.8, 2)
		first := math.Pow(2*c.x/(c.x+1), 3) * (2 / (c.x + 1))
		mix += countStartWeights()[i] * first * second
		// Shiryaev-Roberts: R_2 = (R_1 + 1) L_2 = (L_1 + 1) L_2.
		sr += c.w * (first + 1) * second
	}
	sig = buildSignals([]row{{100, 100, 3, 1, -1, -1}, {50, 200, 0, 2, -1, -1}})
	v = Judge(sig, JudgeConfig{NoLatency: true, Since: simBase}, simBase.Add(2*time.Minute))
	m, _ = v.Metric(Errors5xx)
	approx(t, "two-period evidence", testEvidence(t, m, TestFromStart).Evidence, mix, 1e-9)
	approx(t, "two-period detector", testEvidence(t, m, TestDetector).Evidence, sr, 1e-9)
	if testEvidence(t, m, TestFromStart).Evidence >= 1 {
		t.Errorf("stable-only errors should count for the canary: %v", m.Evidence)
	}
}

func TestSignEValueKnown(t *testing.T) {
	// 5 periods compared, canary worse beyond tolerance in 4:
	// per q, (2q)^4 (2(1-q)):
	//   0.6: 1.65888  0.7: 2.30496  0.8: 2.62144  0.9: 2.09952
	//   0.97: 1.94^4 * 0.06 = 0.849881098
	want := (1.65888 + 2.30496 + 2.62144 + 2.09952 + 0.849881098) / 5
	rows := []row{
		{1000, 1000, 0, 0, 130, 100}, // +: 130 > 110
		{1000, 1000, 0, 0, 200, 100}, // +
		{1000, 1000, 0, 0, 111, 100}, // +
		{1000, 1000, 0, 0, 150, 100}, // +
		{1000, 1000, 0, 0, 110, 100}, // not beyond 10%: -
		{1000, 1000, 0, 0, 500, -1},  // no stable p99: not compared
		{1000, 1000, 0, 0, -1, 100},  // no canary p99: not zero, not compared
	}
	v := Judge(buildSignals(rows), JudgeConfig{Since: simBase}, simBase.Add(7*time.Minute))
	m, ok := v.Metric(LatencyP99)
	if !ok {
		t.Fatal("no latency verdict: without slow-request counts latency is the p99 sign test")
	}
	start := testEvidence(t, m, TestFromStart)
	approx(t, "sign evidence", start.Evidence, want, 1e-9)
	// Two metrics: errors get 1.75 parts of alpha, latency 1: 2.75/alpha,
	// over the test's share.
	approx(t, "bar", start.Threshold, 275/shareFromStart, 1e-9)
	if !strings.Contains(m.Effect, "4 of 5") {
		t.Errorf("effect %q", m.Effect)
	}
}

func TestStatsHelpers(t *testing.T) {
	approx(t, "z(0.8)", normalQuantile(0.8), 0.8416212336, 1e-9)
	approx(t, "z(0.5)", normalQuantile(0.5), 0, 1e-12)
	// No variance: exactly L/m more units.
	approx(t, "deterministic", extraNeeded(0, 0, 1, 0, 5, 1), 5, 1e-12)
	// u - sqrt(u) = 5  =>  sqrt(u) = (1+sqrt(21))/2.
	want := math.Pow((1+math.Sqrt(21))/2, 2)
	approx(t, "with variance", extraNeeded(0, 0, 1, 1, 5, 1), want, 1e-9)
	// Already there: nothing more.
	if got := extraNeeded(10, 4, 1, 1, 5, 1); got != 0 {
		t.Errorf("met: %v", got)
	}
	// Some accrued: 2 + u - sqrt(1+u) = 5.
	u := extraNeeded(2, 1, 1, 1, 5, 1)
	approx(t, "accrued", 2+u-math.Sqrt(1+u), 5, 1e-9)
	if !math.IsInf(extraNeeded(0, 0, 0, 0, 5, 1), 1) {
		t.Error("no growth must need forever")
	}
	approx(t, "logMixture", logMixture([]float64{math.Log(2), math.Log(4)}, []mixPoint{{0, 0.25}, {0, 0.75}}), math.Log(3.5), 1e-12)
	if got := logMixture([]float64{1e6, 0}, []mixPoint{{0, 0.5}, {0, 0.5}}); got != maxLogE {
		t.Errorf("overflow not capped: %v", got)
	}
}

func TestAlignSince(t *testing.T) {
	at := func(m int) time.Time { return simBase.Add(time.Duration(m) * time.Minute) }
	a := alignSince(at(1),
		[]Point{{at(0), 9}, {at(1), 1}, {at(3), 3}},
		[]Point{{at(3), 30}, {at(2), 20}}, // unsorted: sorted on a copy
		nil)
	if len(a.times) != 3 || !a.times[0].Equal(at(1)) || !a.times[2].Equal(at(3)) {
		t.Fatalf("times %v", a.times)
	}
	if a.vals[0][0] != 1 || !math.IsNaN(a.vals[0][1]) || a.vals[0][2] != 3 {
		t.Errorf("series 0: %v", a.vals[0])
	}
	if !math.IsNaN(a.vals[1][0]) || a.vals[1][1] != 20 || a.vals[1][2] != 30 {
		t.Errorf("series 1: %v", a.vals[1])
	}
	if !math.IsNaN(a.vals[2][0]) {
		t.Errorf("nil series: %v", a.vals[2])
	}
}

func TestJudgeSinceAndGaps(t *testing.T) {
	// A blatant regression before Since is not judged.
	rows := make([]row, 0, 20)
	for i := 0; i < 10; i++ {
		rows = append(rows, row{100, 900, 50, 5, 400, 100})
	}
	for i := 0; i < 10; i++ {
		rows = append(rows, row{100, 900, 0, 5, 100, 100})
	}
	sig := buildSignals(rows)
	if v := Judge(sig, JudgeConfig{Since: simBase}, simBase.Add(20*time.Minute)); v.Overall != VerdictFail {
		t.Fatalf("with the bad periods: %s", v.Summary)
	}
	v := Judge(sig, JudgeConfig{Since: simBase.Add(10 * time.Minute)}, simBase.Add(20*time.Minute))
	if v.Overall == VerdictFail {
		t.Fatalf("periods before Since judged: %s", v.Summary)
	}
	if e, _ := v.Metric(Errors5xx); e.CanaryRequests != 1000 {
		t.Errorf("canary requests since: %v", e.CanaryRequests)
	}

	// No data at all: INSUFFICIENT, and it says why.
	v = Judge(Signals{}, JudgeConfig{}, simBase)
	if v.Overall != VerdictInsufficient || !strings.Contains(v.Summary, "stable") {
		t.Errorf("empty: %s %q", v.Overall, v.Summary)
	}
}

func TestLatencyMinRequestsGuard(t *testing.T) {
	// Canary at 90%: stable serves 5 requests a period, so its "p99" is
	// about their maximum, biased low; those periods must not count.
	rows := make([]row, 30)
	for i := range rows {
		rows[i] = row{nc: 900, ns: 5, pc: 150, ps: 100}
	}
	v := Judge(buildSignals(rows), JudgeConfig{Since: simBase}, simBase.Add(30*time.Minute))
	if m, _ := v.Metric(LatencyP99); m.Periods != 0 || m.Kind == VerdictFail {
		t.Fatalf("thin stable periods compared: %+v", m)
	}
	// At a small canary share the canary's own thin p99 is biased in its
	// favour, so those periods do count.
	for i := range rows {
		rows[i] = row{nc: 5, ns: 900, pc: 150, ps: 100}
	}
	v = Judge(buildSignals(rows), JudgeConfig{Since: simBase}, simBase.Add(30*time.Minute))
	if m, _ := v.Metric(LatencyP99); m.Periods != 30 || m.Kind != VerdictFail {
		t.Fatalf("thin canary periods: %+v", m)
	}
}

func TestCustomSignalDirection(t *testing.T) {
	const throughput Signal = "orders_per_min"
	rows := 30
	sig := buildSignals(make([]row, rows))
	for i := 0; i < rows; i++ {
		tm := simBase.Add(time.Duration(i) * time.Minute)
		sig[Canary][throughput] = append(sig[Canary][throughput], Point{tm, 50})
		sig[Stable][throughput] = append(sig[Stable][throughput], Point{tm, 100})
	}
	lowerWorse := CustomSignal{Name: throughput, HigherIsWorse: false, Tolerance: 0.1}
	v := Judge(sig, JudgeConfig{NoLatency: true, Custom: []CustomSignal{lowerWorse}, Since: simBase}, simBase.Add(time.Hour))
	m, ok := v.Metric(throughput)
	if !ok || m.Kind != VerdictFail || v.Overall != VerdictFail {
		t.Fatalf("halved throughput (lower is worse) not FAIL: %+v", m)
	}
	approx(t, "effect", m.EffectSize, 0.5, 1e-12)
	higherWorse := lowerWorse
	higherWorse.HigherIsWorse = true
	v = Judge(sig, JudgeConfig{NoLatency: true, Custom: []CustomSignal{higherWorse}, Since: simBase}, simBase.Add(time.Hour))
	if m, _ := v.Metric(throughput); m.Kind == VerdictFail {
		t.Fatalf("lower value with higher-is-worse FAILed: %+v", m)
	}
}

// stepJudge judges with a step that began after the first period, as
// the engine does for a canary the autopilot stepped: the step is the
// window PASS rests on, and it grows.
func stepJudge(cfg JudgeConfig) func(sig Signals, now time.Time) Verdict {
	return func(sig Signals, now time.Time) Verdict {
		return JudgeSteps(sig, cfg, now, simBase.Add(time.Minute), 4)
	}
}

func TestZeroErrorsBothSides(t *testing.T) {
	// No errors anywhere: no evidence either way. The needed figure uses the
	// rule-of-three bound and the absolute floor, so it is finite, and PASS
	// arrives once that many canary requests have been served in the step.
	c := healthy
	c.stableRate, c.canaryRate = 0, 0
	rng := rand.New(rand.NewPCG(21, 22))
	judge := stepJudge(DefaultJudgeConfig())
	var sig Signals
	var predicted time.Time
	passAt := -1
	for i := 0; i < 240 && passAt < 0; i++ {
		c.step(rng, &sig, i)
		now := simBase.Add(time.Duration(i+1) * time.Minute)
		v := judge(sig, now)
		e, _ := v.Metric(Errors5xx)
		if i+1 == 10 {
			if e.Kind != VerdictInsufficient || math.IsInf(e.NeededRequests, 1) || e.ETA <= 0 {
				t.Fatalf("after 10 min: %+v", e)
			}
			predicted = now.Add(e.ETA)
			t.Logf("after 10 min: %s", v.Summary)
		}
		if e.Kind == VerdictPass {
			passAt = i + 1
			t.Logf("PASS after %d min (predicted at 10 min: %s): %s", passAt, predicted.Sub(simBase), v.Summary)
		}
	}
	if passAt < 0 {
		t.Fatal("zero errors never reached PASS in 4 hours at 1000 req/min")
	}
	// With no errors, stable's rate bound 3/n_s falls as traffic accrues,
	// making the +0.1% alternative ever easier to tell apart: the early
	// estimate overstates the need, but never by more than a few times.
	got := time.Duration(passAt) * time.Minute
	want := predicted.Sub(simBase)
	if got > want || 4*got < want {
		t.Errorf("PASS after %v, predicted %v", got, want)
	}
}

func TestETAPredictsPass(t *testing.T) {
	// With a known stable rate and steady traffic, the time INSUFFICIENT
	// predicts after 15 minutes of a step should match when PASS arrives.
	cfg := DefaultJudgeConfig()
	cfg.NoLatency = true
	judge := stepJudge(cfg)
	rng := rand.New(rand.NewPCG(41, 42))
	var ratios []float64
	for r := 0; r < 30; r++ {
		var sig Signals
		var predicted time.Duration
		for i := 0; i < 300; i++ {
			healthy.step(rng, &sig, i)
			v := judge(sig, simBase.Add(time.Duration(i+1)*time.Minute))
			if i+1 == 15 {
				predicted = 15*time.Minute + v.Metrics[0].ETA
			}
			if v.Overall == VerdictPass {
				ratios = append(ratios, float64(i+1)*float64(time.Minute)/float64(predicted))
				break
			}
		}
	}
	med := median(ratios)
	t.Logf("PASS time / time predicted at 15 min: median %.2f over %d runs", med, len(ratios))
	if len(ratios) < 28 || med < 0.7 || med > 1.4 {
		t.Fatalf("prediction off: median ratio %.2f (%d runs passed)", med, len(ratios))
	}
}

func TestPassIsCalibrated(t *testing.T) {
	// PASS on a step promises that a regression of MinRelativeRegression
	// over the step would have been detected with probability Power by
	// then. Find when healthy canaries reach PASS on errors, then check how
	// many 2x canaries on the same traffic were FAILed by that time.
	cfg := DefaultJudgeConfig()
	cfg.NoLatency = true
	judge := stepJudge(cfg)
	rng := rand.New(rand.NewPCG(31, 32))
	var passTimes []float64
	for r := 0; r < 40; r++ {
		var sig Signals
		for i := 0; i < 300; i++ {
			healthy.step(rng, &sig, i)
			if judge(sig, simBase.Add(time.Duration(i+1)*time.Minute)).Overall == VerdictPass {
				passTimes = append(passTimes, float64(i+1))
				break
			}
		}
	}
	if len(passTimes) < 38 {
		t.Fatalf("only %d of 40 healthy canaries reached PASS in 5 hours", len(passTimes))
	}
	passAt := int(median(passTimes))
	c := healthy
	c.canaryRate = 2 * c.stableRate
	c.regressFrom = 1 // from the step on
	detected := 0
	const runs = 200
	for r := 0; r < runs; r++ {
		if at, _, _ := c.watch(rng, passAt, 0, judge); at >= 0 {
			detected++
		}
	}
	power := float64(detected) / runs
	t.Logf("healthy canaries PASS after a median %d min; by then %d of %d 2x canaries FAILed (%.0f%%, promised %.0f%%)",
		passAt, detected, runs, 100*power, 100*cfg.Power)
	if power < cfg.Power-0.1 {
		t.Fatalf("PASS came too early: only %.0f%% of 2x regressions detected by then", 100*power)
	}
}

func TestVerdictSummaries(t *testing.T) {
	rows := []row{{100, 900, 40, 5, 100, 100}, {100, 900, 40, 5, 100, 100}}
	v := Judge(buildSignals(rows), JudgeConfig{Since: simBase}, simBase.Add(2*time.Minute))
	if v.Overall != VerdictFail {
		t.Fatalf("%+v", v)
	}
	// Which test and from when, and its evidence against its bar: errors
	// get 1.75/2.75 of alpha beside latency, 2.75/(1.75 alpha) = 157 over
	// the from-start test's half of the budget.
	for _, want := range []string{"FAIL", "errors canary", "canary 40.0% vs stable 0.56%", "72.0x", "from the start at 12:00", "≥ 314"} {
		if !strings.Contains(v.Summary, want) {
			t.Errorf("summary %q lacks %q", v.Summary, want)
		}
	}
	v = Judge(buildSignals(rows[:0]), JudgeConfig{}, simBase)
	if strings.Contains(v.Summary, "\n") || v.Summary == "" {
		t.Errorf("summary must be one line: %q", v.Summary)
	}
}

func BenchmarkJudge6h(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	var sig Signals
	for i := 0; i < 360; i++ {
		healthy.step(rng, &sig, i)
	}
	cfg := DefaultJudgeConfig()
	cfg.Since = simBase
	now := simBase.Add(6 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		Judge(sig, cfg, now)
	}
}

// A verdict with no effect measured (NaN) and an unreachable need (+Inf)
// survives JSON (recordings, status --json) and comes back the same.
func TestMetricVerdictJSON(t *testing.T) {
	in := MetricVerdict{Signal: Errors5xx, Kind: VerdictInsufficient, EffectSize: math.NaN(), NeededRequests: math.Inf(1),
		Evidence: 2, Threshold: 300, Tests: []TestEvidence{{Test: TestDetector, Evidence: 2, Threshold: 300}}, Summary: "s"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"effect_size":null`) || !strings.Contains(string(b), `"needed_requests":null`) {
		t.Fatalf("JSON %s", b)
	}
	var out MetricVerdict
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(out.EffectSize) || !math.IsInf(out.NeededRequests, 1) || out.Summary != "s" || len(out.Tests) != 1 || out.Threshold != 300 {
		t.Fatalf("round trip: %+v", out)
	}
	in.EffectSize, in.NeededRequests = 1.5, 1200
	b, _ = json.Marshal(in)
	json.Unmarshal(b, &out)
	if out.EffectSize != 1.5 || out.NeededRequests != 1200 {
		t.Fatalf("finite values: %+v", out)
	}
}
