package aws

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/perch-dev/perch/internal/metricmath"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// recordingCW is perch's cwAPI port recording what each call asked for
// and answering one point per query.
type recordingCW struct {
	mu    sync.Mutex
	calls [][]cwtypes.MetricDataQuery
	fail  int // fail this call (1-based), 0 never
}

func (r *recordingCW) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, in.MetricDataQueries)
	if len(r.calls) == r.fail {
		return nil, fmt.Errorf("Throttling: rate exceeded")
	}
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		out.MetricDataResults = append(out.MetricDataResults, cwtypes.MetricDataResult{
			Id: q.Id, Timestamps: []time.Time{*in.StartTime}, Values: []float64{7},
		})
	}
	return out, nil
}

func (r *recordingCW) DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return &cloudwatch.DescribeAlarmsOutput{}, nil
}

func fleetTarget(i int) model.Target {
	return model.Target{
		Kind:            model.KindALB,
		LoadBalancerARN: fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/lb%d/%016x", i, i),
		StableARN:       fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/s%d/%016x", i, i),
		CanaryARN:       fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/c%d/%016x", i, i+1),
	}
}

// ratioCustom is target tg's "100 * failed / orders" custom metric on both
// sides, each reading its own target group's business metrics.
func ratioCustom(tg model.Target) []CustomMetric {
	var out []CustomMetric
	for _, side := range model.Sides {
		dims := []model.Dimension{{Name: "TargetGroup", Value: SideValues(tg, side)["target_group"]}}
		out = append(out, CustomMetric{
			Name: "failed_share", Side: side, Expression: "100 * failed / orders",
			Inputs: []model.MetricInput{
				{ID: "failed", Metric: model.MetricStat{Namespace: "Shop", Name: "OrdersFailed", Stat: "Sum", Dimensions: dims}},
				{ID: "orders", Metric: model.MetricStat{Namespace: "Shop", Name: "OrdersPlaced", Stat: "Sum", Dimensions: dims}},
			},
		})
	}
	return out
}

func TestPoolPacksCallsAndKeepsExpressionsWhole(t *testing.T) {
	api := &recordingCW{}
	p := NewMetricsPool()
	var ids []int
	// 4 plain targets (10 queries each) and 37 with a custom expression
	// (10 + 2 sides x 3) = 632 queries: two calls. The 29th custom target's
	// stable expression would straddle the 500th query: it must move whole.
	for i := range 41 {
		var cq []MetricQuery
		if i >= 4 {
			var err error
			if cq, err = CustomQueries(ratioCustom(fleetTarget(i))); err != nil {
				t.Fatal(err)
			}
		}
		src, ok := SharedFrom(NewALBMetrics(awssdk.Config{}, fleetTarget(i)), cq)
		if !ok {
			t.Fatal("an ALB reader is shareable")
		}
		id, err := p.add("us-east-1", func() cwAPI { return api }, src)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	q, billed := p.QueryCount()
	if q != 632 || billed != 40+37*14 {
		t.Fatalf("QueryCount %d, %d", q, billed)
	}
	now := time.Date(2026, 11, 26, 8, 0, 30, 0, time.UTC)
	var reqs []PoolRequest
	for _, id := range ids {
		reqs = append(reqs, PoolRequest{Member: id, Start: now.Add(-3 * time.Minute), End: now})
	}
	res, st := p.Fetch(t.Context(), reqs)
	if len(api.calls) != 2 || st.Calls != 2 || st.Queries != q || st.Metrics != billed {
		t.Fatalf("%d calls, stats %+v; want 2 calls for %d queries", len(api.calls), st, q)
	}
	for ci, call := range api.calls {
		if len(call) > MaxQueriesPerCall {
			t.Fatalf("call %d has %d queries", ci, len(call))
		}
		have := map[string]bool{}
		for _, mq := range call {
			have[awssdk.ToString(mq.Id)] = true
		}
		for _, mq := range call {
			if mq.Expression == nil {
				continue
			}
			for _, ref := range metricmath.IDs(*mq.Expression) {
				if strings.Contains(ref, "__") && !have[ref] {
					t.Fatalf("call %d: expression %s reads %s from another call", ci, *mq.Expression, ref)
				}
			}
		}
	}
	first := api.calls[0][0]
	if id := awssdk.ToString(first.Id); id != "t0_stable_requests" {
		t.Errorf("first query id %q: want the member prefix", id)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("member %d: %v", i, r.Err)
		}
		got := map[string]bool{}
		for _, sd := range r.Data {
			if len(sd.Points) > 0 {
				got[sd.Side.String()+"/"+string(sd.Signal)] = true
			}
		}
		wantN, want := 10, []string{"stable/requests", "canary/latency_p99"}
		if i >= 4 {
			wantN, want = 12, append(want, "canary/failed_share", "stable/failed_share")
		}
		for _, w := range want {
			if !got[w] {
				t.Fatalf("member %d: no %s in %v", i, w, got)
			}
		}
		if len(r.Data) != wantN {
			t.Fatalf("member %d: %d series, want %d (inputs are not series)", i, len(r.Data), wantN)
		}
	}

	// A failed call fails the members in it, and only those.
	api.calls, api.fail = nil, 2
	res, _ = p.Fetch(t.Context(), reqs)
	failed := 0
	for _, r := range res {
		if r.Err != nil {
			failed++
		}
	}
	if failed == 0 || failed == len(res) || res[0].Err != nil || res[len(res)-1].Err == nil {
		t.Errorf("%d of %d members failed with the second call", failed, len(res))
	}
}

func TestPoolGroupsByClientAndWindow(t *testing.T) {
	east, west := &recordingCW{}, &recordingCW{}
	p := NewMetricsPool()
	now := time.Date(2026, 11, 26, 8, 0, 30, 0, time.UTC)
	var reqs []PoolRequest
	for i := range 6 {
		api, key := east, "east"
		if i%2 == 1 {
			api, key = west, "west"
		}
		src, _ := SharedFrom(NewALBMetrics(awssdk.Config{}, fleetTarget(i)), nil)
		id, err := p.add(key, func() cwAPI { return api }, src)
		if err != nil {
			t.Fatal(err)
		}
		start := now.Add(-3 * time.Minute)
		if i == 4 {
			start = now.Add(-3 * time.Hour) // a member catching up
		}
		reqs = append(reqs, PoolRequest{Member: id, Start: start, End: now})
	}
	_, st := p.Fetch(t.Context(), reqs)
	if len(east.calls) != 2 || len(west.calls) != 1 || st.Calls != 3 {
		t.Errorf("east %d calls, west %d: a call spans neither clients nor windows", len(east.calls), len(west.calls))
	}
}

// TestPoolOnTheSimulator: 60 canaries' metrics in ceil(600/500) calls, the
// same points each target's own Fetch returns.
func TestPoolOnTheSimulator(t *testing.T) {
	base, err := sim.LoadScenario("healthy")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sim.FleetScenario(base, 60)
	if err != nil {
		t.Fatal(err)
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	cfg := testConfig(t, env.URL)
	counter := NewCallCounter()
	counter.Attach(&cfg)
	p := NewMetricsPool()
	var reqs []PoolRequest
	var own []*Metrics
	now := env.Clock.Now()
	for _, mt := range env.Manifest.Targets {
		tg := model.Target{Kind: model.KindALB, LoadBalancerARN: mt.LoadBalancerARN, StableARN: mt.StableTargetGroupARN, CanaryARN: mt.CanaryTargetGroupARN}
		m := NewALBMetrics(cfg, tg)
		src, _ := SharedFrom(m, nil)
		id, err := p.Add("us-east-1", cfg, src)
		if err != nil {
			t.Fatal(err)
		}
		own = append(own, m)
		reqs = append(reqs, PoolRequest{Member: id, Start: now.Add(-10 * time.Minute), End: now})
	}
	env.Sim.ResetStats()
	res, st := p.Fetch(t.Context(), reqs)
	if calls := env.Sim.Stats()["cloudwatch:GetMetricData"]; calls != CallsFor(600) || st.Calls != calls {
		t.Fatalf("/_sim/stats says %d GetMetricData calls (pool says %d) for 600 queries, want %d", calls, st.Calls, CallsFor(600))
	}
	if n := counter.Counts()["CloudWatch:GetMetricData"]; n != int64(st.Calls) {
		t.Errorf("call counter %d, want %d", n, st.Calls)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		alone, err := own[i].Fetch(t.Context(), now.Add(-10*time.Minute), now)
		if err != nil {
			t.Fatal(err)
		}
		// A shared poll has no slow counts (their threshold is learnt per
		// reader); everything else is the same.
		alone = slices.DeleteFunc(alone, func(sd model.SeriesData) bool {
			return sd.Signal == model.SlowRequests || sd.Signal == model.SlowThreshold
		})
		if fmt.Sprint(alone) != fmt.Sprint(r.Data) {
			t.Fatalf("target %d: pooled series differ from its own fetch", i)
		}
	}
	if st.Datapoints == 0 {
		t.Error("no datapoints counted")
	}
}

// TestCustomMetricsOnTheSimulator: a business metric published per target
// group, read as a metric and as an expression with ${side.target_group}
// filled in for each side.
func TestCustomMetricsOnTheSimulator(t *testing.T) {
	env, cfg := simEnv(t, "healthy")
	mt := simTarget(t, env, "checkout")
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: mt.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	tg := r.Target()
	cw := cloudwatch.NewFromConfig(cfg)
	now := env.Clock.Now()
	at := now.Truncate(time.Minute).Add(-5 * time.Minute)
	for _, side := range model.Sides {
		dim := SideValues(tg, side)["target_group"]
		placed, failed := 100.0, 2.0
		if side == model.Canary {
			placed, failed = 50, 5
		}
		for name, v := range map[string]float64{"OrdersPlaced": placed, "OrdersFailed": failed} {
			_, err := cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{
				Namespace: awssdk.String("Shop"),
				MetricData: []cwtypes.MetricDatum{{
					MetricName: awssdk.String(name), Value: awssdk.Float64(v), Timestamp: awssdk.Time(at),
					Dimensions: []cwtypes.Dimension{{Name: awssdk.String("TargetGroup"), Value: awssdk.String(dim)}},
				}},
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	var custom []CustomMetric
	for _, side := range model.Sides {
		dims := []model.Dimension{{Name: "TargetGroup", Value: SideValues(tg, side)["target_group"]}}
		custom = append(custom, CustomMetric{
			Name: "orders", Side: side,
			Metric: &model.MetricStat{Namespace: "Shop", Name: "OrdersPlaced", Stat: "Sum", Dimensions: dims},
		})
	}
	custom = append(custom, ratioCustom(tg)...)
	cq, err := CustomQueries(custom)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := SharedFrom(NewALBMetrics(cfg, tg), cq)
	p := NewMetricsPool()
	id, err := p.Add("us-east-1", cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := p.Fetch(t.Context(), []PoolRequest{{Member: id, Start: now.Add(-10 * time.Minute), End: now}})
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	want := map[string]float64{"stable/orders": 100, "canary/orders": 50, "stable/failed_share": 2, "canary/failed_share": 10}
	for _, sd := range res[0].Data {
		k := sd.Side.String() + "/" + string(sd.Signal)
		w, ok := want[k]
		if !ok {
			continue
		}
		if len(sd.Points) != 1 || !sd.Points[0].T.Equal(at) || math.Abs(sd.Points[0].V-w) > 1e-9 {
			t.Errorf("%s: %v, want one point %v at %s", k, sd.Points, w, at.Format("15:04"))
		}
		delete(want, k)
	}
	if len(want) > 0 {
		t.Errorf("missing series %v", want)
	}
}
