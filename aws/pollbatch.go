package aws

import (
	"context"
	"errors"
	"fmt"
	"sync"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/perch-dev/perch/model"
)

// Batch limits of the read APIs a fleet poll shares (aws-apis.md).
const (
	// MaxRulesPerCall is DescribeRules' largest page: RuleArns are asked
	// for in chunks of this many, one call each when nothing pages.
	MaxRulesPerCall = 400
	// MaxDeploymentsPerCall is BatchGetDeployments' limit.
	MaxDeploymentsPerCall = 25
	// MaxServiceDeploymentsPerCall is DescribeServiceDeployments' limit.
	MaxServiceDeploymentsPerCall = 20
)

// BatchNeeds is what one target reads every poll that a fleet can read
// for many targets at once: its rule, its alias, its CodeDeploy
// deployment, its ECS service deployment.
type BatchNeeds struct {
	RuleARN           string
	Alias             *FunctionAlias
	Deployment        string
	ServiceDeployment string
}

// FunctionAlias names a Lambda alias.
type FunctionAlias struct{ Function, Alias string }

// BatchRequest is every need of one AWS config's targets (one account and
// region: a call cannot span either), plus the alarms they watch.
type BatchRequest struct {
	Rules       []string
	Aliases     []FunctionAlias
	Deployments []string
	// ServiceDeployments are ECS service deployment ARNs.
	ServiceDeployments []string
	Alarms             []string
}

// Add merges a target's needs and alarms into the request.
func (r *BatchRequest) Add(n BatchNeeds, alarms []string) {
	if n.RuleARN != "" {
		r.Rules = append(r.Rules, n.RuleARN)
	}
	if n.Alias != nil {
		r.Aliases = append(r.Aliases, *n.Alias)
	}
	if n.Deployment != "" {
		r.Deployments = append(r.Deployments, n.Deployment)
	}
	if n.ServiceDeployment != "" {
		r.ServiceDeployments = append(r.ServiceDeployments, n.ServiceDeployment)
	}
	r.Alarms = append(r.Alarms, alarms...)
}

// PollBatch is one poll's shared reads for one AWS config. The adapters
// find it in their context and take their entry from it instead of
// calling AWS; each entry is given out once, so a second read in the same
// poll (an action's compare-and-set, its read-back) always asks AWS.
// What the batch could not read is absent or carries its error.
type PollBatch struct {
	rules       map[string]elbtypes.Rule
	aliases     map[FunctionAlias]ltypes.AliasConfiguration
	deployments map[string]cdtypes.DeploymentInfo
	services    map[string]ecstypes.ServiceDeployment // ECS service deployments by ARN
	alarms      map[string]model.Alarm                // every name asked: MISSING when AWS had none
	groups      map[string]string                     // target group names by ARN (opening)
	tags        map[string][]elbtypes.Tag             // rule tags by ARN (opening): the rollout marker
	errs        map[string]error                      // "rule:ARN", "alias:FN:ALIAS", "deployment:ID", "service-deployment:ARN", "alarms"

	mu    sync.Mutex
	taken map[string]bool
}

type pollBatchKey struct{}

// WithPollBatch returns ctx carrying b for the adapters to read from.
func WithPollBatch(ctx context.Context, b *PollBatch) context.Context {
	if b == nil {
		return ctx
	}
	return context.WithValue(ctx, pollBatchKey{}, b)
}

func pollBatchFrom(ctx context.Context) *PollBatch {
	b, _ := ctx.Value(pollBatchKey{}).(*PollBatch)
	return b
}

// take marks key given out and reports whether it was not already.
func (b *PollBatch) take(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.taken[key] {
		return false
	}
	b.taken[key] = true
	return true
}

// batchedRule is the rule from ctx's batch: ok says the batch answered
// (with the rule or the batch's error); otherwise the caller asks AWS.
func batchedRule(ctx context.Context, arn string) (elbtypes.Rule, error, bool) {
	b := pollBatchFrom(ctx)
	if b == nil {
		return elbtypes.Rule{}, nil, false
	}
	key := "rule:" + arn
	ru, found := b.rules[arn]
	err := b.errs[key]
	if (!found && err == nil) || !b.take(key) {
		return elbtypes.Rule{}, nil, false
	}
	return ru, err, true
}

func batchedAlias(ctx context.Context, fa FunctionAlias) (*lambda.GetAliasOutput, error, bool) {
	b := pollBatchFrom(ctx)
	if b == nil {
		return nil, nil, false
	}
	key := "alias:" + fa.Function + ":" + fa.Alias
	a, found := b.aliases[fa]
	err := b.errs[key]
	if (!found && err == nil) || !b.take(key) {
		return nil, nil, false
	}
	if err != nil {
		return nil, err, true
	}
	return &lambda.GetAliasOutput{AliasArn: a.AliasArn, Name: a.Name, FunctionVersion: a.FunctionVersion,
		RoutingConfig: a.RoutingConfig, RevisionId: a.RevisionId, Description: a.Description}, nil, true
}

func batchedDeployment(ctx context.Context, id string) (*cdtypes.DeploymentInfo, error, bool) {
	b := pollBatchFrom(ctx)
	if b == nil {
		return nil, nil, false
	}
	key := "deployment:" + id
	d, found := b.deployments[id]
	err := b.errs[key]
	if (!found && err == nil) || !b.take(key) {
		return nil, nil, false
	}
	if err != nil {
		return nil, err, true
	}
	return &d, nil, true
}

func batchedServiceDeployment(ctx context.Context, arn string) (ecstypes.ServiceDeployment, error, bool) {
	b := pollBatchFrom(ctx)
	if b == nil {
		return ecstypes.ServiceDeployment{}, nil, false
	}
	key := "service-deployment:" + arn
	d, found := b.services[arn]
	err := b.errs[key]
	if (!found && err == nil) || !b.take(key) {
		return ecstypes.ServiceDeployment{}, nil, false
	}
	return d, err, true
}

// batchedAlarms answers names from the batch when it asked for every one
// of them (in a poll each engine reads its alarms once; the batch gives
// every name out to each engine that watches it).
func batchedAlarms(ctx context.Context, names []string) ([]model.Alarm, error, bool) {
	b := pollBatchFrom(ctx)
	if b == nil || len(names) == 0 {
		return nil, nil, false
	}
	if err := b.errs["alarms"]; err != nil {
		return nil, err, true
	}
	out := make([]model.Alarm, len(names))
	for i, n := range names {
		a, ok := b.alarms[n]
		if !ok {
			return nil, nil, false
		}
		out[i] = a
	}
	return out, nil, true
}

// PollReader reads a BatchRequest in the fewest calls each API allows.
type PollReader struct {
	elb    elbAPI
	lam    aliasLister
	cd     codeDeployAPI
	ecs    serviceDeploymentsAPI
	alarms *Alarms
}

type serviceDeploymentsAPI interface {
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
}

type aliasLister interface {
	ListAliases(ctx context.Context, in *lambda.ListAliasesInput, optFns ...func(*lambda.Options)) (*lambda.ListAliasesOutput, error)
}

// NewPollReader builds the clients from cfg.
func NewPollReader(cfg awssdk.Config) *PollReader {
	return &PollReader{elb: elbv2.NewFromConfig(cfg), lam: lambda.NewFromConfig(cfg), cd: codedeploy.NewFromConfig(cfg),
		ecs: ecs.NewFromConfig(cfg), alarms: NewAlarms(cfg)}
}

// Read makes the batch's calls: DescribeRules in chunks of 400 ARNs,
// one ListAliases per function with two or more aliases watched (one
// GetAlias per alias is no dearer for a function with one, and is left to
// the router), BatchGetDeployments in chunks of 25,
// DescribeServiceDeployments in chunks of 20 and DescribeAlarms in chunks
// of 100 names. A failed call records its error against what it
// was asked for.
func (b *PollReader) Read(ctx context.Context, req BatchRequest) *PollBatch {
	pb := newPollBatch()
	b.readRules(ctx, pb, unique(req.Rules))
	b.readAliases(ctx, pb, req.Aliases)
	b.readDeployments(ctx, pb, unique(req.Deployments))
	b.readServiceDeployments(ctx, pb, unique(req.ServiceDeployments))
	if names := unique(req.Alarms); len(names) > 0 {
		got, err := b.alarms.Alarms(ctx, names)
		if err != nil {
			pb.errs["alarms"] = err
		}
		for _, a := range got {
			pb.alarms[a.Name] = a
		}
	}
	return pb
}

func newPollBatch() *PollBatch {
	return &PollBatch{rules: map[string]elbtypes.Rule{}, aliases: map[FunctionAlias]ltypes.AliasConfiguration{},
		deployments: map[string]cdtypes.DeploymentInfo{}, services: map[string]ecstypes.ServiceDeployment{}, alarms: map[string]model.Alarm{},
		groups: map[string]string{}, tags: map[string][]elbtypes.Tag{},
		errs: map[string]error{}, taken: map[string]bool{}}
}

func (b *PollReader) readRules(ctx context.Context, pb *PollBatch, arns []string) {
	for lo := 0; lo < len(arns); lo += MaxRulesPerCall {
		chunk := arns[lo:min(lo+MaxRulesPerCall, len(arns))]
		in := &elbv2.DescribeRulesInput{RuleArns: chunk, PageSize: awssdk.Int32(MaxRulesPerCall)}
		for page := 0; page < maxPages; page++ {
			out, err := b.elb.DescribeRules(ctx, in)
			var nf *elbtypes.RuleNotFoundException
			if errors.As(err, &nf) {
				// One deleted rule fails the whole call: leave the chunk
				// to each router's own read, which names its rule.
				break
			}
			if err != nil {
				for _, a := range chunk {
					pb.errs["rule:"+a] = fmt.Errorf("describe rules (%d in one call): %w", len(chunk), err)
				}
				break
			}
			for _, ru := range out.Rules {
				pb.rules[awssdk.ToString(ru.RuleArn)] = ru
			}
			if awssdk.ToString(out.NextMarker) == "" {
				break
			}
			in.Marker = out.NextMarker
		}
	}
}

func (b *PollReader) readAliases(ctx context.Context, pb *PollBatch, want []FunctionAlias) {
	byFn := map[string][]string{}
	var fns []string
	for _, fa := range want {
		if _, ok := byFn[fa.Function]; !ok {
			fns = append(fns, fa.Function)
		}
		byFn[fa.Function] = append(byFn[fa.Function], fa.Alias)
	}
	for _, fn := range fns {
		if len(unique(byFn[fn])) < 2 {
			continue
		}
		in := &lambda.ListAliasesInput{FunctionName: awssdk.String(fn)}
		for page := 0; page < maxPages; page++ {
			out, err := b.lam.ListAliases(ctx, in)
			if err != nil {
				for _, a := range byFn[fn] {
					pb.errs["alias:"+fn+":"+a] = fmt.Errorf("list aliases of %s: %w", fn, err)
				}
				break
			}
			for _, a := range out.Aliases {
				pb.aliases[FunctionAlias{fn, awssdk.ToString(a.Name)}] = a
			}
			if awssdk.ToString(out.NextMarker) == "" {
				break
			}
			in.Marker = out.NextMarker
		}
	}
}

func (b *PollReader) readDeployments(ctx context.Context, pb *PollBatch, ids []string) {
	for lo := 0; lo < len(ids); lo += MaxDeploymentsPerCall {
		chunk := ids[lo:min(lo+MaxDeploymentsPerCall, len(ids))]
		out, err := b.cd.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: chunk})
		if err != nil {
			for _, id := range chunk {
				pb.errs["deployment:"+id] = fmt.Errorf("batch get deployments (%d in one call): %w", len(chunk), err)
			}
			continue
		}
		for _, d := range out.DeploymentsInfo {
			pb.deployments[awssdk.ToString(d.DeploymentId)] = d
		}
	}
}

// readServiceDeployments records each answer by ARN, and each of a
// call's failures (an ARN ECS does not know) as that ARN's error, so its
// router reports it rather than asking again.
func (b *PollReader) readServiceDeployments(ctx context.Context, pb *PollBatch, arns []string) {
	for lo := 0; lo < len(arns); lo += MaxServiceDeploymentsPerCall {
		chunk := arns[lo:min(lo+MaxServiceDeploymentsPerCall, len(arns))]
		out, err := b.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: chunk})
		if err != nil {
			for _, a := range chunk {
				pb.errs["service-deployment:"+a] = fmt.Errorf("describe service deployments (%d in one call): %w", len(chunk), err)
			}
			continue
		}
		for _, d := range out.ServiceDeployments {
			pb.services[awssdk.ToString(d.ServiceDeploymentArn)] = d
		}
		for _, f := range out.Failures {
			a := awssdk.ToString(f.Arn)
			pb.errs["service-deployment:"+a] = &NotFoundError{Kind: "ECS service deployment", ID: a,
				Err: errors.New(awssdk.ToString(f.Reason))}
		}
	}
}

func unique(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
