package sim_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

func TestInjectedFaultsInEachProtocol(t *testing.T) {
	env := simtest.Start(t, simtest.Options{})
	ctx := context.Background()
	tg := env.Target(t, "checkout")
	one := func(o *elb.Options) { o.RetryMaxAttempts = 1 }
	c := elb.NewFromConfig(env.AWS, one)

	// A throttle on ModifyRule only: reads still work, the write fails
	// with the code the retryer knows, and the rule is unchanged.
	if err := env.Sim.InjectFault(sim.Fault{Service: "elbv2", Operation: "ModifyRule", Code: "Throttling", Times: -1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}}); err != nil {
		t.Fatalf("read during a write fault: %v", err)
	}
	_, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN),
		Actions: forward(map[string]int32{tg.StableTargetGroupARN: 0, tg.CanaryTargetGroupARN: 100})})
	wantCode(t, err, "Throttling")
	if !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		t.Errorf("the SDK does not see %v as a throttle", err)
	}
	if w, _ := env.Sim.Weights(tg.RuleARN); w[tg.CanaryTargetGroupARN] != 10 {
		t.Errorf("a faulted write changed the weights: %v", w)
	}
	env.Sim.ClearFaults()

	// A one-shot 500 is retried away by the default retryer.
	if err := env.Sim.InjectFault(sim.Fault{Service: "sts", Code: "InternalFailure"}); err != nil {
		t.Fatal(err)
	}
	if _, err := sts.NewFromConfig(env.AWS).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("one 500 then success should be retried: %v", err)
	}
	if n := env.Sim.Stats()["sts:GetCallerIdentity"]; n != 2 {
		t.Errorf("sts calls = %d, want 2 (the fault and the retry)", n)
	}

	// Expired credentials on every service, seen through CBOR CloudWatch.
	if err := env.Sim.InjectFault(sim.Fault{Code: "ExpiredToken", Message: "The security token included in the request is expired", Times: -1}); err != nil {
		t.Fatal(err)
	}
	_, err = cloudwatch.NewFromConfig(env.AWS).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	wantCode(t, err, "ExpiredToken")
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
		t.Errorf("status = %v", err)
	}
	_, err = sts.NewFromConfig(env.AWS).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || !strings.Contains(ae.ErrorMessage(), "expired") {
		t.Errorf("sts with expired token: %v", err)
	}

	// Over HTTP: list, then clear.
	resp, err := http.Get(env.URL + "/_sim/faults")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodDelete, env.URL+"/_sim/faults", nil)
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("DELETE /_sim/faults: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = http.Post(env.URL+"/_sim/faults", "application/json",
		strings.NewReader(`{"service":"cloudwatch","operation":"GetMetricData","code":"Throttling"}`))
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("POST /_sim/faults: %v %v", err, resp)
	}
	resp.Body.Close()
	_, err = cloudwatch.NewFromConfig(env.AWS, func(o *cloudwatch.Options) { o.RetryMaxAttempts = 1 }).
		GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(env.Clock.Now().Add(-600e9)), EndTime: aws.Time(env.Clock.Now()),
			MetricDataQueries: []cwtypes.MetricDataQuery{albQuery("r", "RequestCount", "Sum", tg, tg.StableTargetGroupARN)}})
	wantCode(t, err, "Throttling")
	if _, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}}); err != nil {
		t.Errorf("faults were not cleared: %v", err)
	}
}

func TestScenarioScriptsFaults(t *testing.T) {
	sc, err := sim.ParseScenario([]byte(`
albs: [{name: shop, requests_per_minute: 10}]
faults:
  - {at: 2m, service: elbv2, operation: DescribeRules, code: Throttling, times: 2}
`), "t")
	if err != nil {
		t.Fatal(err)
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	c := elb.NewFromConfig(env.AWS, func(o *elb.Options) { o.RetryMaxAttempts = 1 })
	tg := env.Target(t, "shop")
	call := func() error {
		_, err := c.DescribeRules(context.Background(), &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}})
		return err
	}
	if err := call(); err != nil {
		t.Fatalf("before the fault is due: %v", err)
	}
	env.Advance(2 * 60e9)
	wantCode(t, call(), "Throttling")
	wantCode(t, call(), "Throttling")
	if err := call(); err != nil {
		t.Fatalf("after the fault's two uses: %v", err)
	}

	_, err = sim.ParseScenario([]byte("faults:\n  - {at: 1m, service: s3, code: Throttling}\n"), "t")
	if err == nil || !strings.Contains(err.Error(), "line 2: faults[0].service") {
		t.Errorf("bad fault service: %v", err)
	}
}

// TestRateFaultIsATokenBucket: rate:elbv2:10/s lets a burst of 10 calls
// through at one instant of simulated time and throttles the rest with
// ELBv2's own Throttling; a simulated second later 10 more pass. Other
// services are not limited. /_sim/stats counts the throttled calls.
func TestRateFaultIsATokenBucket(t *testing.T) {
	env := simtest.Start(t, simtest.Options{})
	ctx := context.Background()
	spec, err := sim.ParseFaultSpec("rate:elbv2:10/s")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Sim.ApplyFaultSpec(spec); err != nil {
		t.Fatal(err)
	}
	c := elb.NewFromConfig(env.AWS, func(o *elb.Options) { o.RetryMaxAttempts = 1 })
	burst := func() (ok, throttled int) {
		for range 25 {
			_, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
			switch {
			case err == nil:
				ok++
			default:
				wantCode(t, err, "Throttling")
				throttled++
			}
		}
		return ok, throttled
	}
	if ok, th := burst(); ok != 10 || th != 15 {
		t.Fatalf("first burst: %d passed, %d throttled; want 10 and 15", ok, th)
	}
	env.Clock.Advance(500 * time.Millisecond)
	if ok, _ := burst(); ok != 5 {
		t.Fatalf("half a second later %d passed, want 5", ok)
	}
	env.Clock.Advance(time.Hour) // refills to the burst, not beyond
	if ok, _ := burst(); ok != 10 {
		t.Fatalf("an hour later %d passed, want 10 (the bucket holds one second)", ok)
	}
	if _, err := sts.NewFromConfig(env.AWS).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("sts is not limited: %v", err)
	}
	if n := env.Sim.Faulted()["elbv2:DescribeLoadBalancers:Throttling"]; n != 15+20+15 {
		t.Errorf("faulted count %d, want 50", n)
	}
}
