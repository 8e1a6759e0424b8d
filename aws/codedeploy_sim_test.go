package aws

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

func codeDeploySimEnv(t *testing.T, scenario string) (*simtest.Env, awssdk.Config) {
	t.Helper()
	for _, v := range []string{"AWS_ENDPOINT_URL_CODEDEPLOY", "AWS_ENDPOINT_URL_LAMBDA"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	return simEnv(t, scenario)
}

func codeDeployEntry(t *testing.T, env *simtest.Env, name string) sim.ManifestTarget {
	t.Helper()
	mt := env.Target(t, name)
	if mt.Kind != "codedeploy" {
		t.Fatalf("%s is a %s target", name, mt.Kind)
	}
	return mt
}

// codeDeployWrites counts the calls that change CodeDeploy or routing state.
func codeDeployWrites(env *simtest.Env) int {
	n := 0
	for op, c := range env.Sim.Stats() {
		for _, w := range []string{"Stop", "Continue", "Create", "Modify", "Update", "Set", "Put"} {
			if strings.Contains(op, ":"+w) {
				n += c
			}
		}
	}
	return n
}

func TestSimCodeDeployECSFollowsTheConfigurationAndStopsWithRollback(t *testing.T) {
	env, cfg := codeDeploySimEnv(t, "codedeploy-ecs")
	ctx := t.Context()
	mt := codeDeployEntry(t, env, "web-app/web-bg")
	env.Advance(time.Minute) // the deployment starts: installing
	r, err := NewCodeDeployRouter(ctx, cfg, CodeDeployOptions{DeploymentID: mt.DeploymentID})
	if err != nil {
		t.Fatal(err)
	}
	want := model.Target{
		Kind: model.KindCodeDeploy, Name: "web-app/web-bg", Region: "us-east-1",
		DeploymentID: mt.DeploymentID, Application: "web-app", DeploymentGroup: "web-bg", ComputePlatform: "ECS",
		LoadBalancerARN: mt.LoadBalancerARN, ListenerARN: mt.ListenerARN,
		StableName: "web-stable", CanaryName: "web-canary", StableARN: mt.StableTargetGroupARN, CanaryARN: mt.CanaryTargetGroupARN,
		CanarySource: model.CanaryFromDeployment,
	}
	if got := r.Target(); got != want || got.ID() != mt.DeploymentID {
		t.Fatalf("target\n got %+v\nwant %+v", got, want)
	}
	if a := r.AlarmNames(); len(a) != 1 || a[0] != "web-green-5xx" {
		t.Fatalf("alarms %v", a)
	}
	if err := r.WriteSplit(ctx, model.Split{}); !errors.Is(err, ErrCodeDeployShifts) {
		t.Fatalf("write: %v", err)
	}

	read := func() (model.Split, model.DeploymentStatus) {
		t.Helper()
		st, err := r.Deployment(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st.Plan(env.Clock.Now())
		s, err := r.ReadSplit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s, st
	}
	s, st := read()
	if s.StableID != mt.StableTargetGroupARN || s.CanaryID != mt.CanaryTargetGroupARN || s.CanaryWeight != 0 || s.StableWeight != 1000 ||
		st.Status != "InProgress" || st.Routing != (model.TrafficRouting{Type: "TimeBasedCanary", Percent: 10, Interval: 5 * time.Minute}) ||
		!strings.HasPrefix(st.Step, "installing the replacement") || st.Config != "CodeDeployDefault.ECSCanary10Percent5Minutes" ||
		len(st.Hooks) != 8 || len(st.Alarms) != 1 {
		t.Fatalf("installing: %+v\n%+v", s, st)
	}
	if h, err := r.Health(ctx); err != nil || h[model.Stable].Healthy != 3 || h[model.Canary].Other != 3 {
		t.Fatalf("health while installing: %+v %v", h, err)
	}
	env.Advance(90 * time.Second)
	s, st = read()
	start := simtest.Epoch.Add(2 * time.Minute)
	if s.CanaryPercent() != 10 || st.Step != "canary 10% for 5m" || !st.ShiftStartedAt.Equal(start) ||
		!st.NextShiftAt.Equal(start.Add(5*time.Minute)) || st.NextShiftTo != 100 || st.Waiting != "" {
		t.Fatalf("canary: %+v\n%+v", s, st)
	}
	if h, _ := r.Health(ctx); h[model.Canary].Healthy != 3 {
		t.Fatalf("health while shifting: %+v", h)
	}

	// Stop with rollback: Stopped, rollback info, traffic back on blue.
	env.Sim.ResetStats()
	if err := r.Stop(ctx, true); err != nil {
		t.Fatal(err)
	}
	if n := env.Sim.Stats()["codedeploy:StopDeployment"]; n != 1 || codeDeployWrites(env) != 1 {
		t.Fatalf("stop made %v", env.Sim.Stats())
	}
	s, st = read()
	if st.Status != "Stopped" || !st.RolledBack() || st.Error == nil || st.Error.Code != "MANUAL_STOP" ||
		s.CanaryPercent() != 0 || st.Step != "rolled back (a stop request)" {
		t.Fatalf("after the stop: %+v\n%+v", s, st)
	}
	if err := r.Stop(ctx, true); err == nil || !strings.Contains(err.Error(), "already finished") {
		t.Fatalf("second stop: %v", err)
	}
}

func TestSimCodeDeployWaitsAndContinue(t *testing.T) {
	sc, err := sim.ParseScenario([]byte(`
name: waits
history: 30m
albs:
  - {name: api, requests_per_minute: 600, canary_weight: 0}
codedeploy:
  deployment_groups:
    - {application: a, name: g, compute_platform: ECS, alb: api, deployment_config: CodeDeployDefault.ECSAllAtOnce,
       ready_wait: 5m, termination_wait: 10m, deployments: [{at: 0s}]}
`), "waits")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_CODEDEPLOY", "")
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	cfg := testConfig(t, env.URL)
	ctx := t.Context()
	r, err := NewCodeDeployRouter(ctx, cfg, CodeDeployOptions{Application: "a", DeploymentGroup: "g"})
	if err != nil {
		t.Fatal(err)
	}
	env.Advance(time.Minute)
	st, err := r.Deployment(ctx)
	if err != nil || st.Status != "Ready" || st.Waiting != model.WaitReady {
		t.Fatalf("ready: %+v %v", st, err)
	}
	if err := r.Continue(ctx, model.WaitReady); err != nil {
		t.Fatal(err)
	}
	st, _ = r.Deployment(ctx)
	if st.Status != "InProgress" || st.Waiting != model.WaitTermination || st.CanaryPercent != 100 {
		t.Fatalf("after continue: %+v", st)
	}
	if err := r.Continue(ctx, model.WaitReady); err == nil || !strings.Contains(err.Error(), "not waiting") {
		t.Fatalf("continue twice: %v", err)
	}
	if err := r.Continue(ctx, model.WaitTermination); err != nil {
		t.Fatal(err)
	}
	if st, _ = r.Deployment(ctx); st.Status != "Succeeded" {
		t.Fatalf("after terminating: %+v", st)
	}
	// Following the group: a new deployment there is picked up once the
	// finished one has been reported.
	out, err := codedeploy.NewFromConfig(cfg).CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{
		ApplicationName: awssdk.String("a"), DeploymentGroupName: awssdk.String("g")})
	if err != nil {
		t.Fatal(err)
	}
	st, err = r.Deployment(ctx)
	if err != nil || st.ID != awssdk.ToString(out.DeploymentId) || r.Target().DeploymentID != st.ID {
		t.Fatalf("following: %+v %v", st, err)
	}
	// The new deployment goes the other way: green is production now.
	if tg := r.Target(); tg.StableName != "api-canary" || tg.CanaryName != "api-stable" {
		t.Fatalf("second deployment's sides: %+v", tg)
	}
}

func TestSimCodeDeployLambdaAndMetrics(t *testing.T) {
	env, cfg := codeDeploySimEnv(t, "codedeploy-lambda")
	ctx := t.Context()
	mt := codeDeployEntry(t, env, "orders-app/orders-dg")
	env.Advance(5 * time.Minute) // four minutes into a 10% canary that started at 1m
	r, err := NewCodeDeployRouter(ctx, cfg, CodeDeployOptions{Application: "orders-app", DeploymentGroup: "orders-dg"})
	if err != nil {
		t.Fatal(err)
	}
	tg := r.Target()
	if tg.DeploymentID != mt.DeploymentID || tg.Function != "orders" || tg.Alias != "live" || tg.AliasARN != mt.AliasARN ||
		tg.StableName != "version 7" || tg.CanaryName != "version 8" || tg.ComputePlatform != "Lambda" {
		t.Fatalf("target %+v", tg)
	}
	s, err := r.ReadSplit(ctx)
	if err != nil || s.StableID != mt.AliasARN[:len(mt.AliasARN)-len(":live")]+":7" || s.CanaryPercent() != 10 {
		t.Fatalf("split %+v %v", s, err)
	}
	if h, err := r.Health(ctx); err != nil || h[model.Stable].Healthy != 1 || h[model.Canary].Healthy != 1 {
		t.Fatalf("health %+v %v", h, err)
	}
	m := NewCodeDeployMetrics(cfg, r)
	data, err := m.Fetch(ctx, env.Clock.Now().Add(-10*time.Minute), env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var stable, canary float64
	for _, sd := range data {
		if sd.Signal == model.Requests {
			for _, p := range sd.Points {
				if sd.Side == model.Canary {
					canary += p.V
				} else {
					stable += p.V
				}
			}
		}
	}
	// Three published minutes at 10% of 1200 a minute went to version 8.
	if canary < 250 || canary > 500 || stable < 5000 {
		t.Fatalf("invocations stable %v canary %v", stable, canary)
	}
	// The slow counts come with them: TC on each version's Duration above
	// stable's p99, learnt from the same read.
	slow := map[model.Side]int{}
	for _, sd := range data {
		if sd.Signal == model.SlowRequests {
			slow[sd.Side] = len(sd.Points)
		}
	}
	if slow[model.Stable] == 0 || slow[model.Canary] == 0 {
		t.Fatalf("no slow-request counts for the deployment's versions: %v", slow)
	}
	env.Advance(time.Minute)
	st, err := r.Deployment(ctx)
	if s, _ := r.ReadSplit(ctx); err != nil || st.Status != "Succeeded" || s.CanaryPercent() != 100 {
		t.Fatalf("done: %+v %+v %v", st, s, err)
	}
}

func TestSimCodeDeployBadInput(t *testing.T) {
	env, cfg := codeDeploySimEnv(t, "codedeploy-ecs")
	ctx := context.Background()
	server := codeDeployEntry(t, env, "legacy-app/legacy-fleet")
	env.Sim.ResetStats()
	for _, c := range []struct {
		name string
		o    CodeDeployOptions
		want string
		nf   bool
	}{
		{"unknown id", CodeDeployOptions{DeploymentID: "d-NOSUCH123"}, "deployment not found: d-NOSUCH123", true},
		{"malformed id", CodeDeployOptions{DeploymentID: "deploy-1"}, "is not a CodeDeploy deployment ID", false},
		{"server", CodeDeployOptions{DeploymentID: server.DeploymentID}, "EC2/on-premises (Server) deployment", false},
		{"unknown group", CodeDeployOptions{Application: "web-app", DeploymentGroup: "nope"}, "deployment group not found: web-app/nope", true},
		{"unknown application", CodeDeployOptions{Application: "nope", DeploymentGroup: "web-bg"}, "CodeDeploy application not found: nope", true},
		{"nothing running yet", CodeDeployOptions{Application: "web-app", DeploymentGroup: "web-bg"}, "no deployment in progress in web-app/web-bg", false},
		{"both", CodeDeployOptions{DeploymentID: "d-NOSUCH123", Application: "a", DeploymentGroup: "b"}, "not both", false},
		{"half a group", CodeDeployOptions{Application: "a"}, "both the application and the deployment group", false},
	} {
		_, err := NewCodeDeployRouter(ctx, cfg, c.o)
		var nf *NotFoundError
		if err == nil || !strings.Contains(DescribeError(err), c.want) || errors.As(err, &nf) != c.nf {
			t.Errorf("%s: %v (described %q)", c.name, err, DescribeError(err))
		}
	}
	if codeDeployWrites(env) != 0 {
		t.Fatalf("bad input wrote: %v", env.Sim.Stats())
	}
	// A finished deployment opens, and reads as finished.
	past := env.Target(t, "web-app/web-bg/"+env.Manifest.Targets[2].DeploymentID)
	r, err := NewCodeDeployRouter(ctx, cfg, CodeDeployOptions{DeploymentID: past.DeploymentID})
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Deployment(ctx)
	if err != nil || !st.Terminal() || !st.RolledBack() || st.Description == "" {
		t.Fatalf("finished deployment: %+v %v", st, err)
	}
}
