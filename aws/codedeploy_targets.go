package aws

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/perch-dev/perch/model"
)

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
		// The deployment says which side is the replacement, at any split.
		CanarySource: model.CanaryFromDeployment,
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
	canary, err := targetCanaryPercent(v.platform, targets[0])
	if err != nil {
		return model.Split{}, fmt.Errorf("deployment %s: %w", v.id, err)
	}
	s.CanaryWeight = int(math.Round(canary * 10))
	s.StableWeight = 1000 - s.CanaryWeight
	return s, nil
}

// targetCanaryPercent is the replacement's share of traffic as one
// deployment target reports it.
func targetCanaryPercent(platform cdtypes.ComputePlatform, t cdtypes.DeploymentTarget) (float64, error) {
	var canary float64
	switch {
	case platform == cdtypes.ComputePlatformLambda && t.LambdaTarget != nil && t.LambdaTarget.LambdaFunctionInfo != nil:
		w := t.LambdaTarget.LambdaFunctionInfo.TargetVersionWeight
		// The API reference calls it a percentage but models a double that
		// mirrors the alias's 0-1 fraction; accept both.
		if w > 1 {
			w /= 100
		}
		canary = 100 * w
	case platform == cdtypes.ComputePlatformEcs && t.EcsTarget != nil:
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
		return 0, fmt.Errorf("the target carries no %s traffic information", platform)
	}
	if math.IsNaN(canary) || canary < 0 || canary > 100 {
		return 0, fmt.Errorf("target weight %v%% is outside 0-100", canary)
	}
	return canary, nil
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
		default:
			out[i] = versionHealth(cfg.State)
		}
	}
	return out, nil
}
