package elbv2

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim/metrics"
	"github.com/perch-dev/perch/sim/scenario"
	"github.com/perch-dev/perch/sim/traffic"
)

// side selects the datums of one metric for one target group dimension.
func (r *recorder) side(metric, tgARN string) map[time.Time]metrics.Datum {
	out := map[time.Time]metrics.Datum{}
	for _, d := range r.datums {
		if d.MetricName == metric && d.Dimensions[1].Value == tgDimension(tgARN) {
			if _, dup := out[d.Timestamp]; dup {
				panic(fmt.Sprintf("period %s of %s published twice", d.Timestamp, metric))
			}
			out[d.Timestamp] = d
		}
	}
	return out
}

func (r *recorder) sum(metric, tgARN string, from, to time.Time) float64 {
	total := 0.0
	for ts, d := range r.side(metric, tgARN) {
		if !ts.Before(from) && ts.Before(to) {
			total += d.Sum
		}
	}
	return total
}

// albSim drives an ELBv2 seeded with a scenario's ALBs on a manual
// clock, the way the simulator does.
type albSim struct {
	seededELB
	clk *clock.Manual
}

func (s *albSim) Manifest(string) scenario.Manifest { return scenario.Manifest{Targets: s.targets} }

func (s *albSim) Sync() { s.AdvanceTraffic(s.clk.Now()) }

func (s *albSim) Weights(ruleARN string) (map[string]int, error) { return s.RuleWeights(ruleARN) }

func (s *albSim) SetWeights(ruleARN string, weights map[string]int) error {
	s.Sync()
	return s.SetRuleWeights(ruleARN, weights)
}

func testSim(t *testing.T, name string, seed int64) (*albSim, *clock.Manual, *recorder) {
	t.Helper()
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	if seed == 0 {
		seed = sc.Seed
	}
	s := &albSim{seededELB: seededWith(sc, seed), clk: clock.NewManual(epoch)}
	return s, s.clk, s.rec
}

func TestBackfillAndPublishDelay(t *testing.T) {
	s, clk, rec := testSim(t, "healthy", 0)
	m := s.Manifest("")
	stable := rec.side("RequestCount", m.Targets[0].StableTargetGroupARN)
	// History 60m, delay 30s: at 07:00:00 the periods 06:00 .. 06:58 are
	// visible; 06:59 ends at 07:00 and shows at 07:00:30.
	if len(stable) != 59 {
		t.Fatalf("backfilled %d stable periods, want 59", len(stable))
	}
	first, last := epoch.Add(-60*time.Minute), epoch.Add(-2*time.Minute)
	if _, ok := stable[first]; !ok {
		t.Errorf("no period at %s (start of history)", first)
	}
	if _, ok := stable[last]; !ok {
		t.Errorf("no period at %s", last)
	}
	for ts, d := range stable {
		if ts.Truncate(time.Minute) != ts || d.Unit != "Count" || d.Namespace != "AWS/ApplicationELB" {
			t.Fatalf("datum %+v", d)
		}
	}
	clk.Advance(29 * time.Second)
	s.Sync()
	if _, ok := rec.side("RequestCount", m.Targets[0].StableTargetGroupARN)[epoch.Add(-time.Minute)]; ok {
		t.Fatalf("period 06:59 visible at 07:00:29, before its publishing delay")
	}
	clk.Advance(time.Second)
	s.Sync()
	if _, ok := rec.side("RequestCount", m.Targets[0].StableTargetGroupARN)[epoch.Add(-time.Minute)]; !ok {
		t.Fatalf("period 06:59 not visible at 07:00:30")
	}
	lb := rec.datums[0].Dimensions[0]
	if lb.Name != "LoadBalancer" || !strings.HasPrefix(lb.Value, "app/checkout/") || rec.datums[0].Dimensions[1].Name != "TargetGroup" {
		t.Errorf("dimensions = %+v", rec.datums[0].Dimensions)
	}
}

func TestTrafficIsDeterministicWhateverTheQueryPattern(t *testing.T) {
	a, clkA, recA := testSim(t, "error-spike", 0)
	b, clkB, recB := testSim(t, "error-spike", 0)
	// A catches up in one jump; B in odd steps, syncing many times.
	clkA.Advance(45 * time.Minute)
	a.Sync()
	for clkB.Now().Before(epoch.Add(45 * time.Minute)) {
		clkB.Advance(17 * time.Second)
		b.Sync()
		b.Sync()
	}
	byKey := func(r *recorder) map[string]metrics.Datum {
		out := map[string]metrics.Datum{}
		for _, d := range r.datums {
			if d.Timestamp.Before(epoch.Add(44 * time.Minute)) {
				out[d.MetricName+d.Dimensions[1].Value+d.Timestamp.String()] = d
			}
		}
		return out
	}
	da, db := byKey(recA), byKey(recB)
	if len(da) == 0 || !reflect.DeepEqual(da, db) {
		t.Fatalf("same seed, different data: %d vs %d datums", len(da), len(db))
	}

	c, clkC, recC := testSim(t, "error-spike", 42)
	clkC.Advance(45 * time.Minute)
	c.Sync()
	if reflect.DeepEqual(byKey(recC), da) {
		t.Fatalf("a different seed produced identical data")
	}
}

func TestSplitFollowsWeights(t *testing.T) {
	s, clk, rec := testSim(t, "healthy", 0)
	tg := s.Manifest("").Targets[0]
	from := epoch.Add(-60 * time.Minute)
	st, ca := rec.sum("RequestCount", tg.StableTargetGroupARN, from, epoch), rec.sum("RequestCount", tg.CanaryTargetGroupARN, from, epoch)
	// 59 periods at 1000/min: about 59000 requests; the canary's share is
	// binomial around 0.10 with a standard deviation near 0.0012.
	if total := st + ca; math.Abs(total-59000) > 5*math.Sqrt(59000) {
		t.Errorf("total requests %v, want about 59000", total)
	}
	if share := ca / (st + ca); math.Abs(share-0.10) > 0.006 {
		t.Errorf("canary share %.4f at weights 90/10", share)
	}

	if err := s.SetWeights(tg.RuleARN, map[string]int{tg.StableTargetGroupARN: 1, tg.CanaryTargetGroupARN: 3}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(31 * time.Minute)
	s.Sync()
	from = epoch.Add(time.Minute) // the first whole period after the change
	to := epoch.Add(30 * time.Minute)
	st, ca = rec.sum("RequestCount", tg.StableTargetGroupARN, from, to), rec.sum("RequestCount", tg.CanaryTargetGroupARN, from, to)
	if share := ca / (st + ca); math.Abs(share-0.75) > 0.01 {
		t.Errorf("canary share %.4f at weights 1/3, want 0.75", share)
	}
}

func TestZeroWeightSidePublishesNothing(t *testing.T) {
	s, clk, rec := testSim(t, "bad-targets", 0)
	odd := s.Manifest("").Targets[0]
	if odd.Name != "odd" {
		t.Fatalf("first target is %s", odd.Name)
	}
	clk.Advance(10 * time.Minute)
	s.Sync()
	for _, d := range rec.datums {
		if d.Dimensions[1].Value == tgDimension(odd.CanaryTargetGroupARN) && !strings.HasSuffix(d.MetricName, "HostCount") {
			t.Fatalf("weight-0 canary published %s at %s", d.MetricName, d.Timestamp)
		}
	}
	if n := len(rec.side("RequestCount", odd.StableTargetGroupARN)); n < 35 {
		t.Fatalf("stable published only %d periods", n)
	}
	// Error counts are never published as zero (ALB omits them).
	for _, d := range rec.datums {
		if strings.HasPrefix(d.MetricName, "HTTPCode_") && d.Sum == 0 {
			t.Fatalf("zero-valued %s published", d.MetricName)
		}
	}
}

func TestMidPeriodShiftIsTimeWeighted(t *testing.T) {
	c := &canaryRun{Routing: traffic.NewRouting(shares{stable: 1, canary: 0}, nil)}
	c.Record(epoch.Add(15*time.Second), shares{stable: 0.5, canary: 0.5})
	c.Record(epoch.Add(45*time.Second), shares{stable: 0, canary: 1})
	st, ca := c.sharesOver(epoch)
	if math.Abs(st-0.5) > 1e-9 || math.Abs(ca-0.5) > 1e-9 {
		t.Errorf("shares over the shifting period = %v/%v, want 0.5/0.5", st, ca)
	}
	st, ca = c.sharesOver(epoch.Add(time.Minute))
	if st != 0 || ca != 1 {
		t.Errorf("shares after = %v/%v", st, ca)
	}
	st, ca = c.sharesOver(epoch.Add(-time.Minute))
	if st != 1 || ca != 0 {
		t.Errorf("shares before = %v/%v", st, ca)
	}
}

func TestErrorSpikeRaisesCanaryErrors(t *testing.T) {
	s, clk, rec := testSim(t, "error-spike", 0)
	tg := s.Manifest("").Targets[0]
	clk.Advance(62 * time.Minute)
	s.Sync()
	rate := func(arn string, from, to time.Time) float64 {
		return rec.sum("HTTPCode_Target_5XX_Count", arn, from, to) / rec.sum("RequestCount", arn, from, to)
	}
	before := rate(tg.CanaryTargetGroupARN, epoch.Add(-60*time.Minute), epoch.Add(8*time.Minute))
	after := rate(tg.CanaryTargetGroupARN, epoch.Add(8*time.Minute), epoch.Add(60*time.Minute))
	stable := rate(tg.StableTargetGroupARN, epoch.Add(8*time.Minute), epoch.Add(60*time.Minute))
	// About 5200 canary requests after the spike (eight minutes in): 5% with sd 0.3%.
	if math.Abs(after-0.05) > 0.012 || math.Abs(before-0.005) > 0.004 || math.Abs(stable-0.005) > 0.002 {
		t.Errorf("5xx rates: canary before %.4f after %.4f, stable %.4f", before, after, stable)
	}
	r4 := rec.sum("HTTPCode_Target_4XX_Count", tg.StableTargetGroupARN, epoch, epoch.Add(60*time.Minute)) /
		rec.sum("RequestCount", tg.StableTargetGroupARN, epoch, epoch.Add(60*time.Minute))
	if math.Abs(r4-0.01) > 0.003 {
		t.Errorf("stable 4xx rate %.4f, want 0.01", r4)
	}
}

// percentile merges histograms and reads the q-quantile.
func percentile(ds []metrics.Datum, q float64) float64 {
	type vc struct{ v, c float64 }
	var all []vc
	total := 0.0
	for _, d := range ds {
		for i, v := range d.Values {
			all = append(all, vc{v, d.Counts[i]})
			total += d.Counts[i]
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	acc := 0.0
	for _, x := range all {
		acc += x.c
		if acc >= q*total {
			return x.v
		}
	}
	return math.NaN()
}

func TestLatencyRegressionAndHistogramBounds(t *testing.T) {
	s, clk, rec := testSim(t, "latency-regression", 0)
	tg := s.Manifest("").Targets[0]
	clk.Advance(62 * time.Minute)
	s.Sync()
	var before, after, stable []metrics.Datum
	for ts, d := range rec.side("TargetResponseTime", tg.CanaryTargetGroupARN) {
		if len(d.Values) > traffic.MaxLatencyDraws || len(d.Values) != len(d.Counts) || d.Unit != "Seconds" {
			t.Fatalf("histogram at %s has %d values / %d counts, unit %s", ts, len(d.Values), len(d.Counts), d.Unit)
		}
		if ts.Before(epoch.Add(2 * time.Minute)) {
			before = append(before, d)
		} else {
			after = append(after, d)
		}
	}
	for _, d := range rec.side("TargetResponseTime", tg.StableTargetGroupARN) {
		stable = append(stable, d)
		n := 0.0
		for _, c := range d.Counts {
			n += c
		}
		if req := rec.side("RequestCount", tg.StableTargetGroupARN)[d.Timestamp].Sum; n != req {
			t.Fatalf("histogram counts %v != requests %v at %s", n, req, d.Timestamp)
		}
	}
	check := func(name string, ds []metrics.Datum, p50, p99 float64) {
		t.Helper()
		if got := percentile(ds, 0.5); math.Abs(got-p50)/p50 > 0.08 {
			t.Errorf("%s p50 = %.4fs, want %.3fs", name, got, p50)
		}
		if got := percentile(ds, 0.99); math.Abs(got-p99)/p99 > 0.2 {
			t.Errorf("%s p99 = %.4fs, want %.3fs", name, got, p99)
		}
	}
	check("canary before", before, 0.040, 0.180)
	check("canary after", after, 0.055, 0.540)
	check("stable", stable, 0.040, 0.180)
}

func TestLowTrafficMostlyEmpty(t *testing.T) {
	s, _, rec := testSim(t, "low-traffic", 0)
	tg := s.Manifest("").Targets[0]
	n := len(rec.side("RequestCount", tg.StableTargetGroupARN)) + len(rec.side("RequestCount", tg.CanaryTargetGroupARN))
	total := rec.sum("RequestCount", tg.StableTargetGroupARN, epoch.Add(-7*time.Hour), epoch) +
		rec.sum("RequestCount", tg.CanaryTargetGroupARN, epoch.Add(-7*time.Hour), epoch)
	// 359 periods at 0.07/min: about 25 requests, so at most ~25 of the
	// 718 side-periods can have data.
	if n == 0 || n > 60 || total < 8 || total > 50 {
		t.Errorf("low traffic: %d side-periods with data, %v requests over 6h", n, total)
	}
}

func TestDriftEventRewritesWeights(t *testing.T) {
	s, clk, rec := testSim(t, "drift", 0)
	tg := s.Manifest("").Targets[0]
	clk.Advance(4 * time.Minute)
	s.Sync()
	if w, _ := s.Weights(tg.RuleARN); w[tg.CanaryTargetGroupARN] != 10 {
		t.Fatalf("weights before the drift = %v", w)
	}
	clk.Advance(40 * time.Minute)
	s.Sync()
	if w, _ := s.Weights(tg.RuleARN); w[tg.CanaryTargetGroupARN] != 50 || w[tg.StableTargetGroupARN] != 50 {
		t.Fatalf("weights after the drift = %v", w)
	}
	from, to := epoch.Add(5*time.Minute), epoch.Add(40*time.Minute)
	st, ca := rec.sum("RequestCount", tg.StableTargetGroupARN, from, to), rec.sum("RequestCount", tg.CanaryTargetGroupARN, from, to)
	if share := ca / (st + ca); math.Abs(share-0.5) > 0.02 {
		t.Errorf("canary share after drift %.3f, want 0.5 (the change is dated at the event, not at the sync)", share)
	}
}

// TestHostCountsFollowTargetHealth: HealthyHostCount and
// UnHealthyHostCount are published every period for both sides, even a
// side with no requests, and follow the targets' states.
func TestHostCountsFollowTargetHealth(t *testing.T) {
	s, clk, rec := testSim(t, "bad-targets", 0)
	odd := s.Manifest("").Targets[0]
	clk.Advance(2 * time.Minute)
	s.Sync()
	if err := s.SetTargetHealth(odd.CanaryTargetGroupARN, 0); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * time.Minute)
	s.Sync()
	last := func(metric string) float64 {
		var at time.Time
		v := -1.0
		for ts, d := range rec.side(metric, odd.CanaryTargetGroupARN) {
			if ts.After(at) {
				at, v = ts, d.Sum
			}
		}
		return v
	}
	if h, u := last("HealthyHostCount"), last("UnHealthyHostCount"); h != 0 || u < 1 {
		t.Fatalf("after every canary target failed: healthy %v, unhealthy %v", h, u)
	}
}

func TestDayOfTrafficIsCheapAndBounded(t *testing.T) {
	s, clk, rec := testSim(t, "healthy", 0)
	rec.datums = nil
	start := time.Now()
	for range 24 {
		// Hourly steps: one jump of a day would skip what the store
		// would prune at once.
		clk.Advance(time.Hour)
		s.Sync()
	}
	elapsed := time.Since(start)
	// 1440 periods × 2 sides × (requests, 5xx, 4xx, latency, healthy
	// and unhealthy hosts) at most.
	if len(rec.datums) > 1440*2*6 || len(rec.datums) < 1440*2*2 {
		t.Errorf("a day published %d datums", len(rec.datums))
	}
	if s.traffic.canaries[0].Changes() != 1 {
		t.Errorf("share history kept %d entries", s.traffic.canaries[0].Changes())
	}
	// BenchmarkSimulatedDay holds the cost; a wall-clock bound here would
	// only flake on a loaded machine.
	t.Logf("a simulated day took %s", elapsed)
}
