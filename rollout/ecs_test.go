package rollout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim/simtest"
)

// ecsRig is an engine on an ECS service deployment in the simulator.
type ecsRig struct {
	env    *simtest.Env
	engine *rollout.Engine
	path   string
	arn    string
}

func newECSRig(t *testing.T, scenario string, advance time.Duration) *ecsRig {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: scenario})
	env.Advance(advance)
	mt := env.Target(t, "default/web")
	router, err := perchaws.NewECSRouter(context.Background(), env.AWS, perchaws.ECSOptions{DeploymentARN: mt.DeploymentARN})
	if err != nil {
		t.Fatal(err)
	}
	log, path := tempAudit(t)
	eng, err := rollout.New(rollout.Config{
		Router: router, Health: router, Metrics: perchaws.NewECSMetrics(env.AWS, router),
		Alarms: perchaws.NewAlarms(env.AWS), AlarmNames: router.AlarmNames(),
		Deployment: router, Controller: router,
		Identity: perchaws.NewIdentity(env.AWS), Audit: log, Clock: env.Clock, Poll: 10 * time.Second,
		History: time.Hour, DescribeError: perchaws.DescribeError,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &ecsRig{env: env, engine: eng, path: path, arn: mt.DeploymentARN}
}

func (r *ecsRig) entries(t *testing.T) []model.AuditEntry {
	t.Helper()
	es, err := audit.ReadAll(r.path)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestECSAlarmRollbackIsRecordedAsECSs: the canary's alarm fires and ECS
// rolls the deployment back by itself; the audit log says ECS shifted and
// rolled back, once each, never the operator, and never as drift.
func TestECSAlarmRollbackIsRecordedAsECSs(t *testing.T) {
	r := newECSRig(t, "ecs-canary-bad", 90*time.Second)
	ctx := context.Background()
	var snap model.Snapshot
	for i := 0; i < 10*6; i++ {
		snap = r.engine.PollOnce(ctx)
		if snap.Drift != nil {
			t.Fatalf("ECS's shift reported as drift: %+v", snap.Drift)
		}
		r.env.Advance(10 * time.Second)
	}
	d := snap.Deployment
	if d == nil || d.Status != model.ECSRollbackSuccessful || !strings.Contains(d.Step, "rolled back (alarm web-green-5xx)") || snap.Split.CanaryPercent() != 0 {
		t.Fatalf("deployment after the alarm: %+v split %v", d, snap.Split)
	}
	var shifts, rollbacks int
	for _, e := range r.entries(t) {
		switch {
		case e.Action == "shift" && e.Actor.Via == "ecs":
			shifts++
		case e.Action == "rollback" && e.Actor.Via == "ecs":
			rollbacks++
			if !strings.Contains(e.Detail, "ECS rolled back") || !strings.Contains(e.Detail, "web-green-5xx") || *e.From != 10 || *e.To != 0 {
				t.Errorf("rollback entry: %+v", e)
			}
		default:
			t.Errorf("an entry not by ECS: %+v", e)
		}
	}
	if shifts < 1 || rollbacks != 1 {
		t.Fatalf("%d shift and %d rollback entries by ECS: %+v", shifts, rollbacks, r.entries(t))
	}
	res := r.engine.Execute(ctx, model.Intent{Kind: model.StepUp, Actor: operator()})
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, "owns its listener rule") {
		t.Fatalf("step up: %+v", res)
	}
}

// TestECSRollbackStopsTheDeployment: r is StopServiceDeployment ROLLBACK,
// audited and read back; nothing writes the rule.
func TestECSRollbackStopsTheDeployment(t *testing.T) {
	r := newECSRig(t, "ecs-canary", 3*time.Minute)
	ctx := context.Background()
	snap := r.engine.PollOnce(ctx)
	d := snap.Deployment
	if snap.Split.CanaryPercent() != 10 || d == nil || d.ECS == nil || d.ECS.Stage != "PRODUCTION_TRAFFIC_SHIFT" ||
		d.NextShiftTo != 100 || !d.NextShiftAt.Equal(simtest.Epoch.Add(7*time.Minute)) || snap.Target.CanaryName != "web-canary" {
		t.Fatalf("before: %+v %+v %+v", snap.Split, d, snap.Target)
	}
	res := r.engine.Execute(ctx, model.Intent{Kind: model.Continue, Actor: operator()})
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, "no lifecycle hook awaiting action") {
		t.Fatalf("continue: %+v", res)
	}
	r.env.Sim.ResetStats()
	res = r.engine.Execute(ctx, model.Intent{Kind: model.Rollback, Reason: "p99", Actor: operator()})
	if res.Outcome != model.OutcomeOK || !res.Verified || res.To.CanaryPercent() != 0 {
		t.Fatalf("rollback: %+v", res)
	}
	if st := r.env.Sim.Stats(); st["ecs:StopServiceDeployment"] != 1 || st["elbv2:ModifyRule"] != 0 {
		t.Fatalf("calls: %v", st)
	}
	found := false
	for _, e := range r.entries(t) {
		found = found || e.Phase == model.PhaseIntent && strings.Contains(e.Detail, "StopServiceDeployment") && e.Actor.OSUser == "ana"
	}
	if !found {
		t.Fatalf("no intent: %+v", r.entries(t))
	}
	// The next polls see the rollback finish; perch did it, so no ECS entry.
	before := len(r.entries(t))
	r.env.Advance(time.Minute)
	snap = r.engine.PollOnce(ctx)
	if snap.Deployment.Status != model.ECSRollbackSuccessful || len(r.entries(t)) != before {
		t.Fatalf("after: %+v, %d → %d entries", snap.Deployment, before, len(r.entries(t)))
	}
}

// TestECSHookContinues: at a PAUSE hook c is ContinueServiceDeployment
// CONTINUE; r there is ContinueServiceDeployment ROLLBACK.
func TestECSHookContinues(t *testing.T) {
	r := newECSRig(t, "ecs-bluegreen-paused", 5*time.Minute)
	ctx := context.Background()
	snap := r.engine.PollOnce(ctx)
	if d := snap.Deployment; d == nil || d.Waiting != model.WaitHook || d.ECS.Hook == nil || d.ECS.Hook.TimeoutAction != "ROLLBACK" ||
		!strings.Contains(d.Step, "PAUSED at POST_TEST_TRAFFIC_SHIFT") {
		t.Fatalf("hook: %+v", d)
	}
	r.env.Sim.ResetStats()
	res := r.engine.Execute(ctx, model.Intent{Kind: model.Continue, Actor: operator()})
	if res.Outcome != model.OutcomeOK || !res.Verified || res.To.CanaryPercent() != 100 {
		t.Fatalf("continue: %+v", res)
	}
	if st := r.env.Sim.Stats(); st["ecs:ContinueServiceDeployment"] != 1 {
		t.Fatalf("calls: %v", st)
	}
}

func TestECSRollbackAtAHook(t *testing.T) {
	r := newECSRig(t, "ecs-bluegreen-paused", 5*time.Minute)
	ctx := context.Background()
	r.engine.PollOnce(ctx)
	r.env.Sim.ResetStats()
	res := r.engine.Execute(ctx, model.Intent{Kind: model.Rollback, Actor: operator()})
	if res.Outcome != model.OutcomeOK || !res.Verified {
		t.Fatalf("rollback: %+v", res)
	}
	if st := r.env.Sim.Stats(); st["ecs:ContinueServiceDeployment"] != 1 || st["ecs:StopServiceDeployment"] != 0 {
		t.Fatalf("calls: %v", st)
	}
	st, err := r.env.Sim.ECSDeployment(r.arn)
	if err != nil || st.Status != "ROLLBACK_IN_PROGRESS" {
		t.Fatalf("sim: %+v %v", st, err)
	}
}
