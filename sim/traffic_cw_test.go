package sim_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

func albQuery(id, metric, stat string, tg sim.ManifestTarget, tgARN string) cwtypes.MetricDataQuery {
	lb := tg.LoadBalancerARN[strings.Index(tg.LoadBalancerARN, ":loadbalancer/")+len(":loadbalancer/"):]
	return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String(metric), Dimensions: []cwtypes.Dimension{
			{Name: aws.String("LoadBalancer"), Value: aws.String(lb)},
			{Name: aws.String("TargetGroup"), Value: aws.String(tgARN[strings.LastIndex(tgARN, ":")+1:])},
		}},
		Period: aws.Int32(60), Stat: aws.String(stat),
	}}
}

// The traffic model's output, read back the way perch reads it: the SDK's
// default (CBOR) CloudWatch client, one batched GetMetricData.
func TestTrafficThroughGetMetricData(t *testing.T) {
	env := simtest.Start(t, simtest.Options{})
	ctx := context.Background()
	cw := cloudwatch.NewFromConfig(env.AWS)
	tg := env.Target(t, "checkout")
	fetch := func(from, to time.Time) map[string]cwtypes.MetricDataResult {
		t.Helper()
		out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(from), EndTime: aws.Time(to), ScanBy: cwtypes.ScanByTimestampAscending,
			MetricDataQueries: []cwtypes.MetricDataQuery{
				albQuery("sreq", "RequestCount", "Sum", tg, tg.StableTargetGroupARN),
				albQuery("creq", "RequestCount", "Sum", tg, tg.CanaryTargetGroupARN),
				albQuery("sp99", "TargetResponseTime", "p99", tg, tg.StableTargetGroupARN),
				albQuery("c5xx", "HTTPCode_Target_5XX_Count", "Sum", tg, tg.CanaryTargetGroupARN),
			},
		})
		if err != nil {
			t.Fatalf("GetMetricData: %v", err)
		}
		res := map[string]cwtypes.MetricDataResult{}
		for _, r := range out.MetricDataResults {
			res[aws.ToString(r.Id)] = r
		}
		return res
	}
	start := env.Clock.Now()
	res := fetch(start.Add(-time.Hour), start)
	if n := len(res["sreq"].Values); n != 59 {
		t.Fatalf("backfill: %d stable RequestCount points, want 59", n)
	}
	sum := func(vs []float64) float64 {
		s := 0.0
		for _, v := range vs {
			s += v
		}
		return s
	}
	if share := sum(res["creq"].Values) / (sum(res["sreq"].Values) + sum(res["creq"].Values)); math.Abs(share-0.1) > 0.01 {
		t.Errorf("canary share via CloudWatch = %.3f", share)
	}
	for _, v := range res["sp99"].Values {
		if v < 0.08 || v > 0.5 {
			t.Errorf("stable p99 %.3fs is far from 0.18s", v)
		}
	}
	if len(res["c5xx"].Values) == 0 || len(res["c5xx"].Values) == 59 {
		t.Errorf("canary 5xx: %d points; at ~0.5 errors a minute some periods have none and publish none", len(res["c5xx"].Values))
	}

	// Drain the canary; periods that start after the change have no canary
	// datapoint at all.
	c := elb.NewFromConfig(env.AWS)
	if _, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN),
		Actions: forward(map[string]int32{tg.StableTargetGroupARN: 100, tg.CanaryTargetGroupARN: 0})}); err != nil {
		t.Fatal(err)
	}
	env.Advance(10*time.Minute + 30*time.Second)
	res = fetch(start, start.Add(10*time.Minute))
	if n := len(res["sreq"].Values); n != 10 {
		t.Errorf("stable points after 10m = %d, want 10", n)
	}
	if n := len(res["creq"].Values); n != 0 {
		t.Errorf("drained canary still has %d RequestCount points", n)
	}
	if st := env.Sim.Stats(); st["cloudwatch:GetMetricData"] != 2 || st["elbv2:ModifyRule"] != 1 {
		t.Errorf("stats = %v", st)
	}
}
