package sim_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

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

// cwClientProtocols are CloudWatch's three protocols as the SDK speaks
// them: CBOR (its default), awsJson1.0 (the current AWS CLI) and awsQuery
// (older CLIs).
var cwClientProtocols = []struct {
	name string
	opt  func(*cloudwatch.Options)
}{
	{"cbor", func(*cloudwatch.Options) {}},
	{"json", func(o *cloudwatch.Options) { o.Protocol = awsjson.New10(schemas.GraniteServiceVersion20100801) }},
	{"query", func(o *cloudwatch.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) }},
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

// The latency statistics perch judges by, as the traffic model publishes
// them in each of CloudWatch's protocols: the count of requests slower
// than stable's p99 (TC), their share (PR) and the trimmed mean (TM) agree
// with the percentiles of the same samples, and follow the scenario's
// regression (latency-regression: the canary's p99 triples two minutes in,
// so the share of its requests slower than 180 ms goes from 1% to about
// 11%).
func TestTrafficRangeStatisticsAgreeWithPercentiles(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "latency-regression"})
	tg := env.Target(t, "checkout")
	env.Advance(62*time.Minute + 30*time.Second)
	start := env.Clock.Now().Add(-2 * time.Hour)
	for _, p := range cwClientProtocols {
		t.Run(p.name, func(t *testing.T) {
			cw := cloudwatch.NewFromConfig(env.AWS, p.opt)
			out, err := cw.GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
				StartTime: aws.Time(start), EndTime: aws.Time(env.Clock.Now()), ScanBy: cwtypes.ScanByTimestampAscending,
				MetricDataQueries: []cwtypes.MetricDataQuery{
					albQuery("sn", "TargetResponseTime", "SampleCount", tg, tg.StableTargetGroupARN),
					albQuery("sp99", "TargetResponseTime", "p99", tg, tg.StableTargetGroupARN),
					albQuery("sslow", "TargetResponseTime", "TC(0.18:)", tg, tg.StableTargetGroupARN),
					albQuery("spr", "TargetResponseTime", "PR(:0.18)", tg, tg.StableTargetGroupARN),
					albQuery("stm", "TargetResponseTime", "TM(:0.18)", tg, tg.StableTargetGroupARN),
					albQuery("cn", "TargetResponseTime", "SampleCount", tg, tg.CanaryTargetGroupARN),
					albQuery("cslow", "TargetResponseTime", "TC(0.18:)", tg, tg.CanaryTargetGroupARN),
				},
			})
			if err != nil {
				t.Fatalf("GetMetricData: %v", err)
			}
			res := map[string]cwtypes.MetricDataResult{}
			for _, r := range out.MetricDataResults {
				res[aws.ToString(r.Id)] = r
			}
			at := func(id string) map[time.Time]float64 {
				m := map[time.Time]float64{}
				for i, ts := range res[id].Timestamps {
					m[ts] = res[id].Values[i]
				}
				return m
			}
			sn, sp99, sslow, spr, stm := at("sn"), at("sp99"), at("sslow"), at("spr"), at("stm")
			if len(sn) < 60 {
				t.Fatalf("%d stable periods", len(sn))
			}
			var slowS, allS float64
			for ts, n := range sn {
				slow, ok := sslow[ts]
				if !ok {
					t.Fatalf("no TC(0.18:) at %s, where SampleCount is %v", ts, n)
				}
				if math.Abs(spr[ts]-100*(n-slow)/n) > 1e-9 {
					t.Errorf("%s: PR(:0.18) %v disagrees with TC(0.18:) %v of %v", ts, spr[ts], slow, n)
				}
				// The p99 is the smallest value with 99% of the samples at
				// or below it, so at most 1% are above it, and more than
				// 1% are at or above it.
				if slow > 0.01*n && sp99[ts] <= 0.18 {
					t.Errorf("%s: %v of %v requests above 0.18 s, yet p99 is %v", ts, slow, n, sp99[ts])
				}
				if stm[ts] <= 0 || stm[ts] > 0.18 {
					t.Errorf("%s: TM(:0.18) = %v", ts, stm[ts])
				}
				slowS, allS = slowS+slow, allS+n
			}
			if share := slowS / allS; share < 0.008 || share > 0.012 {
				t.Errorf("stable: %.4f of requests slower than 180 ms, want about 1%%", share)
			}
			cn, cslow := at("cn"), at("cslow")
			var before, beforeN, after, afterN float64
			regression := env.Clock.Now().Add(-62*time.Minute - 30*time.Second).Add(2 * time.Minute)
			for ts, n := range cn {
				if ts.Before(regression) {
					before, beforeN = before+cslow[ts], beforeN+n
				} else {
					after, afterN = after+cslow[ts], afterN+n
				}
			}
			// 1% before; after, P(lognormal(55 ms, p99 540 ms) > 180 ms) = 11.4%.
			if b := before / beforeN; b > 0.02 {
				t.Errorf("canary before the regression: %.4f slow", b)
			}
			if a := after / afterN; a < 0.10 || a > 0.13 {
				t.Errorf("canary after the regression: %.4f slow, want about 0.114", a)
			}
		})
	}
}
