package lambda_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// lambdaSeries reads one AWS/Lambda metric through the SDK's default (CBOR)
// CloudWatch client, by period start. dims alternate name, value.
func lambdaSeries(t *testing.T, env *simtest.Env, metric, stat, unit string, from, to time.Time, dims ...string) map[time.Time]float64 {
	t.Helper()
	var ds []cwtypes.Dimension
	for i := 0; i+1 < len(dims); i += 2 {
		ds = append(ds, cwtypes.Dimension{Name: aws.String(dims[i]), Value: aws.String(dims[i+1])})
	}
	q := cwtypes.MetricDataQuery{Id: aws.String("q"), MetricStat: &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: aws.String("AWS/Lambda"), MetricName: aws.String(metric), Dimensions: ds},
		Period: aws.Int32(60), Stat: aws.String(stat),
	}}
	if unit != "" {
		q.MetricStat.Unit = cwtypes.StandardUnit(unit)
	}
	out, err := cloudwatch.NewFromConfig(env.AWS).GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{
		MetricDataQueries: []cwtypes.MetricDataQuery{q}, StartTime: aws.Time(from), EndTime: aws.Time(to),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[time.Time]float64{}
	for _, r := range out.MetricDataResults {
		for i, ts := range r.Timestamps {
			got[ts.UTC()] = r.Values[i]
		}
	}
	return got
}

func total(m map[time.Time]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

func TestLambdaMetricsPerExecutedVersion(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "lambda-healthy"})
	from, to := simtest.Epoch.Add(-60*time.Minute), simtest.Epoch
	byVersion := func(metric, stat, unit, v string) map[time.Time]float64 {
		return lambdaSeries(t, env, metric, stat, unit, from, to, "FunctionName", "orders", "Resource", "orders:live", "ExecutedVersion", v)
	}
	stable, canary := byVersion("Invocations", "Sum", "", "7"), byVersion("Invocations", "Sum", "", "8")
	alias := lambdaSeries(t, env, "Invocations", "Sum", "", from, to, "FunctionName", "orders", "Resource", "orders:live")
	fn := lambdaSeries(t, env, "Invocations", "Sum", "", from, to, "FunctionName", "orders")
	if len(stable) < 55 || len(canary) < 55 {
		t.Fatalf("periods with invocations: stable %d, canary %d of 60", len(stable), len(canary))
	}
	for ts, n := range alias {
		if n != stable[ts]+canary[ts] || fn[ts] != n {
			t.Fatalf("%s: alias total %v, function %v, versions %v + %v", ts, n, fn[ts], stable[ts], canary[ts])
		}
	}
	if share := total(canary) / (total(stable) + total(canary)); math.Abs(share-0.10) > 0.01 {
		t.Fatalf("canary share %.3f over an hour at weight 0.1", share)
	}
	// Resource=orders:8 counts only direct calls of the :8 qualifier; the
	// alias's traffic to version 8 is not there.
	if direct := lambdaSeries(t, env, "Invocations", "Sum", "", from, to, "FunctionName", "orders", "Resource", "orders:8"); len(direct) != 0 {
		t.Fatalf("alias traffic published under Resource=orders:8: %v", direct)
	}
	// Errors are published for every period with invocations, zeros too.
	if errs := byVersion("Errors", "Sum", "", "8"); len(errs) != len(canary) {
		t.Fatalf("canary Errors in %d periods, Invocations in %d", len(errs), len(canary))
	}
	p99 := byVersion("Duration", "p99", "Milliseconds", "7")
	for ts, v := range p99 {
		if v < 300 || v > 1200 {
			t.Fatalf("stable p99 %.0f ms at %s, scenario says 600", v, ts)
		}
	}
	if len(p99) == 0 || len(byVersion("Duration", "p99", "Seconds", "7")) != 0 {
		t.Fatal("Duration must be published in Milliseconds (the Unit filter is exact)")
	}
	if len(byVersion("Throttles", "Sum", "", "8")) != 0 {
		t.Fatal("a healthy canary throttled")
	}

	// Routing changes move the traffic from the next invocation on.
	c := lambda.NewFromConfig(env.AWS)
	if _, err := c.UpdateAlias(context.Background(), &lambda.UpdateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"),
		FunctionVersion: aws.String("7"), RoutingConfig: &ltypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"8": 0.5}}}); err != nil {
		t.Fatal(err)
	}
	env.Advance(11 * time.Minute)
	from, to = simtest.Epoch, simtest.Epoch.Add(10*time.Minute)
	s, c8 := total(byVersion("Invocations", "Sum", "", "7")), total(byVersion("Invocations", "Sum", "", "8"))
	if share := c8 / (s + c8); math.Abs(share-0.5) > 0.03 {
		t.Fatalf("canary share %.3f after the alias went to 0.5", share)
	}
}

func TestLambdaThrottlesHitTheCanaryOnly(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "lambda-throttles"})
	from, to := simtest.Epoch.Add(-30*time.Minute), simtest.Epoch
	series := func(metric, v string) map[time.Time]float64 {
		return lambdaSeries(t, env, metric, "Sum", "", from, to, "FunctionName", "orders", "Resource", "orders:live", "ExecutedVersion", v)
	}
	canaryThrottles, stableThrottles := series("Throttles", "8"), series("Throttles", "7")
	if len(stableThrottles) != 0 {
		t.Fatalf("stable throttled: %v", stableThrottles)
	}
	if len(canaryThrottles) < 27 {
		t.Fatalf("canary throttled in %d of 30 periods", len(canaryThrottles))
	}
	frac := func() float64 {
		th, inv := total(series("Throttles", "8")), total(series("Invocations", "8"))
		return th / (th + inv)
	}
	before := frac()
	if before < 0.25 || before > 0.55 {
		t.Fatalf("canary throttled %.2f of its invocations; the scenario's limit should throttle about 40%%", before)
	}
	if c := lambdaSeries(t, env, "ConcurrentExecutions", "Maximum", "", from, to, "FunctionName", "orders"); len(c) < 27 {
		t.Fatalf("ConcurrentExecutions in %d periods", len(c))
	}

	// More traffic onto the slow canary: more of it is throttled.
	if err := env.Sim.SetAliasRouting("orders", "live", "7", map[string]float64{"8": 0.5}); err != nil {
		t.Fatal(err)
	}
	env.Advance(11 * time.Minute)
	from, to = simtest.Epoch, simtest.Epoch.Add(10*time.Minute)
	if after := frac(); after < before+0.3 {
		t.Fatalf("canary throttled %.2f at 50%% vs %.2f at 10%%", after, before)
	}
	if len(series("Throttles", "7")) != 0 {
		t.Fatal("stable started throttling")
	}
}

func TestLambdaLowTrafficObservedSplitWanders(t *testing.T) {
	sc, err := sim.ParseScenario([]byte(`
history: 180m
lambdas:
  - name: rare
    invocations_per_minute: 20
    canary_weight: 10
`), "low")
	if err != nil {
		t.Fatal(err)
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	from, to := simtest.Epoch.Add(-180*time.Minute), simtest.Epoch
	inv := func(v string) map[time.Time]float64 {
		return lambdaSeries(t, env, "Invocations", "Sum", "", from, to, "FunctionName", "rare", "Resource", "rare:live", "ExecutedVersion", v)
	}
	stable, canary := inv("1"), inv("2")
	var none, high int
	for ts, s := range stable {
		share := canary[ts] / (s + canary[ts])
		switch {
		case share == 0:
			none++
		case share > 0.2:
			high++
		}
	}
	if none < 20 || high < 10 {
		t.Fatalf("per-period canary share at 20/min and 10%%: %d periods with none, %d above 20%%; it should wander", none, high)
	}
	if share := total(canary) / (total(stable) + total(canary)); math.Abs(share-0.1) > 0.025 {
		t.Fatalf("long-run canary share %.3f", share)
	}
}

func TestLambdaScriptedDriftRewritesTheAlias(t *testing.T) {
	sc, err := sim.ParseScenario([]byte(`
lambdas:
  - name: orders
    invocations_per_minute: 600
    stable_version: "7"
    canary_version: "8"
    canary_weight: 10
    events:
      - {at: 5m, canary_weight: 50}
`), "drift")
	if err != nil {
		t.Fatal(err)
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	before, _ := env.Sim.Alias("orders", "live")
	env.Advance(6 * time.Minute)
	env.Sim.Sync()
	after, _ := env.Sim.Alias("orders", "live")
	if after.Weights["8"] != 0.5 || after.FunctionVersion != "7" || after.RevisionID == before.RevisionID {
		t.Fatalf("after the scripted change: %+v (before %+v)", after, before)
	}
}
