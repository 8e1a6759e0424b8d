package aws

import (
	"errors"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// simEnv starts perch's simulator and an SDK config built by LoadConfig
// (the path the CLI takes, not simtest's hand-built config) pointed at it.
func simEnv(t *testing.T, scenario string) (*simtest.Env, awssdk.Config) {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: scenario})
	return env, testConfig(t, env.URL)
}

func simTarget(t *testing.T, env *simtest.Env, name string) sim.ManifestTarget {
	t.Helper()
	return env.Target(t, name)
}

func TestSimALBRuleResolveReadWrite(t *testing.T) {
	env, cfg := simEnv(t, "healthy")
	mt := simTarget(t, env, "checkout")
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: mt.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	tg := r.Target()
	want := model.Target{
		Kind: model.KindALB, Name: tg.Name, Region: "us-east-1",
		LoadBalancerARN: mt.LoadBalancerARN, ListenerARN: mt.ListenerARN, RuleARN: mt.RuleARN,
		StableName: tg.StableName, CanaryName: tg.CanaryName,
		StableARN: mt.StableTargetGroupARN, CanaryARN: mt.CanaryTargetGroupARN,
		CanarySource: model.CanaryFromMarker,
	}
	if tg != want || tg.StableName == "" || tg.CanaryName == "" || tg.StableName == tg.CanaryName {
		t.Fatalf("target\n got %+v\nwant %+v", tg, want)
	}

	env.Sim.ResetStats()
	if _, err := r.ReadSplit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := env.Sim.Stats(); st["elbv2:DescribeRules"] != 1 || len(st) != 1 {
		t.Fatalf("ReadSplit calls = %v, want one DescribeRules and nothing else", st)
	}
	env.Sim.ResetStats()
	checkReadWrite(t, r, mt.StableTargetGroupARN, mt.CanaryTargetGroupARN, 90, 10)
	if st := env.Sim.Stats(); st["elbv2:ModifyRule"] != 4 || st["elbv2:ModifyListener"] != 0 {
		t.Fatalf("calls = %v, want exactly the 4 accepted writes as ModifyRule", st)
	}
}

func TestSimALBDefaultRuleWithStickiness(t *testing.T) {
	env, cfg := simEnv(t, "bad-targets")
	mt := simTarget(t, env, "edge")
	for _, o := range []ALBOptions{{ListenerARN: mt.ListenerARN}, {RuleARN: mt.RuleARN}} {
		r, err := NewALBRouter(t.Context(), cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		tg := r.Target()
		if !tg.DefaultRule || tg.StickinessSeconds != 300 || tg.CanaryARN != mt.CanaryTargetGroupARN || tg.ListenerARN != mt.ListenerARN {
			t.Fatalf("%+v: target = %+v", o, tg)
		}
		env.Sim.ResetStats()
		checkReadWrite(t, r, mt.StableTargetGroupARN, mt.CanaryTargetGroupARN, 75, 25)
		st := env.Sim.Stats()
		if st["elbv2:ModifyRule"] != 0 || st["elbv2:ModifyListener"] != 4 {
			t.Fatalf("%+v: calls = %v, want ModifyListener only", o, st)
		}
		// Put it back for the next variant.
		if err := r.WriteSplit(t.Context(), model.Split{StableID: tg.StableARN, CanaryID: tg.CanaryARN, StableWeight: 75, CanaryWeight: 25}); err != nil {
			t.Fatal(err)
		}
		r2, err := NewALBRouter(t.Context(), cfg, o)
		if err != nil || r2.Target().StickinessSeconds != 300 {
			t.Fatalf("stickiness lost by writes: %+v %v", r2, err)
		}
	}
}

func TestSimALBHealth(t *testing.T) {
	env, cfg := simEnv(t, "bad-targets")
	mt := simTarget(t, env, "edge")
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{ListenerARN: mt.ListenerARN})
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.Health(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := [2]model.Health{{Healthy: 2}, {Healthy: 1, Unhealthy: 1}}
	if h != want {
		t.Fatalf("health = %+v, want %+v", h, want)
	}
}

func TestSimALBRejectsShapes(t *testing.T) {
	env, cfg := simEnv(t, "bad-targets")
	cases := []struct {
		target string
		o      func(sim.ManifestTarget) ALBOptions
		want   string
	}{
		{"odd-single-tg", func(m sim.ManifestTarget) ALBOptions { return ALBOptions{RuleARN: m.RuleARN} }, "forwards to 1 target group; perch needs exactly two (stable and canary)"},
		{"odd-three-tg", func(m sim.ManifestTarget) ALBOptions { return ALBOptions{RuleARN: m.RuleARN} }, "forwards to 3 target groups; perch needs exactly two"},
		{"odd-redirect", func(m sim.ManifestTarget) ALBOptions { return ALBOptions{RuleARN: m.RuleARN} }, "action is redirect, not a forward"},
		{"odd-fixed-response", func(m sim.ManifestTarget) ALBOptions { return ALBOptions{ListenerARN: m.ListenerARN} }, "default action is fixed-response, not a forward"},
	}
	for _, c := range cases {
		t.Run(c.target, func(t *testing.T) {
			_, err := NewALBRouter(t.Context(), cfg, c.o(simTarget(t, env, c.target)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	// A zero-weight canary is still told apart: it is the lower weight.
	odd := simTarget(t, env, "odd")
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: odd.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	if r.Target().CanaryARN != odd.CanaryTargetGroupARN {
		t.Fatalf("canary = %s, want %s", r.Target().CanaryARN, odd.CanaryTargetGroupARN)
	}
	// Not-found, through the simulator's error encoding.
	missing := odd.RuleARN[:len(odd.RuleARN)-4] + "ffff"
	_, err = NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: missing})
	var nf *NotFoundError
	if !errors.As(err, &nf) || DescribeError(err) != "rule not found: "+missing {
		t.Fatalf("err = %v (%q)", err, DescribeError(err))
	}
}

func TestSimALBDriftSeenByRead(t *testing.T) {
	env, cfg := simEnv(t, "healthy")
	mt := simTarget(t, env, "checkout")
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: mt.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	env.Advance(time.Minute)
	if err := env.Sim.SetWeights(mt.RuleARN, map[string]int{mt.CanaryTargetGroupARN: 40, mt.StableTargetGroupARN: 60}); err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadSplit(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.StableWeight != 60 || got.CanaryWeight != 40 {
		t.Fatalf("split after drift = %+v", got)
	}
}

func TestSimCallerIdentity(t *testing.T) {
	_, cfg := simEnv(t, "healthy")
	id, err := NewIdentity(cfg).CallerIdentity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if id.Account != "123456789012" || id.ARN != "arn:aws:sts::123456789012:assumed-role/perch-demo/operator" || !strings.HasSuffix(id.UserID, ":operator") {
		t.Fatalf("identity = %+v", id)
	}
}

// The engine polls and acts from different goroutines.
func TestSimALBConcurrentUse(t *testing.T) {
	env, cfg := simEnv(t, "healthy")
	mt := simTarget(t, env, "checkout")
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: mt.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 8)
	for i := range 8 {
		go func() {
			if i%2 == 0 {
				_, err := r.ReadSplit(t.Context())
				done <- err
				return
			}
			done <- r.WriteSplit(t.Context(), model.Split{StableID: mt.StableTargetGroupARN, CanaryID: mt.CanaryTargetGroupARN, StableWeight: 100 - i, CanaryWeight: i})
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.ReadSplit(t.Context())
	if err != nil || got.StableWeight+got.CanaryWeight != 100 || got.CanaryWeight%2 != 1 {
		t.Fatalf("final split %+v, %v", got, err)
	}
}
