package codedeploy_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/smithy-go"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// These tests drive the simulated CodeDeploy with the real SDK client over
// loopback, on the manual clock.

func newCodeDeploy(t *testing.T, scenario string) (*simtest.Env, *codedeploy.Client, sim.ManifestTarget) {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: scenario})
	return env, codedeploy.NewFromConfig(env.AWS), codeDeployTarget(t, env)
}

func codeDeployTarget(t *testing.T, env *simtest.Env) sim.ManifestTarget {
	t.Helper()
	for _, tg := range env.Manifest.Targets {
		if tg.Kind == "codedeploy" && tg.Note == "" {
			return tg
		}
	}
	t.Fatalf("no CodeDeploy target in the manifest: %+v", env.Manifest.Targets)
	return sim.ManifestTarget{}
}

func getDeployment(t *testing.T, cd *codedeploy.Client, id string) *cdtypes.DeploymentInfo {
	t.Helper()
	out, err := cd.GetDeployment(context.Background(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	if err != nil {
		t.Fatalf("get deployment %s: %v", id, err)
	}
	return out.DeploymentInfo
}

// target reads the deployment's one target the way perch does: list the
// IDs, then batch-get them.
func target(t *testing.T, cd *codedeploy.Client, id string) cdtypes.DeploymentTarget {
	t.Helper()
	ctx := context.Background()
	ids, err := cd.ListDeploymentTargets(ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(id)})
	if err != nil || len(ids.TargetIds) != 1 {
		t.Fatalf("list targets of %s: %v %v", id, ids, err)
	}
	got, err := cd.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{DeploymentId: aws.String(id), TargetIds: ids.TargetIds})
	if err != nil || len(got.DeploymentTargets) != 1 {
		t.Fatalf("batch get targets of %s: %v %v", id, got, err)
	}
	return got.DeploymentTargets[0]
}

func hookStatus(events []cdtypes.LifecycleEvent) map[string]cdtypes.LifecycleEventStatus {
	out := map[string]cdtypes.LifecycleEventStatus{}
	for _, e := range events {
		out[aws.ToString(e.LifecycleEventName)] = e.Status
	}
	return out
}

func TestCodeDeployLambdaCanary10Percent5MinutesRunsToCompletion(t *testing.T) {
	wall := time.Now()
	env, cd, tg := newCodeDeploy(t, "codedeploy-lambda")
	ctx := context.Background()
	if tg.ComputePlatform != "Lambda" || tg.DeploymentID == "" || tg.Application != "orders-app" || tg.DeploymentGroup != "orders-dg" {
		t.Fatalf("manifest entry %+v", tg)
	}
	// The deployment is scripted one minute in: it does not exist yet.
	_, err := cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(tg.DeploymentID)})
	var missing *cdtypes.DeploymentDoesNotExistException
	if !errors.As(err, &missing) {
		t.Fatalf("before its time: %v", err)
	}

	env.Advance(time.Minute)
	d := getDeployment(t, cd, tg.DeploymentID)
	if d.Status != cdtypes.DeploymentStatusInProgress || aws.ToString(d.DeploymentConfigName) != "CodeDeployDefault.LambdaCanary10Percent5Minutes" ||
		d.ComputePlatform != cdtypes.ComputePlatformLambda || d.Creator != cdtypes.DeploymentCreatorUser || d.DeploymentOverview.InProgress != 1 {
		t.Fatalf("started: %+v", d)
	}
	lt := target(t, cd, tg.DeploymentID)
	info := lt.LambdaTarget.LambdaFunctionInfo
	if lt.DeploymentTargetType != cdtypes.DeploymentTargetTypeLambdaTarget || aws.ToString(info.CurrentVersion) != "7" ||
		aws.ToString(info.TargetVersion) != "8" || info.TargetVersionWeight != 0.1 {
		t.Fatalf("target at the start: %+v %+v", lt.LambdaTarget, info)
	}
	if h := hookStatus(lt.LambdaTarget.LifecycleEvents); h["BeforeAllowTraffic"] != "Succeeded" || h["AllowTraffic"] != "InProgress" || h["AfterAllowTraffic"] != "Pending" {
		t.Fatalf("hooks at the start: %v", h)
	}
	if a, _ := env.Sim.Alias("orders", "live"); a.FunctionVersion != "7" || a.Weights["8"] != 0.1 {
		t.Fatalf("alias at the start: %+v", a)
	}
	cfg, err := cd.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: d.DeploymentConfigName})
	if err != nil || cfg.DeploymentConfigInfo.TrafficRoutingConfig.Type != cdtypes.TrafficRoutingTypeTimeBasedCanary ||
		cfg.DeploymentConfigInfo.TrafficRoutingConfig.TimeBasedCanary.CanaryInterval != 5 ||
		cfg.DeploymentConfigInfo.TrafficRoutingConfig.TimeBasedCanary.CanaryPercentage != 10 {
		t.Fatalf("config: %+v %v", cfg, err)
	}

	// One second short of the interval: still 10%.
	env.Advance(5*time.Minute - time.Second)
	if d := getDeployment(t, cd, tg.DeploymentID); d.Status != cdtypes.DeploymentStatusInProgress {
		t.Fatalf("before the interval: %s", d.Status)
	}
	env.Advance(time.Second)
	d = getDeployment(t, cd, tg.DeploymentID)
	if d.Status != cdtypes.DeploymentStatusSucceeded || d.CompleteTime == nil || !d.CompleteTime.Equal(simtest.Epoch.Add(6*time.Minute)) ||
		d.DeploymentOverview.Succeeded != 1 || d.ErrorInformation != nil || d.RollbackInfo != nil {
		t.Fatalf("after the interval: %+v", d)
	}
	lt = target(t, cd, tg.DeploymentID)
	if lt.LambdaTarget.LambdaFunctionInfo.TargetVersionWeight != 1 || lt.LambdaTarget.Status != cdtypes.TargetStatusSucceeded {
		t.Fatalf("target at the end: %+v", lt.LambdaTarget)
	}
	if a, _ := env.Sim.Alias("orders", "live"); a.FunctionVersion != "8" || len(a.Weights) != 0 {
		t.Fatalf("alias at the end: %+v", a)
	}
	t.Logf("wall time for a 6-minute deployment: %v", time.Since(wall))
}

func TestCodeDeployECSAlarmStopsAndRollsBackByItself(t *testing.T) {
	env, cd, tg := newCodeDeploy(t, "codedeploy-ecs-bad")
	weight := func() int {
		w, err := env.Sim.Weights(tg.RuleARN)
		if err != nil {
			t.Fatal(err)
		}
		return w[tg.CanaryTargetGroupARN]
	}
	// ECSLinear10PercentEvery1Minutes from 2m (1m install after 1m): the
	// green side's errors jump at 3m; the alarm (2 periods) fires at 6m.
	want := map[int]int{1: 0, 2: 10, 3: 20, 4: 30, 5: 40}
	for m := 1; m <= 5; m++ {
		env.Advance(time.Minute)
		d := getDeployment(t, cd, tg.DeploymentID)
		et := target(t, cd, tg.DeploymentID).EcsTarget
		var green float64
		for _, ts := range et.TaskSetsInfo {
			if ts.TaskSetLabel == cdtypes.TargetLabelGreen {
				green = ts.TrafficWeight
				if aws.ToString(ts.Identifer) == "" || ts.TargetGroup == nil || aws.ToString(ts.TargetGroup.Name) != "web-canary" {
					t.Fatalf("green task set: %+v", ts)
				}
			}
		}
		if d.Status != cdtypes.DeploymentStatusInProgress || weight() != want[m] || int(green) != want[m] {
			t.Fatalf("at %dm: status %s, rule weight %d, task set weight %v; want %d", m, d.Status, weight(), green, want[m])
		}
	}
	env.Advance(time.Minute)
	d := getDeployment(t, cd, tg.DeploymentID)
	if d.Status != cdtypes.DeploymentStatusStopped || d.ErrorInformation == nil || d.ErrorInformation.Code != cdtypes.ErrorCodeAlarmActive ||
		!strings.Contains(aws.ToString(d.ErrorInformation.Message), "web-green-5xx") {
		t.Fatalf("after the alarm: %+v %+v", d, d.ErrorInformation)
	}
	if d.RollbackInfo == nil || aws.ToString(d.RollbackInfo.RollbackDeploymentId) == "" || aws.ToString(d.RollbackInfo.RollbackMessage) == "" {
		t.Fatalf("rollback info: %+v", d.RollbackInfo)
	}
	if weight() != 0 {
		t.Fatalf("traffic not back on blue: canary weight %d", weight())
	}
	h := hookStatus(target(t, cd, tg.DeploymentID).EcsTarget.LifecycleEvents)
	if h["Install"] != "Succeeded" || h["AllowTraffic"] != "Failed" || h["AfterAllowTraffic"] != "Skipped" {
		t.Fatalf("hooks after the stop: %v", h)
	}
	rb := getDeployment(t, cd, aws.ToString(d.RollbackInfo.RollbackDeploymentId))
	if rb.Creator != cdtypes.DeploymentCreatorCodeDeployRollback || rb.Status != cdtypes.DeploymentStatusInProgress ||
		aws.ToString(rb.RollbackInfo.RollbackTriggeringDeploymentId) != tg.DeploymentID {
		t.Fatalf("rollback deployment: %+v %+v", rb, rb.RollbackInfo)
	}
	env.Advance(30 * time.Second)
	if rb := getDeployment(t, cd, aws.ToString(rb.DeploymentId)); rb.Status != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("rollback deployment later: %s", rb.Status)
	}
	// The group lists both, newest first; a status filter narrows it.
	list, err := cd.ListDeployments(context.Background(), &codedeploy.ListDeploymentsInput{
		ApplicationName: aws.String("web-app"), DeploymentGroupName: aws.String("web-bg"),
		IncludeOnlyStatuses: []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusStopped}})
	if err != nil || len(list.Deployments) != 1 || list.Deployments[0] != tg.DeploymentID {
		t.Fatalf("list stopped: %v %v", list, err)
	}
}

func TestCodeDeployStopWithRollbackAndTypedErrors(t *testing.T) {
	env, cd, tg := newCodeDeploy(t, "codedeploy-ecs")
	ctx := context.Background()
	env.Advance(3 * time.Minute) // green at 10%
	env.Sim.Sync()
	if w, _ := env.Sim.Weights(tg.RuleARN); w[tg.CanaryTargetGroupARN] != 10 {
		t.Fatalf("weights before the stop: %v", w)
	}
	// Not waiting in Ready: ContinueDeployment is refused.
	_, err := cd.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(tg.DeploymentID)})
	var notReady *cdtypes.DeploymentIsNotInReadyStateException
	if !errors.As(err, &notReady) {
		t.Fatalf("continue while shifting: %v", err)
	}
	out, err := cd.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(tg.DeploymentID), AutoRollbackEnabled: aws.Bool(true)})
	if err != nil || out.Status != cdtypes.StopStatusSucceeded {
		t.Fatalf("stop: %+v %v", out, err)
	}
	d := getDeployment(t, cd, tg.DeploymentID)
	if d.Status != cdtypes.DeploymentStatusStopped || d.ErrorInformation.Code != cdtypes.ErrorCodeManualStop ||
		d.RollbackInfo == nil || aws.ToString(d.RollbackInfo.RollbackDeploymentId) == "" {
		t.Fatalf("after the stop: %+v", d)
	}
	if w, _ := env.Sim.Weights(tg.RuleARN); w[tg.CanaryTargetGroupARN] != 0 {
		t.Fatalf("weights after the stop: %v", w)
	}
	_, err = cd.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(tg.DeploymentID), AutoRollbackEnabled: aws.Bool(true)})
	var done *cdtypes.DeploymentAlreadyCompletedException
	if !errors.As(err, &done) {
		t.Fatalf("second stop: %v", err)
	}

	for _, c := range []struct {
		id   string
		want any
	}{
		{"d-NOSUCH123", new(*cdtypes.DeploymentDoesNotExistException)},
		{"not-an-id", new(*cdtypes.InvalidDeploymentIdException)},
		{"", new(*cdtypes.DeploymentIdRequiredException)},
	} {
		_, err := cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(c.id)})
		if err == nil || !errors.As(err, c.want) {
			t.Errorf("get %q: %v, want %T", c.id, err, c.want)
		}
	}
	_, err = cd.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: aws.String("Nope")})
	var noCfg *cdtypes.DeploymentConfigDoesNotExistException
	if !errors.As(err, &noCfg) {
		t.Errorf("unknown config: %v", err)
	}
	_, err = cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String("web-app"), DeploymentGroupName: aws.String("nope")})
	var noGroup *cdtypes.DeploymentGroupDoesNotExistException
	if !errors.As(err, &noGroup) {
		t.Errorf("unknown group: %v", err)
	}
	_, err = cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{IncludeOnlyStatuses: []cdtypes.DeploymentStatus{"Sideways"}})
	var badStatus *cdtypes.InvalidDeploymentStatusException
	if !errors.As(err, &badStatus) {
		t.Errorf("bad status filter: %v", err)
	}

	// The group describes its blue/green pair, listener, alarms and rollback.
	g, err := cd.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String("web-app"), DeploymentGroupName: aws.String("web-bg")})
	if err != nil {
		t.Fatal(err)
	}
	gi := g.DeploymentGroupInfo
	pair := gi.LoadBalancerInfo.TargetGroupPairInfoList[0]
	if gi.ComputePlatform != cdtypes.ComputePlatformEcs || aws.ToString(pair.TargetGroups[0].Name) != "web-stable" ||
		aws.ToString(pair.TargetGroups[1].Name) != "web-canary" || pair.ProdTrafficRoute.ListenerArns[0] != tg.ListenerARN ||
		len(gi.AlarmConfiguration.Alarms) != 1 || aws.ToString(gi.AlarmConfiguration.Alarms[0].Name) != "web-green-5xx" ||
		!gi.AutoRollbackConfiguration.Enabled || aws.ToString(gi.LastAttemptedDeployment.DeploymentId) == "" ||
		gi.BlueGreenDeploymentConfiguration.TerminateBlueInstancesOnDeploymentSuccess.TerminationWaitTimeInMinutes != 5 {
		t.Fatalf("group: %+v", gi)
	}

	// A throttle comes back as a generic API error (not typed for
	// GetDeployment) and the SDK retries it.
	if err := env.Sim.InjectFault(sim.Fault{Service: "codedeploy", Operation: "GetDeployment", Code: "ThrottlingException"}); err != nil {
		t.Fatal(err)
	}
	env.Sim.ResetStats()
	getDeployment(t, cd, tg.DeploymentID)
	if n := env.Sim.Stats()["codedeploy:GetDeployment"]; n != 2 {
		t.Fatalf("throttled GetDeployment was called %d times, want 2 (retried)", n)
	}
	if err := env.Sim.InjectFault(sim.Fault{Service: "codedeploy", Operation: "GetDeployment", Code: "ThrottlingException", Times: 5}); err != nil {
		t.Fatal(err)
	}
	_, err = cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(tg.DeploymentID)},
		func(o *codedeploy.Options) { o.RetryMaxAttempts = 1 })
	var api smithy.APIError
	var typed *cdtypes.ThrottlingException
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" || errors.As(err, &typed) {
		t.Fatalf("throttle: %v", err)
	}
	env.Sim.ClearFaults()
}

func TestCodeDeployErrorShapeOnTheWire(t *testing.T) {
	env, _, _ := newCodeDeploy(t, "codedeploy-ecs")
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/", strings.NewReader(`{"deploymentId":"d-NOSUCH123"}`))
	req.Header.Set("X-Amz-Target", "CodeDeploy_20141006.GetDeployment")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "DeploymentDoesNotExistException" ||
		resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" || !strings.Contains(string(body), `"__type":"DeploymentDoesNotExistException"`) {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	if env.Sim.Stats()["codedeploy:GetDeployment"] != 1 {
		t.Fatalf("stats: %v", env.Sim.Stats())
	}
}

const readyWaitScenario = `
name: cd-waits
history: 30m
albs:
  - name: api
    requests_per_minute: 600
    canary_weight: 0
codedeploy:
  deployment_configs:
    - {name: Custom.ECSCanary20Percent2Minutes, compute_platform: ECS, type: TimeBasedCanary, percentage: 20, interval: 2}
  deployment_groups:
    - application: api-app
      name: api-bg
      compute_platform: ECS
      alb: api
      deployment_config: Custom.ECSCanary20Percent2Minutes
      ready_wait: 10m
      termination_wait: 30m
      deployments:
        - at: 0s
`

func TestCodeDeployReadyWaitTerminationWaitAndCreate(t *testing.T) {
	sc, err := sim.ParseScenario([]byte(readyWaitScenario), "cd-waits")
	if err != nil {
		t.Fatal(err)
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	cd := codedeploy.NewFromConfig(env.AWS)
	ctx := context.Background()
	tg := codeDeployTarget(t, env)
	env.Advance(time.Minute) // install done: Ready, waiting for ContinueDeployment
	d := getDeployment(t, cd, tg.DeploymentID)
	if d.Status != cdtypes.DeploymentStatusReady || d.DeploymentOverview.Ready != 1 ||
		d.BlueGreenDeploymentConfiguration.DeploymentReadyOption.ActionOnTimeout != cdtypes.DeploymentReadyActionStopDeployment {
		t.Fatalf("ready: %+v", d)
	}
	// A second deployment while one is active is refused.
	_, err = cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("api-app"), DeploymentGroupName: aws.String("api-bg")})
	var limit *cdtypes.DeploymentLimitExceededException
	if !errors.As(err, &limit) {
		t.Fatalf("create while active: %v", err)
	}
	if _, err := cd.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(tg.DeploymentID),
		DeploymentWaitType: cdtypes.DeploymentWaitTypeReadyWait}); err != nil {
		t.Fatal(err)
	}
	if w, _ := env.Sim.Weights(tg.RuleARN); w[tg.CanaryTargetGroupARN] != 20 {
		t.Fatalf("after continue: %v", w)
	}
	env.Advance(2 * time.Minute)
	d = getDeployment(t, cd, tg.DeploymentID)
	if d.Status != cdtypes.DeploymentStatusInProgress || !d.InstanceTerminationWaitTimeStarted {
		t.Fatalf("termination wait: %+v", d)
	}
	if _, err := cd.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(tg.DeploymentID),
		DeploymentWaitType: cdtypes.DeploymentWaitTypeTerminationWait}); err != nil {
		t.Fatal(err)
	}
	d = getDeployment(t, cd, tg.DeploymentID)
	et := target(t, cd, tg.DeploymentID).EcsTarget
	if d.Status != cdtypes.DeploymentStatusSucceeded || len(et.TaskSetsInfo) != 1 || et.TaskSetsInfo[0].TaskSetLabel != cdtypes.TargetLabelGreen {
		t.Fatalf("after terminating blue: %+v %+v", d, et.TaskSetsInfo)
	}
	// The next deployment goes the other way: green is now production.
	out, err := cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("api-app"), DeploymentGroupName: aws.String("api-bg"),
		DeploymentConfigName: aws.String("CodeDeployDefault.ECSAllAtOnce"), Description: aws.String("next")})
	if err != nil {
		t.Fatal(err)
	}
	env.Advance(time.Minute)
	if _, err := cd.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: out.DeploymentId}); err != nil {
		t.Fatal(err)
	}
	if w, _ := env.Sim.Weights(tg.RuleARN); w[tg.StableTargetGroupARN] != 100 || w[tg.CanaryTargetGroupARN] != 0 {
		t.Fatalf("second deployment, all at once back onto the first target group: %v", w)
	}
	// A Lambda config does not fit an ECS group.
	_, err = cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("api-app"), DeploymentGroupName: aws.String("api-bg"),
		DeploymentConfigName: aws.String("CodeDeployDefault.LambdaAllAtOnce")})
	var badCfg *cdtypes.InvalidDeploymentConfigNameException
	if !errors.As(err, &badCfg) {
		t.Fatalf("lambda config on an ECS group: %v", err)
	}
}

func TestCodeDeployLambdaContinueIsUnsupportedAndCreateTakesTheAppSpec(t *testing.T) {
	env, cd, tg := newCodeDeploy(t, "codedeploy-lambda")
	ctx := context.Background()
	env.Advance(2 * time.Minute)
	_, err := cd.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: aws.String(tg.DeploymentID)})
	var unsupported *cdtypes.UnsupportedActionForDeploymentTypeException
	if !errors.As(err, &unsupported) {
		t.Fatalf("continue on Lambda: %v", err)
	}
	env.Advance(10 * time.Minute) // done: the alias is on version 8
	appSpec := `{"version":0.0,"Resources":[{"orders":{"Type":"AWS::Lambda::Function","Properties":{"Name":"orders","Alias":"live","CurrentVersion":"8","TargetVersion":"7"}}}]}`
	out, err := cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{
		ApplicationName: aws.String("orders-app"), DeploymentGroupName: aws.String("orders-dg"),
		DeploymentConfigName: aws.String("Custom.LambdaCanary25Percent2Minutes"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(appSpec)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	info := target(t, cd, aws.ToString(out.DeploymentId)).LambdaTarget.LambdaFunctionInfo
	if aws.ToString(info.CurrentVersion) != "8" || aws.ToString(info.TargetVersion) != "7" || info.TargetVersionWeight != 0.25 {
		t.Fatalf("created: %+v", info)
	}
	if a, _ := env.Sim.Alias("orders", "live"); a.FunctionVersion != "8" || a.Weights["7"] != 0.25 {
		t.Fatalf("alias: %+v", a)
	}
}

func TestCodeDeployScenarioValidation(t *testing.T) {
	base := "name: x\nalbs:\n  - name: web\n    requests_per_minute: 100\nlambdas:\n  - name: fn\n    invocations_per_minute: 10\n    canary_weight: 5\n"
	for _, c := range []struct{ yaml, want string }{
		{"codedeploy:\n  deployment_groups:\n    - {application: a, name: g, compute_platform: ECS, alb: nope}\n", `"nope" is not an ALB`},
		{"codedeploy:\n  deployment_groups:\n    - {application: a, name: g, compute_platform: EC2}\n", `not ECS, Lambda or Server`},
		{"codedeploy:\n  deployment_groups:\n    - {application: a, name: g, compute_platform: Lambda, lambda: fn}\n", `canary_weight: 0`},
		{"codedeploy:\n  deployment_groups:\n    - {application: a, name: g, compute_platform: ECS, alb: web, deployment_config: CodeDeployDefault.LambdaAllAtOnce}\n", `is a Lambda configuration`},
		{"codedeploy:\n  deployment_configs:\n    - {name: C, compute_platform: ECS, type: TimeBasedCanary, percentage: 0, interval: 1}\n", `percentage: 0 is out of range`},
		{"codedeploy:\n  deployment_groups:\n    - {application: a, name: g, compute_platform: ECS, alb: web, alarms: [{side: canary, metric: Errors}]}\n", `not an ALB target-group metric`},
		{"codedeploy:\n  deployment_groups:\n    - {application: a, name: g, compute_platform: ECS, alb: web, deployments: [{at: -2h}]}\n", `before the backfilled history`},
		{"codedeploy:\n  deployment_groups:\n    - {application: a, name: g, compute_platform: ECS, alb: web, ready_wait: 90s}\n", `whole minutes`},
	} {
		_, err := sim.ParseScenario([]byte(base+c.yaml), "x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.yaml, err, c.want)
		}
	}
}
