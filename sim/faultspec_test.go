package sim_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

func TestParseFaultSpec(t *testing.T) {
	good := []struct {
		in   string
		want sim.FaultSpec
	}{
		{"throttle:cloudwatch:0.5", sim.FaultSpec{Kind: "throttle", Service: "cloudwatch", Fraction: 0.5}},
		{"throttle:all:1", sim.FaultSpec{Kind: "throttle", Service: "all", Fraction: 1}},
		{"error:elbv2:0.25", sim.FaultSpec{Kind: "error", Service: "elbv2", Fraction: 0.25}},
		{"latency:lambda:1.5s", sim.FaultSpec{Kind: "latency", Service: "lambda", Duration: 1500 * time.Millisecond}},
		{"outage:sts:5m", sim.FaultSpec{Kind: "outage", Service: "sts", Duration: 5 * time.Minute}},
		{"outage:codedeploy:1h", sim.FaultSpec{Kind: "outage", Service: "codedeploy", Duration: time.Hour}},
		{"expire-credentials:10m", sim.FaultSpec{Kind: "expire-credentials", Duration: 10 * time.Minute}},
		{"expire-credentials:0s", sim.FaultSpec{Kind: "expire-credentials"}},
		{"drift:checkout:2m", sim.FaultSpec{Kind: "drift", Target: "checkout", Duration: 2 * time.Minute}},
		{"rate:elbv2:10/s", sim.FaultSpec{Kind: "rate", Service: "elbv2", Rate: 10}},
		{"rate:all:0.5/s", sim.FaultSpec{Kind: "rate", Service: "all", Rate: 0.5}},
	}
	for _, tc := range good {
		got, err := sim.ParseFaultSpec(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.in, got, tc.want)
		}
		if again, err := sim.ParseFaultSpec(got.String()); err != nil || again != got {
			t.Errorf("%s: String %q does not parse back: %+v %v", tc.in, got.String(), again, err)
		}
	}

	bad := []struct{ in, want string }{
		{"", "want throttle"},
		{"bogus", "want throttle"},
		{"throttle", "want 3 fields"},
		{"throttle:cloudwatch", "want 3 fields"},
		{"throttle:cloudwatch:0.5:x", "want 3 fields"},
		{"throttle:s3:0.5", "unknown service"},
		{"throttle:CloudWatch:0.5", "unknown service"},
		{"throttle:cloudwatch:0", "fraction"},
		{"throttle:cloudwatch:1.5", "fraction"},
		{"throttle:cloudwatch:-0.1", "fraction"},
		{"throttle:cloudwatch:NaN", "fraction"},
		{"rate:elbv2:10", "rate"},
		{"rate:elbv2:0/s", "rate"},
		{"rate:elbv2:-1/s", "rate"},
		{"rate:elbv2:1e9/s", "rate"},
		{"rate:s3:10/s", "unknown service"},
		{"throttle:cloudwatch:50%", "fraction"},
		{"error:elbv2:half", "fraction"},
		{"latency:elbv2:0s", "out of range"},
		{"latency:elbv2:-1s", "out of range"},
		{"latency:elbv2:11m", "out of range"},
		{"latency:elbv2:5", "duration"},
		{"outage:elbv2:500ms", "out of range"},
		{"outage:elbv2:forever", "duration"},
		{"expire-credentials:-1m", "out of range"},
		{"expire-credentials:all:1m", "want 2 fields"},
		{"drift:checkout:0s", "out of range"},
		{"drift::1m", "target"},
		{"drift:a b:1m", "target"},
		{"Throttle:cloudwatch:0.5", "unknown kind"},
		{strings.Repeat("x", 300), "longer than"},
	}
	for _, tc := range bad {
		_, err := sim.ParseFaultSpec(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to mention %q", tc.in, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") || len(err.Error()) > 300 {
			t.Errorf("%q: error is not one short line: %q", tc.in, err)
		}
	}
}

func FuzzFaultSpec(f *testing.F) {
	for _, s := range []string{"throttle:cloudwatch:0.5", "error:all:1", "latency:elbv2:2s", "outage:sts:5m",
		"expire-credentials:1h", "drift:checkout:30s", "throttle:all:1e-3", "latency:lambda:1h1m", "::", "drift:x:1m:",
		"rate:elbv2:10/s", "rate:all:0.5/s", "rate:elbv2:1e5/s", "rate:elbv2:/s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := sim.ParseFaultSpec(s)
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || len(msg) > 400 {
				t.Fatalf("error is not one short line: %q", msg)
			}
			return
		}
		again, err := sim.ParseFaultSpec(spec.String())
		if err != nil || again != spec {
			t.Fatalf("%q parsed to %+v, whose String %q parses to %+v, %v", s, spec, spec.String(), again, err)
		}
		if spec.Kind != "drift" && len(spec.Faults()) == 0 {
			t.Fatalf("%q arms no fault", s)
		}
		for _, ft := range spec.Faults() {
			if ft.Times != -1 {
				t.Fatalf("%q: a spec fault must last until cleared or its window ends: %+v", s, ft)
			}
		}
	})
}

func TestFractionalThrottleIsSeededAndRetried(t *testing.T) {
	counts := func() (faulted, calls int) {
		env := simtest.Start(t, simtest.Options{})
		spec, err := sim.ParseFaultSpec("throttle:sts:0.5")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Sim.ApplyFaultSpec(spec); err != nil {
			t.Fatal(err)
		}
		c := sts.NewFromConfig(env.AWS, func(o *sts.Options) { o.RetryMaxAttempts = 1 })
		for range 200 {
			_, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				wantCode(t, err, "Throttling")
				faulted++
			}
		}
		return faulted, env.Sim.Stats()["sts:GetCallerIdentity"]
	}
	a, calls := counts()
	if calls != 200 || a < 70 || a > 130 {
		t.Fatalf("throttle:sts:0.5 throttled %d of %d calls", a, calls)
	}
	if b, _ := counts(); b != a {
		t.Errorf("the same seed throttled %d, then %d calls", a, b)
	}
}

func TestLatencyOutageAndExpiry(t *testing.T) {
	env := simtest.Start(t, simtest.Options{})
	ctx := context.Background()
	tg := env.Target(t, "checkout")
	c := elb.NewFromConfig(env.AWS, func(o *elb.Options) { o.RetryMaxAttempts = 1 })
	describe := func(ctx context.Context) error {
		_, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}})
		return err
	}
	apply := func(s string) {
		t.Helper()
		spec, err := sim.ParseFaultSpec(s)
		if err == nil {
			err = env.Sim.ApplyFaultSpec(spec)
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	// Latency: a deadline shorter than the latency fails the call; the
	// call still succeeds when the client waits.
	apply("latency:elbv2:300ms")
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err := describe(short)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("under latency with a short deadline: %v", err)
	}
	// The short deadline failing above is the latency; with patience
	// the call goes through.
	if err := describe(ctx); err != nil {
		t.Fatalf("under latency with patience: %v", err)
	}
	env.Sim.ClearFaults()

	// Outage: connections drop for five simulated minutes, then the
	// service answers again without anyone clearing anything.
	apply("outage:elbv2:5m")
	err = describe(ctx)
	var api smithy.APIError
	if err == nil || errors.As(err, &api) {
		t.Fatalf("during an outage: want a transport error, got %v", err)
	}
	if _, err := sts.NewFromConfig(env.AWS).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("an elbv2 outage reached sts: %v", err)
	}
	env.Advance(5 * time.Minute)
	if err := describe(ctx); err != nil {
		t.Fatalf("after the outage: %v", err)
	}

	// Credentials expire ten simulated minutes from now, everywhere.
	apply("expire-credentials:10m")
	if err := describe(ctx); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	env.Advance(10 * time.Minute)
	wantCode(t, describe(ctx), "ExpiredToken")
	_, err = sts.NewFromConfig(env.AWS).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "ExpiredToken")

	// Over HTTP, a spec arms the same way and a bad one is refused.
	env.Sim.ClearFaults()
	resp, err := http.Post(env.URL+"/_sim/faults?spec="+url.QueryEscape("error:elbv2:1"), "", nil)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("POST spec: %v %v", err, resp)
	}
	resp.Body.Close()
	wantCode(t, describe(ctx), "InternalFailure")
	resp, err = http.Post(env.URL+"/_sim/faults?spec=bogus", "", nil)
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("POST bad spec: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestDriftMovesWeightsOnSchedule(t *testing.T) {
	env := simtest.Start(t, simtest.Options{})
	tg := env.Target(t, "checkout")
	if err := env.Sim.ApplyFaultSpec(sim.FaultSpec{Kind: "drift", Target: "nosuch", Duration: time.Minute}); err == nil ||
		!strings.Contains(err.Error(), "checkout") {
		t.Fatalf("drift on an unknown target: %v", err)
	}
	spec, _ := sim.ParseFaultSpec("drift:checkout:2m")
	if err := env.Sim.ApplyFaultSpec(spec); err != nil {
		t.Fatal(err)
	}
	canary := func() int {
		env.Sim.Sync()
		w, err := env.Sim.Weights(tg.RuleARN)
		if err != nil {
			t.Fatal(err)
		}
		return w[tg.CanaryTargetGroupARN]
	}
	if got := canary(); got != 10 {
		t.Fatalf("before the first drift: canary %d", got)
	}
	var seen []int
	for range 4 {
		env.Advance(2 * time.Minute)
		seen = append(seen, canary())
	}
	for i, w := range seen {
		if i > 0 && w == seen[i-1] {
			t.Errorf("drift left the weight at %d: %v", w, seen)
		}
	}
	env.Sim.ClearFaults()
	last := canary()
	env.Advance(10 * time.Minute)
	if got := canary(); got != last {
		t.Errorf("drift went on after ClearFaults: %d → %d", last, got)
	}
}

func TestScenarioFaultSpecs(t *testing.T) {
	sc, err := sim.ParseScenario([]byte(`
albs: [{name: shop, requests_per_minute: 10}]
faults:
  - {at: 1m, spec: "error:elbv2:1"}
  - {at: 3m, spec: "drift:shop:1m"}
`), "t")
	if err != nil {
		t.Fatal(err)
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	c := elb.NewFromConfig(env.AWS, func(o *elb.Options) { o.RetryMaxAttempts = 1 })
	tg := env.Target(t, "shop")
	if _, err := c.DescribeRules(context.Background(), &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}}); err != nil {
		t.Fatalf("before the fault is due: %v", err)
	}
	env.Advance(time.Minute)
	_, err = c.DescribeRules(context.Background(), &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}})
	wantCode(t, err, "InternalFailure")
	env.Advance(3 * time.Minute)
	env.Sim.Sync()
	if w, _ := env.Sim.Weights(tg.RuleARN); w[tg.CanaryTargetGroupARN] == 10 {
		t.Errorf("the scripted drift did not move the weights: %v", w)
	}

	for _, tc := range []struct{ doc, want string }{
		{"faults:\n  - {at: 1m, spec: \"throttle:s3:1\"}\n", "line 2: faults[0].spec"},
		{"faults:\n  - {at: 1m, spec: \"throttle:elbv2:1\", code: Throttling}\n", "either spec"},
		{"faults:\n  - {at: 1m, service: elbv2, code: Throttling, fraction: 2}\n", "fraction"},
	} {
		if _, err := sim.ParseScenario([]byte(tc.doc), "t"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.doc, err, tc.want)
		}
	}
}
