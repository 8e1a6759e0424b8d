package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/perch-dev/perch/model"
)

// lastPart is what follows the last "/" (an ECS ARN's name), or s.
func lastPart(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// describeDeployment reads one service deployment, naming it in
// not-found errors.
func (r *ECSRouter) describeDeployment(ctx context.Context, arn string) (ecstypes.ServiceDeployment, error) {
	out, err := r.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	if err != nil {
		var bad *ecstypes.InvalidParameterException
		if errors.As(err, &bad) {
			return ecstypes.ServiceDeployment{}, fmt.Errorf("%q is not an ECS service deployment ARN: %w", arn, err)
		}
		return ecstypes.ServiceDeployment{}, fmt.Errorf("describe service deployment %s: %w", arn, err)
	}
	if len(out.ServiceDeployments) != 1 {
		return ecstypes.ServiceDeployment{}, &NotFoundError{Kind: "ECS service deployment", ID: arn}
	}
	return out.ServiceDeployments[0], nil
}

// resolve works out what a deployment shifts: the production listener
// rule, and which of the service's two target groups each side is. The
// canary is the target group the deployment's target revision serves.
func (r *ECSRouter) resolve(ctx context.Context, arn string) (*ecsView, error) {
	d, err := r.describeDeployment(ctx, arn)
	if err != nil {
		return nil, err
	}
	cluster, service := lastPart(awssdk.ToString(d.ClusterArn)), lastPart(awssdk.ToString(d.ServiceArn))
	svc, err := r.service(ctx, cluster, service)
	if err != nil {
		return nil, err
	}
	lb, _ := advancedLB(svc.LoadBalancers)
	prodTG, altTG := awssdk.ToString(lb.TargetGroupArn), awssdk.ToString(lb.AdvancedConfiguration.AlternateTargetGroupArn)
	if d.TargetServiceRevision == nil {
		return nil, fmt.Errorf("service deployment %s names no target service revision", arn)
	}
	canary, err := r.revisionTG(ctx, awssdk.ToString(d.TargetServiceRevision.Arn))
	if err != nil {
		return nil, err
	}
	stable := prodTG
	switch canary {
	case prodTG:
		stable = altTG
	case altTG:
	default:
		return nil, fmt.Errorf("service deployment %s: its target revision serves target group %s, which is neither of the service's (%s, %s)", arn, canary, prodTG, altTG)
	}
	v := &ecsView{arn: arn, strategy: strategyOf(d.DeploymentConfiguration)}
	if d.Alarms != nil {
		v.alarms = d.Alarms.AlarmNames
	}
	rule := awssdk.ToString(lb.AdvancedConfiguration.ProductionListenerRule)
	t := model.Target{Kind: model.KindECS, Name: cluster + "/" + service, Region: r.region, DeploymentID: arn,
		Cluster: cluster, Service: service, ComputePlatform: "ECS", RuleARN: rule,
		StableARN: stable, CanaryARN: canary, CanarySource: model.CanaryFromRevision}
	if err := r.describeGroups(ctx, &t); err != nil {
		return nil, err
	}
	if p, err := parseELBARN(rule, "listener-rule"); err == nil {
		t.ListenerARN = p.listenerARN
	}
	v.target = t
	v.rule = &ALBRouter{api: r.elb, target: t, where: rule}
	return v, nil
}

// revisionTG is the target group a service revision's tasks serve. A
// revision is immutable, so each is read once.
func (r *ECSRouter) revisionTG(ctx context.Context, revARN string) (string, error) {
	r.mu.Lock()
	tg, ok := r.revisions[revARN]
	r.mu.Unlock()
	if ok {
		return tg, nil
	}
	tg, err := r.describeRevisionTG(ctx, revARN)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	r.revisions[revARN] = tg
	r.mu.Unlock()
	return tg, nil
}

func (r *ECSRouter) describeRevisionTG(ctx context.Context, revARN string) (string, error) {
	out, err := r.ecs.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{revARN}})
	if err != nil {
		return "", fmt.Errorf("describe service revision %s: %w", revARN, err)
	}
	if len(out.ServiceRevisions) != 1 {
		return "", &NotFoundError{Kind: "ECS service revision", ID: revARN}
	}
	for _, lb := range out.ServiceRevisions[0].LoadBalancers {
		if tg := awssdk.ToString(lb.TargetGroupArn); tg != "" {
			return tg, nil
		}
	}
	return "", fmt.Errorf("service revision %s serves no target group", revARN)
}

// describeGroups names the two target groups and finds the load balancer.
func (r *ECSRouter) describeGroups(ctx context.Context, t *model.Target) error {
	out, err := r.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{t.StableARN, t.CanaryARN}})
	if err != nil {
		return fmt.Errorf("describe target groups %s and %s: %w", t.StableARN, t.CanaryARN, wrapNotFound(err, "target group", t.StableARN+", "+t.CanaryARN))
	}
	for _, tg := range out.TargetGroups {
		name, arn := awssdk.ToString(tg.TargetGroupName), awssdk.ToString(tg.TargetGroupArn)
		switch arn {
		case t.StableARN:
			t.StableName = name
		case t.CanaryARN:
			t.CanaryName = name
		}
		if len(tg.LoadBalancerArns) > 0 && t.LoadBalancerARN == "" {
			t.LoadBalancerARN = tg.LoadBalancerArns[0]
		}
	}
	if t.StableName == "" || t.CanaryName == "" || t.LoadBalancerARN == "" {
		return fmt.Errorf("target groups %s and %s are not both found behind a load balancer", t.StableARN, t.CanaryARN)
	}
	return nil
}

func strategyOf(c *ecstypes.DeploymentConfiguration) model.ECSStrategy {
	if c == nil {
		return model.ECSStrategy{}
	}
	s := model.ECSStrategy{Name: string(c.Strategy), Bake: minutes(c.BakeTimeInMinutes)}
	switch {
	case c.Strategy == ecstypes.DeploymentStrategyCanary && c.CanaryConfiguration != nil:
		s.Percent, s.Step = awssdk.ToFloat64(c.CanaryConfiguration.CanaryPercent), minutes(c.CanaryConfiguration.CanaryBakeTimeInMinutes)
	case c.Strategy == ecstypes.DeploymentStrategyLinear && c.LinearConfiguration != nil:
		s.Percent, s.Step = awssdk.ToFloat64(c.LinearConfiguration.StepPercent), minutes(c.LinearConfiguration.StepBakeTimeInMinutes)
	}
	return s
}

func minutes(p *int32) time.Duration { return time.Duration(awssdk.ToInt32(p)) * time.Minute }

// Deployment reads the watched deployment. Following a service, once the
// deployment it watches has finished and that was reported, it moves on
// to a newer deployment of the service when there is one.
func (r *ECSRouter) Deployment(ctx context.Context) (model.DeploymentStatus, error) {
	if err := r.followNewer(ctx); err != nil {
		return model.DeploymentStatus{}, err
	}
	v := r.view()
	d, err, ok := batchedServiceDeployment(ctx, v.arn)
	if ok && err != nil {
		err = fmt.Errorf("describe service deployment %s: %w", v.arn, err)
	}
	if !ok {
		d, err = r.describeDeployment(ctx, v.arn)
	}
	if err != nil {
		return model.DeploymentStatus{}, err
	}
	st := statusOf(d, v)
	r.mu.Lock()
	r.reported = st.Terminal()
	r.mu.Unlock()
	return st, nil
}

func (r *ECSRouter) followNewer(ctx context.Context) error {
	r.mu.Lock()
	move := r.follow && r.reported
	r.mu.Unlock()
	if !move {
		return nil
	}
	arn, err := r.newest(ctx)
	var none *NoActiveDeploymentError
	if errors.As(err, &none) || err == nil && arn == r.view().arn {
		return nil
	}
	if err != nil {
		return err
	}
	v, err := r.resolve(ctx, arn)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.cur, r.reported = v, false
	r.mu.Unlock()
	return nil
}

// statusOf is a service deployment as perch's model says it.
func statusOf(d ecstypes.ServiceDeployment, v *ecsView) model.DeploymentStatus {
	st := model.DeploymentStatus{
		ID: v.arn, Engine: model.EngineECS, ComputePlatform: "ECS", Application: v.target.Cluster, Group: v.target.Service,
		Config: v.strategy.String(), Status: string(d.Status), Alarms: v.alarms,
		CreatedAt: awssdk.ToTime(d.CreatedAt), CompletedAt: awssdk.ToTime(d.FinishedAt),
		ECS: &model.ECSDeployment{Cluster: v.target.Cluster, Service: v.target.Service, Strategy: v.strategy,
			Stage: string(d.LifecycleStage), StageSince: awssdk.ToTime(d.UpdatedAt), StatusReason: awssdk.ToString(d.StatusReason)},
	}
	if d.TargetServiceRevision != nil {
		st.CanaryPercent = awssdk.ToFloat64(d.TargetServiceRevision.RequestedProductionTrafficWeight)
	}
	if d.Alarms != nil {
		st.ECS.TriggeredAlarms = d.Alarms.TriggeredAlarmNames
	}
	if c := d.DeploymentConfiguration; c != nil && c.Alarms != nil {
		st.AutoRollback = c.Alarms.Enable && c.Alarms.Rollback
	}
	if d.Rollback != nil {
		st.Rollback = &model.DeploymentRollback{Message: awssdk.ToString(d.Rollback.Reason)}
	}
	for _, h := range d.LifecycleHookDetails {
		if h.Status == ecstypes.DeploymentLifecycleHookStatusAwaitingAction {
			st.Waiting = model.WaitHook
			st.ECS.Hook = &model.HookWait{ID: awssdk.ToString(h.HookId), Stage: string(d.LifecycleStage), Target: awssdk.ToString(h.TargetArn),
				ExpiresAt: awssdk.ToTime(h.ExpiresAt), TimeoutAction: string(h.TimeoutAction)}
			break
		}
	}
	return st
}

// awaitingHook reads the deployment afresh and returns the hook awaiting
// action, if any: an action at a hook rests on this read, not the last
// poll's.
func (r *ECSRouter) awaitingHook(ctx context.Context, arn string) (string, ecstypes.ServiceDeploymentStatus, error) {
	d, err := r.describeDeployment(ctx, arn)
	if err != nil {
		return "", "", err
	}
	for _, h := range d.LifecycleHookDetails {
		if h.Status == ecstypes.DeploymentLifecycleHookStatusAwaitingAction {
			return awssdk.ToString(h.HookId), d.Status, nil
		}
	}
	return "", d.Status, nil
}

// Stop rolls the deployment back: ContinueServiceDeployment ROLLBACK when
// it waits at a hook, StopServiceDeployment ROLLBACK otherwise. ECS has
// no stop without rollback for these strategies, so rollback must be
// true.
func (r *ECSRouter) Stop(ctx context.Context, rollback bool) error {
	arn := r.view().arn
	if !rollback {
		return fmt.Errorf("service deployment %s: perch stops ECS deployments only with rollback", arn)
	}
	hook, _, err := r.awaitingHook(ctx, arn)
	if err != nil {
		return err
	}
	if hook != "" {
		_, err = r.ecs.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: awssdk.String(arn),
			HookId: awssdk.String(hook), Action: ecstypes.DeploymentLifecycleHookActionRollback})
		if err != nil {
			return fmt.Errorf("continue service deployment %s at hook %s with ROLLBACK: %w", arn, hook, err)
		}
		return nil
	}
	_, err = r.ecs.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: awssdk.String(arn),
		StopType: ecstypes.StopServiceDeploymentStopTypeRollback})
	if err != nil {
		return fmt.Errorf("stop service deployment %s with ROLLBACK: %w", arn, err)
	}
	return nil
}

// Continue ends the wait at the lifecycle hook awaiting action
// (model.WaitHook) with ContinueServiceDeployment CONTINUE.
func (r *ECSRouter) Continue(ctx context.Context, wait string) error {
	arn := r.view().arn
	if wait != model.WaitHook {
		return fmt.Errorf("service deployment %s: ECS deployments wait only at lifecycle hooks, not %s", arn, wait)
	}
	hook, status, err := r.awaitingHook(ctx, arn)
	if err != nil {
		return err
	}
	if hook == "" {
		return fmt.Errorf("service deployment %s is %s with no lifecycle hook awaiting action: nothing to continue", arn, status)
	}
	_, err = r.ecs.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: awssdk.String(arn),
		HookId: awssdk.String(hook), Action: ecstypes.DeploymentLifecycleHookActionContinue})
	if err != nil {
		return fmt.Errorf("continue service deployment %s at hook %s: %w", arn, hook, err)
	}
	return nil
}

// ECSMetrics fetches the watched deployment's signals: the ALB metrics of
// its two target groups, following the router to a newer deployment.
type ECSMetrics struct {
	batcher *Batcher
	router  *ECSRouter
	slow    slowCounts
}

// NewECSMetrics prepares metrics for the router's deployment.
func NewECSMetrics(cfg awssdk.Config, r *ECSRouter) *ECSMetrics {
	return &ECSMetrics{batcher: NewBatcher(cfg), router: r}
}

// Queries are what Fetch sends for the deployment watched now.
func (m *ECSMetrics) Queries() []MetricQuery { return ALBQueries(m.router.view().target, "") }

// Fetch returns a SeriesData for every side × signal, with the
// slow-request counts once their threshold is known.
func (m *ECSMetrics) Fetch(ctx context.Context, start, end time.Time) ([]model.SeriesData, error) {
	base := m.Queries()
	qs, got, err := fetchWithSlow(ctx, m.batcher, &m.slow, base, start, end)
	if err != nil {
		return nil, err
	}
	return slowSeries(SeriesFrom(qs, got), m.slow.thresholdMs(base)), nil
}
