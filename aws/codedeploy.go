package aws

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/perch-dev/perch/model"
)

type codeDeployAPI interface {
	GetDeployment(ctx context.Context, in *codedeploy.GetDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentOutput, error)
	BatchGetDeployments(ctx context.Context, in *codedeploy.BatchGetDeploymentsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentsOutput, error)
	ListDeployments(ctx context.Context, in *codedeploy.ListDeploymentsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error)
	GetDeploymentGroup(ctx context.Context, in *codedeploy.GetDeploymentGroupInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentGroupOutput, error)
	GetDeploymentConfig(ctx context.Context, in *codedeploy.GetDeploymentConfigInput, optFns ...func(*codedeploy.Options)) (*codedeploy.GetDeploymentConfigOutput, error)
	ListDeploymentTargets(ctx context.Context, in *codedeploy.ListDeploymentTargetsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentTargetsOutput, error)
	BatchGetDeploymentTargets(ctx context.Context, in *codedeploy.BatchGetDeploymentTargetsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentTargetsOutput, error)
	StopDeployment(ctx context.Context, in *codedeploy.StopDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.StopDeploymentOutput, error)
	ContinueDeployment(ctx context.Context, in *codedeploy.ContinueDeploymentInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ContinueDeploymentOutput, error)
}

// CodeDeployOptions name the deployment to watch: one by ID, or whichever
// is newest in progress in an application's deployment group.
type CodeDeployOptions struct {
	DeploymentID    string
	Application     string
	DeploymentGroup string
}

// ErrCodeDeployShifts is WriteSplit's answer: CodeDeploy has no API to set
// weights, only to stop (and roll back) or continue a deployment.
var ErrCodeDeployShifts = errors.New("CodeDeploy shifts traffic itself: perch can stop the deployment (with rollback) or continue it, not set weights")

// NoActiveDeploymentError says a deployment group has nothing in progress
// to follow (yet).
type NoActiveDeploymentError struct{ Application, Group string }

func (e *NoActiveDeploymentError) Error() string {
	return fmt.Sprintf("no deployment in progress in %s/%s", e.Application, e.Group)
}

// activeStatuses are the statuses of a deployment that has not finished.
var activeStatuses = []cdtypes.DeploymentStatus{
	cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued, cdtypes.DeploymentStatusInProgress,
	cdtypes.DeploymentStatusBaking, cdtypes.DeploymentStatusReady,
}

// CodeDeployRouter watches a CodeDeploy deployment (ECS blue/green or
// Lambda). The split comes from the deployment's targets (the ECS task
// sets' trafficWeight, the Lambda target's version weight); it never writes
// weights. Following a group, it moves on to the next deployment a user
// starts there once the one it watches has finished and that was
// reported; rollback deployments CodeDeploy starts are part of the story
// of the deployment they roll back, not followed on their own.
type CodeDeployRouter struct {
	cd     codeDeployAPI
	elb    elbAPI
	lam    lambdaAPI
	region string
	follow bool
	app    string
	group  string

	mu      sync.Mutex
	cur     *cdView
	configs map[string]model.TrafficRouting
	// reported: Deployment returned the watched deployment as finished,
	// so following may move on.
	reported bool
}

// cdView is everything resolved about one deployment.
type cdView struct {
	id        string
	platform  cdtypes.ComputePlatform
	target    model.Target
	targetIDs []string
	alarms    []string
	// ECS: the blue (original) and green (replacement) target groups.
	blueName, greenName string
	// Lambda: the alias's version before, and the version deployed.
	current, targetVersion string
	// The newest read of the targets.
	taskSets []cdtypes.ECSTaskSet
}

// NewCodeDeployRouter resolves the deployment (or the group's newest one
// in progress) and what it shifts.
func NewCodeDeployRouter(ctx context.Context, cfg awssdk.Config, o CodeDeployOptions) (*CodeDeployRouter, error) {
	return newCodeDeployRouter(ctx, codedeploy.NewFromConfig(cfg), elbv2.NewFromConfig(cfg), lambda.NewFromConfig(cfg), cfg.Region, o)
}

func newCodeDeployRouter(ctx context.Context, cd codeDeployAPI, elb elbAPI, lam lambdaAPI, region string, o CodeDeployOptions) (*CodeDeployRouter, error) {
	byGroup := o.Application != "" || o.DeploymentGroup != ""
	switch {
	case o.DeploymentID != "" && byGroup:
		return nil, errors.New("name either a deployment ID or an application and deployment group, not both")
	case byGroup && (o.Application == "" || o.DeploymentGroup == ""):
		return nil, errors.New("name both the application and the deployment group")
	case !byGroup && o.DeploymentID == "":
		return nil, errors.New("name a deployment ID, or an application and deployment group")
	}
	r := &CodeDeployRouter{cd: cd, elb: elb, lam: lam, region: region, follow: byGroup,
		app: o.Application, group: o.DeploymentGroup, configs: map[string]model.TrafficRouting{}}
	id := o.DeploymentID
	if byGroup {
		var err error
		id, err = r.newestActive(ctx, "")
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, &NoActiveDeploymentError{Application: o.Application, Group: o.DeploymentGroup}
		}
	}
	v, err := r.resolve(ctx, id)
	if err != nil {
		return nil, err
	}
	r.cur = v
	return r, nil
}

// newestActive finds the group's newest deployment in progress that a
// user (not a rollback) started, other than skip.
func (r *CodeDeployRouter) newestActive(ctx context.Context, skip string) (string, error) {
	out, err := r.cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{
		ApplicationName: awssdk.String(r.app), DeploymentGroupName: awssdk.String(r.group), IncludeOnlyStatuses: activeStatuses,
	})
	if err != nil {
		return "", fmt.Errorf("list deployments of %s/%s: %w", r.app, r.group, wrapCodeDeployNotFound(err, r.app, r.group))
	}
	var ids []string
	for _, id := range out.Deployments {
		if id != skip {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return "", nil
	}
	if len(ids) > 25 {
		ids = ids[:25]
	}
	got, err := r.cd.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: ids})
	if err != nil {
		return "", fmt.Errorf("get deployments of %s/%s: %w", r.app, r.group, err)
	}
	var best *cdtypes.DeploymentInfo
	for i := range got.DeploymentsInfo {
		d := &got.DeploymentsInfo[i]
		if d.Creator == cdtypes.DeploymentCreatorCodeDeployRollback || d.CreateTime == nil {
			continue
		}
		if best == nil || d.CreateTime.After(*best.CreateTime) {
			best = d
		}
	}
	if best == nil {
		return "", nil
	}
	return awssdk.ToString(best.DeploymentId), nil
}

func wrapCodeDeployNotFound(err error, app, group string) error {
	var noApp *cdtypes.ApplicationDoesNotExistException
	var noGroup *cdtypes.DeploymentGroupDoesNotExistException
	switch {
	case errors.As(err, &noApp):
		return &NotFoundError{Kind: "CodeDeploy application", ID: app, Err: err}
	case errors.As(err, &noGroup):
		return &NotFoundError{Kind: "deployment group", ID: app + "/" + group, Err: err}
	}
	return err
}

// getDeployment reads one deployment, naming it in not-found errors.
func (r *CodeDeployRouter) getDeployment(ctx context.Context, id string) (*cdtypes.DeploymentInfo, error) {
	out, err := r.cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: awssdk.String(id)})
	if err != nil {
		var missing *cdtypes.DeploymentDoesNotExistException
		var invalid *cdtypes.InvalidDeploymentIdException
		switch {
		case errors.As(err, &missing):
			return nil, &NotFoundError{Kind: "deployment", ID: id, Err: err}
		case errors.As(err, &invalid):
			return nil, fmt.Errorf("%q is not a CodeDeploy deployment ID (d- and nine letters or digits)", id)
		}
		return nil, fmt.Errorf("get deployment %s: %w", id, err)
	}
	if out.DeploymentInfo == nil {
		return nil, fmt.Errorf("get deployment %s: empty answer", id)
	}
	return out.DeploymentInfo, nil
}

// resolve works out what a deployment shifts: the target group pair and
// load balancer (ECS), or the function, alias and versions (Lambda).
func (r *CodeDeployRouter) resolve(ctx context.Context, id string) (*cdView, error) {
	d, err := r.getDeployment(ctx, id)
	if err != nil {
		return nil, err
	}
	v := &cdView{id: id, platform: d.ComputePlatform}
	app, group := awssdk.ToString(d.ApplicationName), awssdk.ToString(d.DeploymentGroupName)
	switch d.ComputePlatform {
	case cdtypes.ComputePlatformServer:
		return nil, fmt.Errorf("deployment %s (%s/%s) is an EC2/on-premises (Server) deployment: it replaces instances in place and shifts no traffic by weight, so perch has no split to show or steer", id, app, group)
	case cdtypes.ComputePlatformEcs, cdtypes.ComputePlatformLambda:
	default:
		return nil, fmt.Errorf("deployment %s has compute platform %q; perch follows ECS and Lambda deployments", id, d.ComputePlatform)
	}
	g, err := r.cd.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: d.ApplicationName, DeploymentGroupName: d.DeploymentGroupName})
	if err != nil {
		return nil, fmt.Errorf("get deployment group %s/%s: %w", app, group, wrapCodeDeployNotFound(err, app, group))
	}
	if ac := g.DeploymentGroupInfo.AlarmConfiguration; ac != nil && ac.Enabled {
		for _, a := range ac.Alarms {
			v.alarms = append(v.alarms, awssdk.ToString(a.Name))
		}
	}
	targets, err := r.readTargets(ctx, v)
	if err != nil {
		return nil, err
	}
	v.target = model.Target{
		Kind: model.KindCodeDeploy, Name: app + "/" + group, Region: r.region,
		DeploymentID: id, Application: app, DeploymentGroup: group, ComputePlatform: string(d.ComputePlatform),
	}
	if d.ComputePlatform == cdtypes.ComputePlatformLambda {
		return v, r.resolveLambda(ctx, v, targets)
	}
	return v, r.resolveECS(ctx, v, targets, g.DeploymentGroupInfo)
}

func (r *CodeDeployRouter) resolveLambda(ctx context.Context, v *cdView, targets []cdtypes.DeploymentTarget) error {
	if len(targets) != 1 || targets[0].LambdaTarget == nil || targets[0].LambdaTarget.LambdaFunctionInfo == nil {
		return fmt.Errorf("deployment %s: expected one Lambda target, got %d", v.id, len(targets))
	}
	lt := targets[0].LambdaTarget
	info := lt.LambdaFunctionInfo
	fn, alias := awssdk.ToString(info.FunctionName), awssdk.ToString(info.FunctionAlias)
	v.current, v.targetVersion = awssdk.ToString(info.CurrentVersion), awssdk.ToString(info.TargetVersion)
	if fn == "" || alias == "" || v.current == "" || v.targetVersion == "" {
		return fmt.Errorf("deployment %s: the Lambda target does not name the function, alias and both versions", v.id)
	}
	aliasARN := awssdk.ToString(lt.TargetArn)
	if aliasARN == "" {
		a, err := r.lam.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: awssdk.String(fn), Name: awssdk.String(alias)})
		if err != nil {
			return fmt.Errorf("get alias %s:%s: %w", fn, alias, err)
		}
		aliasARN = awssdk.ToString(a.AliasArn)
	}
	fnARN := strings.TrimSuffix(aliasARN, ":"+alias)
	t := &v.target
	t.Function, t.Alias, t.AliasARN = functionName(aliasARN, fn), alias, aliasARN
	t.StableName, t.CanaryName = "version "+v.current, "version "+v.targetVersion
	t.StableARN, t.CanaryARN = fnARN+":"+v.current, fnARN+":"+v.targetVersion
	return nil
}

func (r *CodeDeployRouter) resolveECS(ctx context.Context, v *cdView, targets []cdtypes.DeploymentTarget, g *cdtypes.DeploymentGroupInfo) error {
	if len(targets) != 1 || targets[0].EcsTarget == nil {
		return fmt.Errorf("deployment %s: expected one ECS target, got %d", v.id, len(targets))
	}
	for _, ts := range targets[0].EcsTarget.TaskSetsInfo {
		if ts.TargetGroup == nil {
			continue
		}
		switch ts.TaskSetLabel {
		case cdtypes.TargetLabelBlue:
			v.blueName = awssdk.ToString(ts.TargetGroup.Name)
		case cdtypes.TargetLabelGreen:
			v.greenName = awssdk.ToString(ts.TargetGroup.Name)
		}
	}
	// Once the original task set is gone, the group's pair says which
	// target group it used.
	var pair []string
	if lb := g.LoadBalancerInfo; lb != nil && len(lb.TargetGroupPairInfoList) > 0 {
		for _, tg := range lb.TargetGroupPairInfoList[0].TargetGroups {
			pair = append(pair, awssdk.ToString(tg.Name))
		}
	}
	if v.blueName == "" && len(pair) == 2 {
		v.blueName = pair[0]
		if pair[0] == v.greenName {
			v.blueName = pair[1]
		}
	}
	if v.blueName == "" || v.greenName == "" || v.blueName == v.greenName {
		return fmt.Errorf("deployment %s: cannot tell the blue and green target groups apart (task sets name %q and %q)", v.id, v.blueName, v.greenName)
	}
	out, err := r.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{v.blueName, v.greenName}})
	if err != nil {
		return fmt.Errorf("describe target groups %s and %s: %w", v.blueName, v.greenName, wrapNotFound(err, "target group", v.blueName+", "+v.greenName))
	}
	t := &v.target
	for _, tg := range out.TargetGroups {
		name, arn := awssdk.ToString(tg.TargetGroupName), awssdk.ToString(tg.TargetGroupArn)
		switch name {
		case v.blueName:
			t.StableARN = arn
		case v.greenName:
			t.CanaryARN = arn
		}
		if len(tg.LoadBalancerArns) > 0 && t.LoadBalancerARN == "" {
			t.LoadBalancerARN = tg.LoadBalancerArns[0]
		}
	}
	if t.StableARN == "" || t.CanaryARN == "" || t.LoadBalancerARN == "" {
		return fmt.Errorf("deployment %s: target groups %s and %s are not both found behind a load balancer", v.id, v.blueName, v.greenName)
	}
	t.StableName, t.CanaryName = v.blueName, v.greenName
	if lb := g.LoadBalancerInfo; lb != nil && len(lb.TargetGroupPairInfoList) > 0 {
		if route := lb.TargetGroupPairInfoList[0].ProdTrafficRoute; route != nil && len(route.ListenerArns) > 0 {
			t.ListenerARN = route.ListenerArns[0]
		}
	}
	return nil
}

// readTargets lists the deployment's target IDs once, then batch-reads
// the targets. ListDeploymentTargets has no paginator in the SDK.
func (r *CodeDeployRouter) readTargets(ctx context.Context, v *cdView) ([]cdtypes.DeploymentTarget, error) {
	if len(v.targetIDs) == 0 {
		var token *string
		for page := 0; ; page++ {
			if page == maxPages {
				return nil, fmt.Errorf("list targets of deployment %s: still paging after %d pages", v.id, maxPages)
			}
			out, err := r.cd.ListDeploymentTargets(ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: awssdk.String(v.id), NextToken: token})
			if err != nil {
				return nil, fmt.Errorf("list targets of deployment %s: %w", v.id, err)
			}
			v.targetIDs = append(v.targetIDs, out.TargetIds...)
			if out.NextToken == nil || *out.NextToken == "" {
				break
			}
			token = out.NextToken
		}
		if len(v.targetIDs) == 0 {
			return nil, fmt.Errorf("deployment %s has no targets yet", v.id)
		}
	}
	ids := v.targetIDs
	if len(ids) > 25 {
		ids = ids[:25]
	}
	out, err := r.cd.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{DeploymentId: awssdk.String(v.id), TargetIds: ids})
	if err != nil {
		return nil, fmt.Errorf("get targets of deployment %s: %w", v.id, err)
	}
	for _, t := range out.DeploymentTargets {
		if t.EcsTarget != nil {
			v.taskSets = t.EcsTarget.TaskSetsInfo
		}
	}
	return out.DeploymentTargets, nil
}

func (r *CodeDeployRouter) view() *cdView {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// Target describes the deployment being watched.
func (r *CodeDeployRouter) Target() model.Target { return r.view().target }

// AlarmNames are the deployment group's alarms, which CodeDeploy watches.
func (r *CodeDeployRouter) AlarmNames() []string { return append([]string(nil), r.view().alarms...) }

// ReadSplit reads the deployment's targets: the blue and green task sets'
// traffic weights (ECS) or the target version's weight (Lambda), as
// weights out of 1000.
func (r *CodeDeployRouter) ReadSplit(ctx context.Context) (model.Split, error) {
	v := r.view()
	targets, err := r.readTargets(ctx, v)
	if err != nil {
		return model.Split{}, err
	}
	return splitOfTargets(v, targets)
}

func splitOfTargets(v *cdView, targets []cdtypes.DeploymentTarget) (model.Split, error) {
	s := model.Split{StableID: v.target.StableARN, CanaryID: v.target.CanaryARN}
	if len(targets) != 1 {
		return model.Split{}, fmt.Errorf("deployment %s: expected one target, got %d", v.id, len(targets))
	}
	t := targets[0]
	var canary float64
	switch {
	case v.platform == cdtypes.ComputePlatformLambda && t.LambdaTarget != nil && t.LambdaTarget.LambdaFunctionInfo != nil:
		w := t.LambdaTarget.LambdaFunctionInfo.TargetVersionWeight
		// The API reference calls it a percentage but models a double that
		// mirrors the alias's 0-1 fraction; accept both.
		if w > 1 {
			w /= 100
		}
		canary = 100 * w
	case v.platform == cdtypes.ComputePlatformEcs && t.EcsTarget != nil:
		var blue, green float64
		var haveBlue bool
		for _, ts := range t.EcsTarget.TaskSetsInfo {
			switch ts.TaskSetLabel {
			case cdtypes.TargetLabelBlue:
				blue, haveBlue = ts.TrafficWeight, true
			case cdtypes.TargetLabelGreen:
				green = ts.TrafficWeight
			}
		}
		switch {
		case blue+green > 0:
			canary = 100 * green / (blue + green)
		case !haveBlue:
			canary = 100
		}
	default:
		return model.Split{}, fmt.Errorf("deployment %s: the target carries no %s traffic information", v.id, v.platform)
	}
	if math.IsNaN(canary) || canary < 0 || canary > 100 {
		return model.Split{}, fmt.Errorf("deployment %s: target weight %v%% is outside 0-100", v.id, canary)
	}
	s.CanaryWeight = int(math.Round(canary * 10))
	s.StableWeight = 1000 - s.CanaryWeight
	return s, nil
}

// WriteSplit always fails: CodeDeploy moves the traffic.
func (r *CodeDeployRouter) WriteSplit(context.Context, model.Split) error { return ErrCodeDeployShifts }

// Deployment reads the watched deployment: status, configuration,
// lifecycle hooks, error and rollback information. Following a group, it
// first moves on to a newer deployment once the watched one has been
// reported finished.
func (r *CodeDeployRouter) Deployment(ctx context.Context) (model.DeploymentStatus, error) {
	if err := r.followNext(ctx); err != nil {
		return model.DeploymentStatus{}, err
	}
	v := r.view()
	d, err := r.getDeployment(ctx, v.id)
	if err != nil {
		return model.DeploymentStatus{}, err
	}
	targets, err := r.readTargets(ctx, v)
	if err != nil {
		return model.DeploymentStatus{}, err
	}
	st := model.DeploymentStatus{
		ID: v.id, Application: awssdk.ToString(d.ApplicationName), Group: awssdk.ToString(d.DeploymentGroupName),
		ComputePlatform: string(d.ComputePlatform), Config: awssdk.ToString(d.DeploymentConfigName),
		Status: string(d.Status), Creator: string(d.Creator), Description: awssdk.ToString(d.Description),
		CreatedAt: awssdk.ToTime(d.CreateTime), CompletedAt: awssdk.ToTime(d.CompleteTime),
		Alarms: append([]string(nil), v.alarms...),
	}
	if st.Routing, err = r.routing(ctx, st.Config); err != nil {
		return model.DeploymentStatus{}, err
	}
	if split, err := splitOfTargets(v, targets); err == nil {
		st.CanaryPercent = split.CanaryPercent()
	}
	for _, t := range targets {
		var events []cdtypes.LifecycleEvent
		switch {
		case t.EcsTarget != nil:
			events = t.EcsTarget.LifecycleEvents
		case t.LambdaTarget != nil:
			events = t.LambdaTarget.LifecycleEvents
		}
		for _, e := range events {
			h := model.LifecycleHook{Name: awssdk.ToString(e.LifecycleEventName), Status: string(e.Status),
				Start: awssdk.ToTime(e.StartTime), End: awssdk.ToTime(e.EndTime)}
			if h.Name == "AllowTraffic" {
				st.ShiftStartedAt = h.Start
			}
			st.Hooks = append(st.Hooks, h)
		}
	}
	switch {
	case d.Status == cdtypes.DeploymentStatusReady:
		st.Waiting = model.WaitReady
	case d.InstanceTerminationWaitTimeStarted && d.Status == cdtypes.DeploymentStatusInProgress:
		st.Waiting = model.WaitTermination
	}
	if ar := d.AutoRollbackConfiguration; ar != nil {
		st.AutoRollback = ar.Enabled
		for _, e := range ar.Events {
			st.RollbackEvents = append(st.RollbackEvents, string(e))
		}
	}
	if e := d.ErrorInformation; e != nil {
		st.Error = &model.DeploymentError{Code: string(e.Code), Message: awssdk.ToString(e.Message)}
	}
	if rb := d.RollbackInfo; rb != nil {
		st.Rollback = &model.DeploymentRollback{DeploymentID: awssdk.ToString(rb.RollbackDeploymentId),
			TriggeredBy: awssdk.ToString(rb.RollbackTriggeringDeploymentId), Message: awssdk.ToString(rb.RollbackMessage)}
	}
	if st.Terminal() {
		r.mu.Lock()
		if r.cur == v {
			r.reported = true
		}
		r.mu.Unlock()
	}
	return st, nil
}

// followNext switches to the group's newest deployment in progress once
// the watched one has finished and been reported.
func (r *CodeDeployRouter) followNext(ctx context.Context) error {
	r.mu.Lock()
	should := r.follow && r.reported
	cur := r.cur
	r.mu.Unlock()
	if !should {
		return nil
	}
	id, err := r.newestActive(ctx, cur.id)
	if err != nil || id == "" {
		return err
	}
	v, err := r.resolve(ctx, id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.cur, r.reported = v, false
	r.mu.Unlock()
	return nil
}

// routing reads a deployment configuration's traffic routing (cached:
// configurations cannot be changed).
func (r *CodeDeployRouter) routing(ctx context.Context, name string) (model.TrafficRouting, error) {
	r.mu.Lock()
	rt, ok := r.configs[name]
	r.mu.Unlock()
	if ok || name == "" {
		return rt, nil
	}
	out, err := r.cd.GetDeploymentConfig(ctx, &codedeploy.GetDeploymentConfigInput{DeploymentConfigName: awssdk.String(name)})
	if err != nil {
		return rt, fmt.Errorf("get deployment config %s: %w", name, err)
	}
	if c := out.DeploymentConfigInfo; c != nil && c.TrafficRoutingConfig != nil {
		tr := c.TrafficRoutingConfig
		rt.Type = string(tr.Type)
		switch {
		case tr.TimeBasedCanary != nil:
			rt.Percent, rt.Interval = float64(tr.TimeBasedCanary.CanaryPercentage), time.Duration(tr.TimeBasedCanary.CanaryInterval)*time.Minute
		case tr.TimeBasedLinear != nil:
			rt.Percent, rt.Interval = float64(tr.TimeBasedLinear.LinearPercentage), time.Duration(tr.TimeBasedLinear.LinearInterval)*time.Minute
		}
	}
	r.mu.Lock()
	r.configs[name] = rt
	r.mu.Unlock()
	return rt, nil
}

// Stop calls StopDeployment; rollback asks CodeDeploy to roll back too.
func (r *CodeDeployRouter) Stop(ctx context.Context, rollback bool) error {
	id := r.view().id
	_, err := r.cd.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: awssdk.String(id), AutoRollbackEnabled: awssdk.Bool(rollback)})
	if err != nil {
		var done *cdtypes.DeploymentAlreadyCompletedException
		if errors.As(err, &done) {
			return fmt.Errorf("deployment %s has already finished: nothing to stop: %w", id, err)
		}
		return fmt.Errorf("stop deployment %s: %w", id, err)
	}
	return nil
}

// Continue calls ContinueDeployment for the wait the deployment is in
// (model.WaitReady or model.WaitTermination).
func (r *CodeDeployRouter) Continue(ctx context.Context, wait string) error {
	id := r.view().id
	_, err := r.cd.ContinueDeployment(ctx, &codedeploy.ContinueDeploymentInput{DeploymentId: awssdk.String(id),
		DeploymentWaitType: cdtypes.DeploymentWaitType(wait)})
	if err != nil {
		var notReady *cdtypes.DeploymentIsNotInReadyStateException
		if errors.As(err, &notReady) {
			return fmt.Errorf("deployment %s is not waiting (%s): %w", id, wait, err)
		}
		return fmt.Errorf("continue deployment %s (%s): %w", id, wait, err)
	}
	return nil
}

// Health reports each side's capacity: the ECS task sets' running and
// pending tasks from the newest target read, or whether each Lambda
// version is Active.
func (r *CodeDeployRouter) Health(ctx context.Context) ([2]model.Health, error) {
	v := r.view()
	var out [2]model.Health
	if v.platform == cdtypes.ComputePlatformEcs {
		for _, ts := range v.taskSets {
			i := model.Stable
			if ts.TaskSetLabel == cdtypes.TargetLabelGreen {
				i = model.Canary
			}
			out[i].Healthy += int(ts.RunningCount)
			out[i].Other += int(ts.PendingCount)
		}
		return out, nil
	}
	for i, version := range [2]string{v.current, v.targetVersion} {
		cfg, err := r.lam.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{
			FunctionName: awssdk.String(v.target.Function), Qualifier: awssdk.String(version)})
		var nf *ltypes.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
			out[i].Unhealthy = 1
		case err != nil:
			return out, fmt.Errorf("get function configuration %s:%s: %w", v.target.Function, version, err)
		case cfg.State == ltypes.StateActive:
			out[i].Healthy = 1
		case cfg.State == ltypes.StatePending:
			out[i].Other = 1
		default:
			out[i].Unhealthy = 1
		}
	}
	return out, nil
}

// CodeDeployMetrics fetches the watched deployment's signals: the ALB
// metrics of its blue and green target groups (ECS), or the alias's
// per-ExecutedVersion metrics (Lambda). The queries follow the router
// when it moves on to another deployment.
type CodeDeployMetrics struct {
	batcher *Batcher
	router  *CodeDeployRouter
}

// NewCodeDeployMetrics prepares metrics for the router's deployment.
func NewCodeDeployMetrics(cfg awssdk.Config, r *CodeDeployRouter) *CodeDeployMetrics {
	return &CodeDeployMetrics{batcher: NewBatcher(cfg), router: r}
}

// Queries are what Fetch sends for the deployment watched now.
func (m *CodeDeployMetrics) Queries() []MetricQuery {
	v := m.router.view()
	if v.platform == cdtypes.ComputePlatformLambda {
		return LambdaQueries(v.target.Function, v.target.Alias, v.current, v.targetVersion, "")
	}
	return ALBQueries(v.target, "")
}

// Fetch returns a SeriesData for every side × signal, Points possibly empty.
func (m *CodeDeployMetrics) Fetch(ctx context.Context, start, end time.Time) ([]model.SeriesData, error) {
	qs := m.Queries()
	got, err := m.batcher.Fetch(ctx, qs, start, end)
	if err != nil {
		return nil, err
	}
	if m.router.view().platform == cdtypes.ComputePlatformLambda {
		return LambdaSeriesFrom(qs, got), nil
	}
	return SeriesFrom(qs, got), nil
}
