package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/perch-dev/perch/model"
)

type ecsAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
	DescribeServiceRevisions(ctx context.Context, in *ecs.DescribeServiceRevisionsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error)
	StopServiceDeployment(ctx context.Context, in *ecs.StopServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error)
	ContinueServiceDeployment(ctx context.Context, in *ecs.ContinueServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.ContinueServiceDeploymentOutput, error)
}

// ECSOptions name the deployment to watch: one by ARN, or a service's
// newest.
type ECSOptions struct {
	Cluster       string
	Service       string
	DeploymentARN string
}

// ErrECSShifts is WriteSplit's answer: the production listener rule is
// ECS's while it deploys; perch can stop the deployment with rollback or
// continue it at a hook, not set weights.
var ErrECSShifts = errors.New("ECS shifts this service's traffic itself: perch can roll the deployment back (StopServiceDeployment) or continue it at a lifecycle hook, never write the production listener rule's weights")

// ECSRouter watches an ECS service deployment whose strategy (CANARY,
// LINEAR, BLUE_GREEN) moves the production listener rule itself. The
// canary is the target group the deployment's target service revision
// serves (from DescribeServiceRevisions), never the side with the lower
// weight; the split is read from the production listener rule; it never
// writes weights. Following a service, it moves on to the service's next
// deployment once the one it watches has finished and that was reported.
type ECSRouter struct {
	ecs    ecsAPI
	elb    elbAPI
	region string
	follow bool
	opts   ECSOptions

	mu        sync.Mutex
	cur       *ecsView
	reported  bool
	revisions map[string]string // target group by service revision ARN
}

// ecsView is everything resolved about one deployment.
type ecsView struct {
	arn      string
	target   model.Target
	alarms   []string
	strategy model.ECSStrategy
	rule     *ALBRouter
}

// NewECSRouter resolves the deployment (or the service's newest) and the
// rule and target groups it shifts.
func NewECSRouter(ctx context.Context, cfg awssdk.Config, o ECSOptions) (*ECSRouter, error) {
	return newECSRouter(ctx, ecs.NewFromConfig(cfg), elbv2.NewFromConfig(cfg), cfg.Region, o)
}

func newECSRouter(ctx context.Context, api ecsAPI, elb elbAPI, region string, o ECSOptions) (*ECSRouter, error) {
	switch {
	case o.DeploymentARN != "" && o.Service != "":
		return nil, errors.New("name either a service deployment ARN or a cluster and service, not both")
	case o.DeploymentARN == "" && o.Service == "":
		return nil, errors.New("name a service (with its cluster), or a service deployment ARN")
	}
	r := &ECSRouter{ecs: api, elb: elb, region: region, follow: o.DeploymentARN == "", opts: o, revisions: map[string]string{}}
	arn := o.DeploymentARN
	if r.follow {
		if _, err := r.service(ctx, o.Cluster, o.Service); err != nil {
			return nil, err
		}
		var err error
		if arn, err = r.newest(ctx); err != nil {
			return nil, err
		}
	}
	v, err := r.resolve(ctx, arn)
	if err != nil {
		return nil, err
	}
	r.cur = v
	return r, nil
}

// service reads a service and checks that its deployments shift traffic
// by themselves through a production listener rule.
func (r *ECSRouter) service(ctx context.Context, cluster, name string) (ecstypes.Service, error) {
	out, err := r.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: optString(cluster), Services: []string{name}})
	if err != nil {
		return ecstypes.Service{}, fmt.Errorf("describe service %s: %w", name, wrapECSNotFound(err, cluster, name))
	}
	if len(out.Services) != 1 {
		return ecstypes.Service{}, &NotFoundError{Kind: "ECS service", ID: clusterOr(cluster) + "/" + name}
	}
	s := out.Services[0]
	strategy := ecstypes.DeploymentStrategyRolling
	if s.DeploymentConfiguration != nil && s.DeploymentConfiguration.Strategy != "" {
		strategy = s.DeploymentConfiguration.Strategy
	}
	if strategy == ecstypes.DeploymentStrategyRolling {
		return s, fmt.Errorf("service %s/%s uses the ROLLING deployment strategy: ECS replaces its tasks in place and shifts no traffic by weight, so perch has no split to show or steer (it watches CANARY, LINEAR and BLUE_GREEN deployments)", clusterOr(cluster), name)
	}
	if _, ok := advancedLB(s.LoadBalancers); !ok {
		return s, fmt.Errorf("service %s/%s (%s) has no load balancer with an advanced configuration (alternateTargetGroupArn and productionListenerRule): there is no listener rule whose split perch could show", clusterOr(cluster), name, strategy)
	}
	return s, nil
}

func advancedLB(lbs []ecstypes.LoadBalancer) (ecstypes.LoadBalancer, bool) {
	for _, lb := range lbs {
		if a := lb.AdvancedConfiguration; a != nil && awssdk.ToString(a.ProductionListenerRule) != "" && awssdk.ToString(a.AlternateTargetGroupArn) != "" {
			return lb, true
		}
	}
	return ecstypes.LoadBalancer{}, false
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return awssdk.String(s)
}

func clusterOr(c string) string {
	if c == "" {
		return "default"
	}
	return lastPart(c)
}

// ecsActive are the statuses of a deployment that has not finished.
var ecsActive = []ecstypes.ServiceDeploymentStatus{
	ecstypes.ServiceDeploymentStatusPending, ecstypes.ServiceDeploymentStatusInProgress, ecstypes.ServiceDeploymentStatusStopRequested,
	ecstypes.ServiceDeploymentStatusRollbackRequested, ecstypes.ServiceDeploymentStatusRollbackInProgress,
}

// newest is the ARN of the service's newest deployment in progress; a
// NoActiveDeploymentError when there is none.
func (r *ECSRouter) newest(ctx context.Context) (string, error) {
	out, err := r.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: optString(r.opts.Cluster), Service: awssdk.String(r.opts.Service),
		Status: ecsActive})
	if err != nil {
		return "", fmt.Errorf("list service deployments of %s/%s: %w", clusterOr(r.opts.Cluster), r.opts.Service, wrapECSNotFound(err, r.opts.Cluster, r.opts.Service))
	}
	ds := out.ServiceDeployments
	if len(ds) == 0 {
		return "", &NoActiveDeploymentError{Application: clusterOr(r.opts.Cluster), Group: r.opts.Service}
	}
	sort.SliceStable(ds, func(i, j int) bool { return awssdk.ToTime(ds[i].CreatedAt).After(awssdk.ToTime(ds[j].CreatedAt)) })
	return awssdk.ToString(ds[0].ServiceDeploymentArn), nil
}

func wrapECSNotFound(err error, cluster, service string) error {
	var noCluster *ecstypes.ClusterNotFoundException
	var noService *ecstypes.ServiceNotFoundException
	switch {
	case errors.As(err, &noCluster):
		return &NotFoundError{Kind: "ECS cluster", ID: clusterOr(cluster), Err: err}
	case errors.As(err, &noService):
		return &NotFoundError{Kind: "ECS service", ID: clusterOr(cluster) + "/" + service, Err: err}
	}
	return err
}

func (r *ECSRouter) view() *ecsView {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// Target describes the deployment being watched.
func (r *ECSRouter) Target() model.Target { return r.view().target }

// AlarmNames are the deployment's alarms, which ECS watches.
func (r *ECSRouter) AlarmNames() []string { return append([]string(nil), r.view().alarms...) }

// WriteSplit always fails: ECS owns the production listener rule.
func (r *ECSRouter) WriteSplit(context.Context, model.Split) error { return ErrECSShifts }

// ReadSplit reads the production listener rule's weights.
func (r *ECSRouter) ReadSplit(ctx context.Context) (model.Split, error) {
	return r.view().rule.ReadSplit(ctx)
}

// Health counts each side's registered targets by state.
func (r *ECSRouter) Health(ctx context.Context) ([2]model.Health, error) {
	return r.view().rule.Health(ctx)
}

// BatchNeeds are what a fleet poll reads for this router in shared calls:
// the deployment (DescribeServiceDeployments by 20) and the production
// listener rule (DescribeRules by 400).
func (r *ECSRouter) BatchNeeds() BatchNeeds {
	v := r.view()
	return BatchNeeds{RuleARN: v.target.RuleARN, ServiceDeployment: v.arn}
}
