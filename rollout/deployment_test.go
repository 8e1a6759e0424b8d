package rollout_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim/simtest"
)

// cdRig is an engine on a CodeDeploy deployment in the simulator.
type cdRig struct {
	env    *simtest.Env
	engine *rollout.Engine
	router *perchaws.CodeDeployRouter
	path   string
}

func newCDRig(t *testing.T, scenario, target string, advance time.Duration, readOnly bool) *cdRig {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: scenario})
	env.Advance(advance)
	mt := env.Target(t, target)
	ctx := context.Background()
	router, err := perchaws.NewCodeDeployRouter(ctx, env.AWS, perchaws.CodeDeployOptions{DeploymentID: mt.DeploymentID})
	if err != nil {
		t.Fatal(err)
	}
	log, path := tempAudit(t)
	eng, err := rollout.New(rollout.Config{
		Router: router, Health: router, Metrics: perchaws.NewCodeDeployMetrics(env.AWS, router),
		Alarms: perchaws.NewAlarms(env.AWS), AlarmNames: router.AlarmNames(),
		Deployment: router, Controller: router,
		Identity: perchaws.NewIdentity(env.AWS), Audit: log, Clock: env.Clock, Poll: 10 * time.Second,
		History: time.Hour, ReadOnly: readOnly, DescribeError: perchaws.DescribeError,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &cdRig{env: env, engine: eng, router: router, path: path}
}

func (r *cdRig) entries(t *testing.T) []model.AuditEntry {
	t.Helper()
	es, err := audit.ReadAll(r.path)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestCodeDeployAlarmRollbackIsRecordedAsCodeDeploys: the engine watches
// the bad ECS deployment poll by poll; the split follows the configuration
// and each move is CodeDeploy's; when the alarm fires CodeDeploy stops and
// rolls back, and the audit log says CodeDeploy did it, not the operator.
func TestCodeDeployAlarmRollbackIsRecordedAsCodeDeploys(t *testing.T) {
	wall := time.Now()
	r := newCDRig(t, "codedeploy-ecs-bad", "web-app/web-bg", time.Minute, false)
	ctx := context.Background()
	var seen []float64
	var snap model.Snapshot
	for i := 0; i < 8*6; i++ { // eight minutes, a poll every ten seconds
		snap = r.engine.PollOnce(ctx)
		if p := snap.Split.CanaryPercent(); len(seen) == 0 || seen[len(seen)-1] != p {
			seen = append(seen, p)
		}
		if snap.Drift != nil {
			t.Fatalf("CodeDeploy's shift reported as drift: %+v", snap.Drift)
		}
		r.env.Advance(10 * time.Second)
	}
	if got := fmtFloats(seen); got != "0 10 20 30 40 0" {
		t.Fatalf("split history %s, want 0 10 20 30 40 0", got)
	}
	d := snap.Deployment
	if d == nil || d.Status != "Stopped" || !d.RolledBack() || d.Error == nil || d.Error.Code != "ALARM_ACTIVE" ||
		!strings.Contains(d.Step, "rolled back (alarm web-green-5xx)") {
		t.Fatalf("deployment after the alarm: %+v", d)
	}
	if len(snap.Alarms) != 1 || snap.Alarms[0].Name != "web-green-5xx" {
		t.Fatalf("the group's alarm is not watched: %+v", snap.Alarms)
	}
	var shifts, rollbacks int
	for _, e := range r.entries(t) {
		switch {
		case e.Action == "shift" && e.Actor.Via == "codedeploy" && e.Phase == model.PhaseEvent:
			shifts++
		case e.Action == "rollback" && e.Actor.Via == "codedeploy" && e.Phase == model.PhaseEvent:
			rollbacks++
			if !strings.Contains(e.Detail, "ALARM_ACTIVE") || !strings.Contains(e.Detail, "web-green-5xx") ||
				!strings.Contains(e.Detail, d.Rollback.DeploymentID) || e.Actor.OSUser != "" || *e.From != 40 || *e.To != 0 {
				t.Errorf("rollback entry: %+v", e)
			}
		case e.Actor.Via != "codedeploy":
			t.Errorf("an entry not by CodeDeploy: %+v", e)
		}
	}
	if shifts != 4 || rollbacks != 1 {
		t.Fatalf("%d shift and %d rollback entries by CodeDeploy, want 4 and 1: %+v", shifts, rollbacks, r.entries(t))
	}
	// perch's own write keys do nothing here: a shift is refused unaudited.
	n := len(r.entries(t))
	res := r.engine.Execute(ctx, model.Intent{Kind: model.StepUp, Actor: operator()})
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, "CodeDeploy shifts traffic itself") || len(r.entries(t)) != n {
		t.Fatalf("step up: %+v", res)
	}
	// Stopping a finished deployment is refused, and says why.
	res = r.engine.Execute(ctx, model.Intent{Kind: model.Rollback, Actor: operator()})
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, "already finished") {
		t.Fatalf("rollback after CodeDeploy's: %+v", res)
	}
	t.Logf("an 8-minute deployment took %v of wall time", time.Since(wall))
}

func fmtFloats(v []float64) string {
	var b strings.Builder
	for i, f := range v {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(model.FormatPercent(f))
	}
	return strings.ReplaceAll(b.String(), "%", "")
}

func TestCodeDeployStopWithRollbackIsAuditedAndVerified(t *testing.T) {
	r := newCDRig(t, "codedeploy-ecs", "web-app/web-bg", 3*time.Minute, false)
	ctx := context.Background()
	snap := r.engine.PollOnce(ctx)
	if snap.Split.CanaryPercent() != 10 || snap.Deployment == nil || snap.Deployment.Step != "canary 10% for 5m" ||
		snap.Deployment.NextShiftTo != 100 || !snap.Deployment.NextShiftAt.Equal(simtest.Epoch.Add(7*time.Minute)) {
		t.Fatalf("before: %+v %+v", snap.Split, snap.Deployment)
	}
	// Continue is refused while the deployment shifts by its configuration.
	res := r.engine.Execute(ctx, model.Intent{Kind: model.Continue, Actor: operator()})
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, "not waiting") {
		t.Fatalf("continue: %+v", res)
	}
	r.env.Sim.ResetStats()
	res = r.engine.Execute(ctx, model.Intent{Kind: model.Rollback, Reason: "p99 looks off", Actor: operator()})
	if res.Outcome != model.OutcomeOK || !res.Verified || res.From.CanaryPercent() != 10 || res.To.CanaryPercent() != 0 {
		t.Fatalf("rollback: %+v", res)
	}
	if st := r.env.Sim.Stats(); st["codedeploy:StopDeployment"] != 1 || st["elbv2:ModifyRule"] != 0 {
		t.Fatalf("calls: %v", st)
	}
	es := r.entries(t)
	var intent, outcome *model.AuditEntry
	for i := range es {
		if es[i].Action == "rollback" && es[i].Phase == model.PhaseIntent {
			intent = &es[i]
		}
		if es[i].Action == "rollback" && es[i].Phase == model.PhaseOutcome && es[i].Outcome == model.OutcomeOK {
			outcome = &es[i]
		}
	}
	if intent == nil || outcome == nil || intent.Actor.OSUser != "ana" || !strings.Contains(intent.Detail, "StopDeployment") ||
		!outcome.Verified || outcome.IntentSeq != intent.Seq || intent.Reason != "p99 looks off" {
		t.Fatalf("audit: %+v", es)
	}
	// The next poll sees the end; perch did it, so no CodeDeploy entry.
	before := len(r.entries(t))
	r.env.Advance(10 * time.Second)
	snap = r.engine.PollOnce(ctx)
	if len(r.entries(t)) != before || snap.Deployment.Status != "Stopped" {
		t.Fatalf("after: %d → %d entries, %+v", before, len(r.entries(t)), snap.Deployment)
	}
}

func TestCodeDeployFinishedDeploymentIsReadOnly(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "codedeploy-ecs"})
	var past string
	for _, mt := range env.Manifest.Targets {
		if mt.Kind == "codedeploy" && mt.Note != "" && mt.DeploymentID != "" && mt.ComputePlatform == "ECS" {
			past = mt.Name
		}
	}
	r := newCDRig(t, "codedeploy-ecs", past, 0, true)
	ctx := context.Background()
	snap := r.engine.PollOnce(ctx)
	if snap.Deployment == nil || !snap.Deployment.Terminal() || !snap.ReadOnly || len(snap.Signals[model.Stable][model.Requests]) < 30 {
		t.Fatalf("finished deployment: %+v", snap.Deployment)
	}
	r.env.Sim.ResetStats()
	res := r.engine.Execute(ctx, model.Intent{Kind: model.Rollback, Actor: operator()})
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, "has finished") || !strings.Contains(res.Err, "read-only") {
		t.Fatalf("rollback: %+v", res)
	}
	if n := r.env.Sim.Stats()["codedeploy:StopDeployment"]; n != 0 {
		t.Fatalf("stop calls: %d", n)
	}
}

type failingStop struct{ *perchaws.CodeDeployRouter }

func (failingStop) Stop(context.Context, bool) error { return errors.New("injected: stop failed") }

func TestCodeDeployFailedStopLeavesAFailedEntry(t *testing.T) {
	r := newCDRig(t, "codedeploy-lambda", "orders-app/orders-dg", 2*time.Minute, false)
	log, _ := tempAudit(t)
	eng, err := rollout.New(rollout.Config{Router: r.router, Metrics: perchaws.NewCodeDeployMetrics(r.env.AWS, r.router),
		Deployment: r.router, Controller: failingStop{r.router}, Audit: log, Clock: r.env.Clock, History: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	eng.PollOnce(ctx)
	res := eng.Execute(ctx, model.Intent{Kind: model.Rollback, Actor: operator()})
	if res.Outcome != model.OutcomeFailed || !strings.Contains(res.Err, "stop failed") || !strings.Contains(res.Err, "InProgress") ||
		res.To.CanaryPercent() != 10 {
		t.Fatalf("failed stop: %+v", res)
	}
	if _, err := rollout.New(rollout.Config{Router: r.router, Metrics: perchaws.NewCodeDeployMetrics(r.env.AWS, r.router),
		Deployment: r.router, Audit: log, Clock: r.env.Clock, Plan: &model.Plan{Steps: []model.PlanStep{{Percent: 10}}}}); err == nil {
		t.Fatal("a plan on a CodeDeploy target was accepted")
	}
}

func TestCodeDeployFollowingAGroupMovesToTheNextDeployment(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "codedeploy-lambda"})
	env.Advance(2 * time.Minute)
	ctx := context.Background()
	router, err := perchaws.NewCodeDeployRouter(ctx, env.AWS, perchaws.CodeDeployOptions{Application: "orders-app", DeploymentGroup: "orders-dg"})
	if err != nil {
		t.Fatal(err)
	}
	log, _ := tempAudit(t)
	eng, err := rollout.New(rollout.Config{Router: router, Metrics: perchaws.NewCodeDeployMetrics(env.AWS, router),
		Deployment: router, Controller: router, Audit: log, Clock: env.Clock, History: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	first := eng.PollOnce(ctx).Deployment.ID
	env.Advance(5 * time.Minute)
	if d := eng.PollOnce(ctx).Deployment; d.ID != first || d.Status != "Succeeded" {
		t.Fatalf("first deployment at its end: %+v", d)
	}
	appSpec := `{"Resources":[{"orders":{"Properties":{"Name":"orders","Alias":"live","CurrentVersion":"8","TargetVersion":"7"}}}]}`
	if _, err := codedeploy.NewFromConfig(env.AWS).CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{
		ApplicationName: aws.String("orders-app"), DeploymentGroupName: aws.String("orders-dg"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(appSpec)}}}); err != nil {
		t.Fatal(err)
	}
	env.Advance(time.Minute)
	snap := eng.PollOnce(ctx)
	if d := snap.Deployment; d.ID == first || d.Status != "InProgress" || snap.Target.DeploymentID != d.ID ||
		snap.Target.StableName != "version 8" || snap.Target.CanaryName != "version 7" || snap.Split.CanaryPercent() != 10 {
		t.Fatalf("after the next deployment started: %+v %+v %+v", snap.Deployment, snap.Target, snap.Split)
	}
	var follow, complete int
	for _, e := range snap.Audit {
		switch {
		case e.Action == "follow" && strings.Contains(e.Detail, "now watching "+snap.Deployment.ID):
			follow++
		case e.Action == "complete" && e.Actor.Via == "codedeploy" && e.Target == first:
			complete++
		}
	}
	if follow != 1 || complete != 1 {
		t.Fatalf("audit: %+v", snap.Audit)
	}
	// The series start afresh from the new sides: half an hour ago the
	// canary side (now version 7) carried all invocations, where version 8
	// (the old canary side) had none.
	var old float64
	for _, p := range snap.Signals[model.Canary][model.Requests] {
		if p.T.Before(env.Clock.Now().Add(-20 * time.Minute)) {
			old = math.Max(old, p.V)
		}
	}
	if old < 1000 {
		t.Fatalf("canary side's old invocations %v: the series were not reloaded for the new deployment", old)
	}
}
