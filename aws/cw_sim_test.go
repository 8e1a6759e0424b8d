package aws

import (
	"math"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/perch-dev/perch/model"
)

func TestSimMetricsFetch(t *testing.T) {
	env, cfg := simEnv(t, "healthy")
	mt := simTarget(t, env, "checkout")
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: mt.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	m := NewALBMetrics(cfg, r.Target())
	if m.QueryCount() != 10 {
		t.Fatalf("QueryCount = %d", m.QueryCount())
	}
	now := env.Clock.Now()
	env.Sim.ResetStats()
	got, err := m.Fetch(t.Context(), now.Add(-15*time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	// The first read learns the slow-request threshold from stable's p99s
	// and asks for the slow counts of the same window in a second call.
	if st := env.Sim.Stats(); st["cloudwatch:GetMetricData"] != 2 || len(st) != 1 {
		t.Fatalf("first Fetch calls = %v, want two GetMetricData", st)
	}
	if len(got) != 13 {
		t.Fatalf("%d series, want 13 (10, the slow counts of both sides, the threshold)", len(got))
	}
	if m.QueryCount() != 12 {
		t.Fatalf("QueryCount after the threshold is known = %d, want 12", m.QueryCount())
	}
	by := map[model.Side]map[model.Signal][]model.Point{model.Stable: {}, model.Canary: {}}
	for _, s := range got {
		by[s.Side][s.Signal] = s.Points
	}
	for _, side := range model.Sides {
		req := by[side][model.Requests]
		// 15 minutes back, minus the publish delay: at least 13 periods.
		if len(req) < 13 || len(req) > 15 {
			t.Fatalf("%s requests: %d points", side, len(req))
		}
		for i, p := range req {
			if p.T.Second() != 0 || p.T.Before(now.Add(-15*time.Minute)) || !p.T.Before(now) {
				t.Fatalf("%s point %d at %s: not a period start in range", side, i, p.T)
			}
			if i > 0 && !p.T.After(req[i-1].T) {
				t.Fatalf("%s points not ascending", side)
			}
		}
		for _, sig := range []model.Signal{model.Errors5xx, model.Errors4xx} {
			if len(by[side][sig]) != len(req) {
				t.Errorf("%s %s: %d points for %d request periods (zeros not filled?)", side, sig, len(by[side][sig]), len(req))
			}
		}
		// healthy: p50 40 ms, p99 180 ms, in milliseconds after conversion.
		for sig, want := range map[model.Signal]float64{model.LatencyP50: 40, model.LatencyP99: 180} {
			pts := by[side][sig]
			if len(pts) == 0 {
				t.Fatalf("%s %s: no points", side, sig)
			}
			var sum float64
			for _, p := range pts {
				sum += p.V
			}
			if avg := sum / float64(len(pts)); math.Abs(avg-want)/want > 0.35 {
				t.Errorf("%s %s average %.1f ms, want about %.0f ms", side, sig, avg, want)
			}
		}
	}
	// 90/10 at 1000 requests a minute.
	st, ca := model.Sum(by[model.Stable][model.Requests], time.Time{}), model.Sum(by[model.Canary][model.Requests], time.Time{})
	if share := 100 * ca / (st + ca); share < 7 || share > 13 {
		t.Errorf("canary share of requests %.1f%%, want about 10%%", share)
	}
	perMin := (st + ca) / float64(len(by[model.Stable][model.Requests]))
	if perMin < 850 || perMin > 1150 {
		t.Errorf("%.0f requests a minute, want about 1000", perMin)
	}
	// The threshold is stable's p99 (180 ms), and about 1% of each side's
	// requests are slower.
	th := by[model.Stable][model.SlowThreshold]
	if len(th) != len(by[model.Stable][model.Requests]) || th[0].V < 160 || th[0].V > 200 {
		t.Fatalf("slow threshold %v, want about 180 ms for each stable period", th)
	}
	for _, side := range model.Sides {
		slow, req := by[side][model.SlowRequests], by[side][model.Requests]
		if len(slow) != len(req) {
			t.Fatalf("%s: %d slow counts for %d request periods", side, len(slow), len(req))
		}
		if share := model.Sum(slow, time.Time{}) / model.Sum(req, time.Time{}); share > 0.03 {
			t.Errorf("%s: %.3f of requests slower than stable's p99", side, share)
		}
	}
	env.Sim.ResetStats()
	if _, err := m.Fetch(t.Context(), now.Add(-5*time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if st := env.Sim.Stats(); st["cloudwatch:GetMetricData"] != 1 {
		t.Fatalf("a later Fetch made %v, want one GetMetricData", st)
	}
}

// A short first read (too few stable periods for a threshold) leaves the
// slow counts out until a read has enough; latency is then judged by p99.
func TestSimMetricsSlowCountsWaitForABaseline(t *testing.T) {
	env, cfg := simEnv(t, "healthy")
	mt := simTarget(t, env, "checkout")
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: mt.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	m := NewALBMetrics(cfg, r.Target())
	now := env.Clock.Now()
	got, err := m.Fetch(t.Context(), now.Add(-4*time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	for _, sd := range got {
		if sd.Signal == model.SlowRequests || sd.Signal == model.SlowThreshold {
			t.Fatalf("slow counts from %d points of history: %+v", len(sd.Points), sd)
		}
	}
	if m.QueryCount() != 10 {
		t.Fatalf("QueryCount = %d before a threshold", m.QueryCount())
	}
	if _, err := m.Fetch(t.Context(), now.Add(-20*time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if m.QueryCount() != 12 {
		t.Fatalf("QueryCount = %d after a read with enough history", m.QueryCount())
	}
}

func TestSimMetricsFollowTheClock(t *testing.T) {
	env, cfg := simEnv(t, "healthy")
	mt := simTarget(t, env, "checkout")
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: mt.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	m := NewALBMetrics(cfg, r.Target())
	latest := func() time.Time {
		got, err := m.Fetch(t.Context(), env.Clock.Now().Add(-10*time.Minute), env.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got {
			if s.Side == model.Canary && s.Signal == model.Requests && len(s.Points) > 0 {
				return s.Points[len(s.Points)-1].T
			}
		}
		t.Fatal("no canary requests")
		return time.Time{}
	}
	before := latest()
	env.Advance(3 * time.Minute)
	if after := latest(); after.Sub(before) != 3*time.Minute {
		t.Fatalf("newest period moved %s after advancing 3m", after.Sub(before))
	}
}

func TestSimAlarms(t *testing.T) {
	env, cfg := simEnv(t, "healthy")
	mt := simTarget(t, env, "checkout")
	cw := cloudwatch.NewFromConfig(cfg)
	for _, name := range []string{"checkout-canary-5xx", "checkout-p99"} {
		_, err := cw.PutMetricAlarm(t.Context(), &cloudwatch.PutMetricAlarmInput{
			AlarmName: awssdk.String(name), Namespace: awssdk.String("AWS/ApplicationELB"),
			MetricName: awssdk.String("HTTPCode_Target_5XX_Count"), Statistic: cwtypes.StatisticSum,
			Dimensions: []cwtypes.Dimension{
				{Name: awssdk.String("LoadBalancer"), Value: awssdk.String(lbDimension(mt.LoadBalancerARN))},
				{Name: awssdk.String("TargetGroup"), Value: awssdk.String(tgDimension(mt.CanaryTargetGroupARN))}},
			Period: awssdk.Int32(60), EvaluationPeriods: awssdk.Int32(1), Threshold: awssdk.Float64(1e9),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cw.SetAlarmState(t.Context(), &cloudwatch.SetAlarmStateInput{AlarmName: awssdk.String("checkout-p99"),
		StateValue: cwtypes.StateValueAlarm, StateReason: awssdk.String("drill")}); err != nil {
		t.Fatal(err)
	}
	env.Sim.ResetStats()
	got, err := NewAlarms(cfg).Alarms(t.Context(), []string{"checkout-p99", "typo", "checkout-canary-5xx"})
	if err != nil {
		t.Fatal(err)
	}
	if st := env.Sim.Stats(); st["cloudwatch:DescribeAlarms"] != 1 {
		t.Fatalf("calls = %v, want one DescribeAlarms", st)
	}
	if got[0].Name != "checkout-p99" || got[0].State != model.AlarmAlarm || got[0].Reason != "drill" || got[0].UpdatedAt.IsZero() {
		t.Errorf("alarm 0 = %+v", got[0])
	}
	if got[1] != (model.Alarm{Name: "typo", State: model.AlarmMissing}) {
		t.Errorf("alarm 1 = %+v", got[1])
	}
	if got[2].Name != "checkout-canary-5xx" || got[2].State == model.AlarmMissing || got[2].State == model.AlarmAlarm {
		t.Errorf("alarm 2 = %+v", got[2])
	}
}
