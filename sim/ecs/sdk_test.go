package ecs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// These tests drive the simulated ECS with the real SDK client over
// loopback, on the manual clock.

func newECS(t *testing.T, scenario string) (*simtest.Env, *ecs.Client, sim.ManifestTarget) {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: scenario})
	return env, ecs.NewFromConfig(env.AWS), env.Target(t, "default/web")
}

func describe(t *testing.T, c *ecs.Client, arn string) ecstypes.ServiceDeployment {
	t.Helper()
	out, err := c.DescribeServiceDeployments(context.Background(), &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	if err != nil || len(out.ServiceDeployments) != 1 {
		t.Fatalf("describe %s: %v %+v", arn, err, out)
	}
	return out.ServiceDeployments[0]
}

func weightsOf(t *testing.T, env *simtest.Env, m sim.ManifestTarget) (stable, canary int) {
	t.Helper()
	env.Sim.Sync()
	w, err := env.Sim.Weights(m.RuleARN)
	if err != nil {
		t.Fatal(err)
	}
	return w[m.StableTargetGroupARN], w[m.CanaryTargetGroupARN]
}

func TestCanaryStepsOnItsPercentAndBake(t *testing.T) {
	env, c, m := newECS(t, "ecs-canary")
	ctx := context.Background()
	env.Advance(2*time.Minute + 10*time.Second)
	d := describe(t, c, m.DeploymentARN)
	if d.Status != ecstypes.ServiceDeploymentStatusInProgress || d.LifecycleStage != "PRODUCTION_TRAFFIC_SHIFT" {
		t.Fatalf("at 2m10s: %s %s", d.Status, d.LifecycleStage)
	}
	if s, cn := weightsOf(t, env, m); s != 90 || cn != 10 {
		t.Fatalf("at 2m10s the rule is %d/%d, want 90/10", s, cn)
	}
	if w := aws.ToFloat64(d.TargetServiceRevision.RequestedProductionTrafficWeight); w != 10 {
		t.Fatalf("target revision weight %v", w)
	}
	// The new revision serves the alternate target group.
	revs, err := c.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{aws.ToString(d.TargetServiceRevision.Arn)}})
	if err != nil || len(revs.ServiceRevisions) != 1 || aws.ToString(revs.ServiceRevisions[0].LoadBalancers[0].TargetGroupArn) != m.CanaryTargetGroupARN {
		t.Fatalf("target revision: %v %+v", err, revs)
	}
	env.Advance(5 * time.Minute) // 7m10s: 100%, baking
	d = describe(t, c, m.DeploymentARN)
	if s, cn := weightsOf(t, env, m); s != 0 || cn != 100 || d.LifecycleStage != "BAKE_TIME" {
		t.Fatalf("at 7m10s: rule %d/%d, stage %s", s, cn, d.LifecycleStage)
	}
	env.Advance(6 * time.Minute)
	if d = describe(t, c, m.DeploymentARN); d.Status != ecstypes.ServiceDeploymentStatusSuccessful || d.FinishedAt == nil {
		t.Fatalf("at 13m10s: %s", d.Status)
	}
}

func TestStopWithRollbackPutsTrafficBack(t *testing.T) {
	env, c, m := newECS(t, "ecs-canary")
	ctx := context.Background()
	env.Advance(3 * time.Minute)
	if _, err := c.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(m.DeploymentARN), StopType: ecstypes.StopServiceDeploymentStopTypeRollback}); err != nil {
		t.Fatal(err)
	}
	if s, cn := weightsOf(t, env, m); s != 100 || cn != 0 {
		t.Fatalf("after the stop the rule is %d/%d", s, cn)
	}
	env.Advance(time.Minute)
	d := describe(t, c, m.DeploymentARN)
	if d.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful || d.Rollback == nil {
		t.Fatalf("after a minute: %s %+v", d.Status, d.Rollback)
	}
	_, err := c.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(m.DeploymentARN)})
	var conflict *ecstypes.ConflictException
	if !errors.As(err, &conflict) {
		t.Fatalf("stopping a finished deployment: %v", err)
	}
}

func TestPauseHookWaitsAndContinues(t *testing.T) {
	env, c, m := newECS(t, "ecs-bluegreen-paused")
	ctx := context.Background()
	env.Advance(10 * time.Minute)
	d := describe(t, c, m.DeploymentARN)
	if len(d.LifecycleHookDetails) != 1 || d.LifecycleHookDetails[0].Status != ecstypes.DeploymentLifecycleHookStatusAwaitingAction {
		t.Fatalf("no hook awaiting action: %+v", d)
	}
	h := d.LifecycleHookDetails[0]
	if d.LifecycleStage != "POST_TEST_TRAFFIC_SHIFT" || h.TimeoutAction != "ROLLBACK" || h.ExpiresAt == nil {
		t.Fatalf("hook: stage %s %+v", d.LifecycleStage, h)
	}
	_, err := c.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: aws.String(m.DeploymentARN), HookId: aws.String("nope")})
	var bad *ecstypes.InvalidParameterException
	if !errors.As(err, &bad) {
		t.Fatalf("a wrong hook ID: %v", err)
	}
	if _, err := c.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: aws.String(m.DeploymentARN), HookId: h.HookId, Action: ecstypes.DeploymentLifecycleHookActionContinue}); err != nil {
		t.Fatal(err)
	}
	if s, cn := weightsOf(t, env, m); s != 0 || cn != 100 {
		t.Fatalf("blue/green after continue: %d/%d", s, cn)
	}
	if d = describe(t, c, m.DeploymentARN); d.LifecycleStage != "BAKE_TIME" || len(d.LifecycleHookDetails) != 0 {
		t.Fatalf("after continue: %s %+v", d.LifecycleStage, d.LifecycleHookDetails)
	}
}

func TestPauseHookTimesOutIntoRollback(t *testing.T) {
	env, c, m := newECS(t, "ecs-bluegreen-paused")
	env.Advance(40 * time.Minute)
	if d := describe(t, c, m.DeploymentARN); d.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful {
		t.Fatalf("after the hook's timeout: %s", d.Status)
	}
}

func TestAlarmRollsBack(t *testing.T) {
	env, c, m := newECS(t, "ecs-canary-bad")
	env.Advance(10 * time.Minute)
	d := describe(t, c, m.DeploymentARN)
	if d.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful && d.Status != ecstypes.ServiceDeploymentStatusRollbackInProgress {
		t.Fatalf("the alarm did not roll it back: %s", d.Status)
	}
	if d.Alarms == nil || d.Alarms.Status != ecstypes.ServiceDeploymentRollbackMonitorsStatusTriggered || len(d.Alarms.TriggeredAlarmNames) != 1 {
		t.Fatalf("alarms: %+v", d.Alarms)
	}
	if s, cn := weightsOf(t, env, m); s != 100 || cn != 0 {
		t.Fatalf("after the rollback: %d/%d", s, cn)
	}
}

func TestLookupErrors(t *testing.T) {
	_, c, _ := newECS(t, "ecs-canary")
	ctx := context.Background()
	_, err := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("nope"), Service: aws.String("web")})
	var noCluster *ecstypes.ClusterNotFoundException
	if !errors.As(err, &noCluster) {
		t.Fatalf("unknown cluster: %v", err)
	}
	_, err = c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("nope")})
	var noService *ecstypes.ServiceNotFoundException
	if !errors.As(err, &noService) {
		t.Fatalf("unknown service: %v", err)
	}
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web", "nope"}})
	if err != nil || len(out.Services) != 1 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Fatalf("describe services: %v %+v", err, out)
	}
	cfg := out.Services[0].DeploymentConfiguration
	if cfg.Strategy != ecstypes.DeploymentStrategyCanary || aws.ToFloat64(cfg.CanaryConfiguration.CanaryPercent) != 10 ||
		aws.ToInt32(cfg.CanaryConfiguration.CanaryBakeTimeInMinutes) != 5 || aws.ToInt32(cfg.BakeTimeInMinutes) != 5 {
		t.Fatalf("deployment configuration: %+v", cfg)
	}
	if adv := out.Services[0].LoadBalancers[0].AdvancedConfiguration; adv == nil || aws.ToString(adv.ProductionListenerRule) == "" {
		t.Fatalf("advanced configuration: %+v", out.Services[0].LoadBalancers)
	}
	_, err = c.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String("arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/nope")})
	var noDep *ecstypes.ServiceDeploymentNotFoundException
	if !errors.As(err, &noDep) {
		t.Fatalf("unknown deployment: %v", err)
	}
}

func TestCreateAndUpdateServiceStartADeployment(t *testing.T) {
	env, c, m := newECS(t, "ecs-linear")
	ctx := context.Background()
	env.Advance(30 * time.Minute)
	if d := describe(t, c, m.DeploymentARN); d.Status != ecstypes.ServiceDeploymentStatusSuccessful {
		t.Fatalf("the scripted deployment is %s", d.Status)
	}
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("bad"), TaskDefinition: aws.String("bad:1"),
		LoadBalancers:           []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(m.StableTargetGroupARN)}},
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{Strategy: ecstypes.DeploymentStrategyCanary}})
	var bad *ecstypes.InvalidParameterException
	if !errors.As(err, &bad) {
		t.Fatalf("CANARY without advancedConfiguration: %v", err)
	}
	up, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), TaskDefinition: aws.String("web:9"),
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{Strategy: ecstypes.DeploymentStrategyBlueGreen}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(up.Service.CurrentServiceDeployment)
	env.Advance(90 * time.Second)
	// The last deployment left production on the alternate target group:
	// this one goes back to the first.
	if s, cn := weightsOf(t, env, m); s != 100 || cn != 0 {
		t.Fatalf("blue/green back onto the first target group: %d/%d", s, cn)
	}
	list, err := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("web"),
		Status: []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusInProgress}})
	if err != nil || len(list.ServiceDeployments) != 1 || aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn) != arn {
		t.Fatalf("in progress: %v %+v", err, list)
	}
}
