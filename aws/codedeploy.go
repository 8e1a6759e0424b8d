package aws

import (
	"context"
	"errors"
	"fmt"
	"sync"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

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
	if d, err, ok := batchedDeployment(ctx, id); ok {
		if err != nil {
			return nil, fmt.Errorf("get deployment %s: %w", id, err)
		}
		return d, nil
	}
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

// BatchNeeds is the deployment a fleet poll reads for this router in a
// shared BatchGetDeployments.
func (r *CodeDeployRouter) BatchNeeds() BatchNeeds { return BatchNeeds{Deployment: r.view().id} }

func (r *CodeDeployRouter) view() *cdView {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// Target describes the deployment being watched.
func (r *CodeDeployRouter) Target() model.Target { return r.view().target }

// AlarmNames are the deployment group's alarms, which CodeDeploy watches.
func (r *CodeDeployRouter) AlarmNames() []string { return append([]string(nil), r.view().alarms...) }

// WriteSplit always fails: CodeDeploy moves the traffic.
func (r *CodeDeployRouter) WriteSplit(context.Context, model.Split) error { return ErrCodeDeployShifts }

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
