package rollout_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim/simtest"
)

// These tests run the engine on the real adapters and the real SDK
// clients, against perch's simulator over loopback, on a manual clock.

type rig struct {
	env    *simtest.Env
	engine *rollout.Engine
	router *perchaws.ALBRouter
	log    *audit.Log
	path   string
}

func newRig(t *testing.T, scenario string, readOnly bool) *rig {
	t.Helper()
	return newALBRig(t, scenario, func(env *simtest.Env, c *rollout.Config) {
		c.Identity = perchaws.NewIdentity(env.AWS)
		c.Poll, c.History = 10*time.Second, time.Hour
		c.ReadOnly, c.DescribeError = readOnly, perchaws.DescribeError
	})
}

// newALBRig starts the simulator on scenario and an engine on its first
// ALB rule through the real adapters; tune sets the rest of its config.
func newALBRig(t *testing.T, scenario string, tune func(env *simtest.Env, c *rollout.Config)) *rig {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: scenario})
	ctx := context.Background()
	router, err := perchaws.NewALBRouter(ctx, env.AWS, perchaws.ALBOptions{RuleARN: env.Manifest.Targets[0].RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	log, path := tempAudit(t)
	cfg := rollout.Config{
		Router: router, Health: router,
		Metrics: perchaws.NewALBMetrics(env.AWS, router.Target()),
		Audit:   log, Clock: env.Clock,
	}
	tune(env, &cfg)
	eng, err := rollout.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{env: env, engine: eng, router: router, log: log, path: path}
}

// tempAudit opens an audit log in the test's directory, closed when the
// test ends.
func tempAudit(t testing.TB) (*audit.Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return log, path
}

func operator() model.Actor { return model.Actor{OSUser: "ana", Via: "test"} }

func TestThirtyMinuteRolloutOnTheSimulator(t *testing.T) {
	start := time.Now()
	r := newRig(t, "healthy", false)
	ctx := context.Background()
	snap := r.engine.PollOnce(ctx)
	if !snap.SplitKnown || snap.Identity.ARN == "" {
		t.Fatalf("first poll: %+v", snap)
	}
	if n := len(snap.Signals[model.Canary][model.Requests]); n < 30 {
		t.Fatalf("backfilled history missing: %d canary request points", n)
	}
	// From 0%, walk the ladder to 100%, baking five simulated minutes per
	// step with a poll every ten seconds: 30 minutes in all.
	if res := r.engine.Execute(ctx, model.Intent{Kind: model.Rollback, Actor: operator()}); !res.Verified {
		t.Fatalf("rollback to start from 0%%: %+v", res)
	}
	snap = r.engine.PollOnce(ctx)
	steps := 0
	for snap.Split.CanaryPercent() < 100 {
		steps++
		seen := snap.Split
		res := r.engine.Execute(ctx, model.Intent{Kind: model.StepUp, Expected: &seen, Actor: operator()})
		if res.Outcome != model.OutcomeOK || !res.Verified {
			t.Fatalf("step from %v: %+v", seen, res)
		}
		for i := 0; i < 30; i++ {
			r.env.Advance(10 * time.Second)
			snap = r.engine.PollOnce(ctx)
		}
		if snap.Drift != nil {
			t.Fatalf("perch's own step seen as drift: %+v", snap.Drift)
		}
	}
	if share, ok := snap.ObservedCanaryShare(snap.Now.Add(-3 * time.Minute)); !ok || share < 99 {
		t.Fatalf("after promotion the canary should get all requests, observed %v", share)
	}
	if steps != 6 {
		t.Fatalf("%d ladder steps from 0%% to 100%%, want 6", steps)
	}
	if n := r.env.Sim.Stats()["elbv2:ModifyRule"]; n != steps+1 {
		t.Fatalf("%d ModifyRule calls for a rollback and %d steps", n, steps)
	}
	rep, err := audit.Verify(r.path)
	if err != nil || rep.Entries != 2*(steps+1) {
		t.Fatalf("audit: %+v %v, want intent and outcome for %d steps", rep, err, steps)
	}
	t.Logf("%d steps over %v simulated in %v", steps, time.Duration(steps)*5*time.Minute, time.Since(start))
}

func TestDriftByAnotherClientIsSeenAndStaleStepRefused(t *testing.T) {
	r := newRig(t, "healthy", false)
	ctx := context.Background()
	seen := r.engine.PollOnce(ctx).Split

	// A second operator with their own router moves the weights.
	other, err := perchaws.NewALBRouter(ctx, r.env.AWS, perchaws.ALBOptions{RuleARN: r.env.Manifest.Targets[0].RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ReadSplit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.WriteSplit(ctx, seen.WithCanaryPercent(40)); err != nil {
		t.Fatal(err)
	}

	r.env.Advance(10 * time.Second)
	snap := r.engine.PollOnce(ctx)
	if snap.Drift == nil || snap.Split.CanaryPercent() != 40 {
		t.Fatalf("drift not seen within one poll: %+v split %v", snap.Drift, snap.Split)
	}
	before := r.env.Sim.Stats()["elbv2:ModifyRule"]
	res := r.engine.Execute(ctx, model.Intent{Kind: model.StepUp, Expected: &seen, Actor: operator()})
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, "changed since you looked") {
		t.Fatalf("step on a stale view: %+v", res)
	}
	if after := r.env.Sim.Stats()["elbv2:ModifyRule"]; after != before {
		t.Fatalf("a refused step still wrote (%d ModifyRule calls)", after-before)
	}
	entries, err := audit.ReadAll(r.path)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+"/"+string(e.Outcome))
	}
	if strings.Join(actions, " ") != "drift/ shift/refused" {
		t.Fatalf("audit trail %v", actions)
	}
}

func TestReadOnlyEngineMakesNoWriteCalls(t *testing.T) {
	r := newRig(t, "error-spike", true)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		r.engine.PollOnce(ctx)
		r.env.Advance(30 * time.Second)
	}
	for _, k := range []model.IntentKind{model.StepUp, model.StepDown, model.Promote, model.Rollback} {
		if res := r.engine.Execute(ctx, model.Intent{Kind: k, Actor: operator()}); res.Outcome != model.OutcomeRefused {
			t.Fatalf("%s in read-only mode: %+v", k, res)
		}
	}
	for op, n := range r.env.Sim.Stats() {
		if n > 0 && (strings.Contains(op, "Modify") || strings.Contains(op, "Set") || strings.Contains(op, "Put")) {
			t.Fatalf("read-only engine called %s %d times", op, n)
		}
	}
}

func TestErrorSpikeShowsInTheCanarySeries(t *testing.T) {
	r := newRig(t, "error-spike", false)
	ctx := context.Background()
	r.engine.PollOnce(ctx)
	r.env.Advance(16 * time.Minute) // the spike starts eight minutes in
	snap := r.engine.PollOnce(ctx)
	since := snap.Now.Add(-6 * time.Minute)
	rate := func(side model.Side) float64 {
		req := model.Sum(snap.Signals[side][model.Requests], since)
		return 100 * model.Sum(snap.Signals[side][model.Errors5xx], since) / req
	}
	if c, s := rate(model.Canary), rate(model.Stable); c < 3*s || c < 2 {
		t.Fatalf("canary 5xx %.2f%% vs stable %.2f%%: the spike should stand out", c, s)
	}
}

// TestDriftByTheAWSCLI has the official AWS CLI, a client nobody here
// wrote, change the weights behind perch's back.
func TestDriftByTheAWSCLI(t *testing.T) {
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the AWS CLI is not on PATH")
		}
		t.Skip("the AWS CLI is not on PATH")
	}
	r := newRig(t, "healthy", false)
	ctx := context.Background()
	seen := r.engine.PollOnce(ctx).Split

	actions := fmt.Sprintf(`[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":%q,"Weight":70},{"TargetGroupArn":%q,"Weight":30}]}}]`,
		seen.StableID, seen.CanaryID)
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, awsCLI, "--endpoint-url", r.env.URL, "--region", "us-east-1", "--output", "json",
		"elbv2", "modify-rule", "--rule-arn", r.router.Target().RuleARN, "--actions", actions)
	home := t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_PAGER="}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws elbv2 modify-rule: %v\n%s", err, out)
	}

	r.env.Advance(10 * time.Second)
	snap := r.engine.PollOnce(ctx)
	if snap.Drift == nil || snap.Split.CanaryPercent() != 30 {
		t.Fatalf("the AWS CLI's change was not seen as drift within one poll: drift %+v split %v", snap.Drift, snap.Split)
	}
	res := r.engine.Execute(ctx, model.Intent{Kind: model.StepUp, Expected: &seen, Actor: operator()})
	if res.Outcome != model.OutcomeRefused {
		t.Fatalf("step on the pre-drift view: %+v", res)
	}
}
