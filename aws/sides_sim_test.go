package aws

import (
	"testing"
	"time"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// A Lambda alias says which version is the canary by its shape, not its
// weights: FunctionVersion is stable and the weighted version the canary,
// above 50% too, so rollback still means "all traffic to the version that
// was stable". After a promote the alias is at rest on the canary, and a
// fresh perch needs the next canary named: it never guesses.
func TestSimLambdaSidesPastHalfAndAfterPromote(t *testing.T) {
	env, cfg := lambdaSimEnv(t, "lambda-healthy")
	ctx := t.Context()
	r, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: "orders", Alias: "live"})
	if err != nil {
		t.Fatal(err)
	}
	write := func(r *LambdaRouter, pct float64) {
		t.Helper()
		s, err := r.ReadSplit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.WriteSplit(ctx, s.WithCanaryPercent(pct)); err != nil {
			t.Fatal(err)
		}
	}
	write(r, 75)
	fresh, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: "orders", Alias: "live"})
	if err != nil {
		t.Fatal(err)
	}
	if st, ca := fresh.Versions(); st != "7" || ca != "8" || fresh.Target().CanarySource != model.CanaryFromAlias {
		t.Fatalf("fresh router at 75%%: stable %s canary %s (%s)", st, ca, fresh.Target().CanarySource)
	}
	write(fresh, 0) // rollback from the fresh router
	if a, _ := env.Sim.Alias("orders", "live"); a.FunctionVersion != "7" || len(a.Weights) != 0 {
		t.Fatalf("after rollback at 75%%: alias %+v, want all on version 7", a)
	}

	write(r, 100) // promote
	if _, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: "orders", Alias: "live"}); err == nil {
		t.Fatal("a fresh router opened a promoted alias without being told the next canary")
	}
	next, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: "orders", Alias: "live", CanaryVersion: "7"})
	if err != nil {
		t.Fatal(err)
	}
	if st, ca := next.Versions(); st != "8" || ca != "7" || next.Target().CanarySource != model.CanaryFromFlag {
		t.Fatalf("after promote: stable %s canary %s (%s)", st, ca, next.Target().CanarySource)
	}
	if s, err := next.ReadSplit(ctx); err != nil || s.CanaryPercent() != 0 {
		t.Fatalf("after promote the next canary is at %v (%v): a rollback has nothing to flip", s.CanaryPercent(), err)
	}
}

// A CodeDeploy deployment names its replacement whatever the split: past
// 50% and after it finished, the canary is still the replacement.
func TestSimCodeDeploySidesPastHalfAndAfterTheEnd(t *testing.T) {
	sc, err := sim.LoadScenario("codedeploy-ecs")
	if err != nil {
		t.Fatal(err)
	}
	linear := "Custom.ECSLinear30PercentEvery1Minute"
	sc.CodeDeploy.Configs = append(sc.CodeDeploy.Configs, sim.CodeDeployConfig{Name: linear, ComputePlatform: "ECS", Type: "TimeBasedLinear", Percentage: 30, Interval: 1})
	for i := range sc.CodeDeploy.Groups {
		sc.CodeDeploy.Groups[i].DeploymentConfig = linear
		for j := range sc.CodeDeploy.Groups[i].Deployments {
			sc.CodeDeploy.Groups[i].Deployments[j].Config = linear
		}
	}
	for _, v := range []string{"AWS_ENDPOINT_URL_CODEDEPLOY", "AWS_ENDPOINT_URL_LAMBDA"} {
		t.Setenv(v, "")
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	cfg := testConfig(t, env.URL)
	mt := codeDeployEntry(t, env, "web-app/web-bg")
	ctx := t.Context()
	open := func() (*CodeDeployRouter, model.Split) {
		t.Helper()
		r, err := NewCodeDeployRouter(ctx, cfg, CodeDeployOptions{DeploymentID: mt.DeploymentID})
		if err != nil {
			t.Fatal(err)
		}
		s, err := r.ReadSplit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r, s
	}
	env.Advance(time.Minute) // the deployment starts
	var past bool
	for range 30 {
		env.Advance(30 * time.Second)
		r, s := open()
		tg := r.Target()
		if tg.CanaryARN != mt.CanaryTargetGroupARN || tg.StableARN != mt.StableTargetGroupARN || tg.CanarySource != model.CanaryFromDeployment {
			t.Fatalf("at %v%%: canary %s (%s)", s.CanaryPercent(), tg.CanaryName, tg.CanarySource)
		}
		if s.CanaryPercent() > 50 && s.CanaryPercent() < 100 {
			past = true
		}
		if st, err := r.Deployment(ctx); err != nil {
			t.Fatal(err)
		} else if st.Terminal() {
			if s.CanaryPercent() != 100 || !past {
				t.Fatalf("finished at canary %v%%, seen past half: %v", s.CanaryPercent(), past)
			}
			return
		}
	}
	t.Fatal("the deployment did not finish in 15 simulated minutes")
}
