package aws

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/perch-dev/perch/model"
)

// The calls a scan makes, each paged to its end.
type discoverELB interface {
	DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
	DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DescribeRules(ctx context.Context, in *elbv2.DescribeRulesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	DescribeTags(ctx context.Context, in *elbv2.DescribeTagsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
}

type discoverLambda interface {
	ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, optFns ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
	ListAliases(ctx context.Context, in *lambda.ListAliasesInput, optFns ...func(*lambda.Options)) (*lambda.ListAliasesOutput, error)
}

type discoverCodeDeploy interface {
	ListDeploymentTargets(ctx context.Context, in *codedeploy.ListDeploymentTargetsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentTargetsOutput, error)
	BatchGetDeploymentTargets(ctx context.Context, in *codedeploy.BatchGetDeploymentTargetsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentTargetsOutput, error)
	ListDeployments(ctx context.Context, in *codedeploy.ListDeploymentsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.ListDeploymentsOutput, error)
	BatchGetDeployments(ctx context.Context, in *codedeploy.BatchGetDeploymentsInput, optFns ...func(*codedeploy.Options)) (*codedeploy.BatchGetDeploymentsOutput, error)
}

// DefaultScanParallel bounds the calls a scan has in flight per region.
const DefaultScanParallel = 8

// Limits AWS sets on the calls a scan makes.
const (
	describeRulesPage = 400 // DescribeRules PageSize
	describeTagsBatch = 20  // DescribeTags ResourceArns
	batchGetDeploys   = 25  // BatchGetDeployments deploymentIds
)

// Scanner finds the canaries in one region: ALB rules and default actions
// that forward to two or more weighted target groups (at rest only when
// perch's rollout marker is on them), Lambda aliases with routing, and
// CodeDeploy deployments in progress or waiting, and ECS service
// deployments in progress.
type Scanner struct {
	elb      discoverELB
	lambda   discoverLambda
	cd       discoverCodeDeploy
	ecs      discoverECS
	region   string
	parallel int
	progress func(model.ScanProgress)
}

// NewScanner scans the region cfg names. progress, when set, is told how
// the scan goes (from several goroutines: it must be safe for that).
func NewScanner(cfg awssdk.Config, parallel int, progress func(model.ScanProgress)) *Scanner {
	if parallel <= 0 {
		parallel = DefaultScanParallel
	}
	if progress == nil {
		progress = func(model.ScanProgress) {}
	}
	return &Scanner{elb: elbv2.NewFromConfig(cfg), lambda: lambda.NewFromConfig(cfg), cd: codedeploy.NewFromConfig(cfg),
		ecs: ecs.NewFromConfig(cfg), region: cfg.Region, parallel: parallel, progress: progress}
}

// Scan lists the region's canaries, sorted by kind and name. The kinds
// are scanned at once; an error in one stops the scan.
func (s *Scanner) Scan(ctx context.Context) ([]model.Found, error) {
	var mu sync.Mutex
	var out []model.Found
	var firstErr error
	var wg sync.WaitGroup
	for _, scan := range []func(context.Context) ([]model.Found, error){s.scanALB, s.scanLambda, s.scanCodeDeploy, s.scanECS} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			found, err := scan(ctx)
			mu.Lock()
			defer mu.Unlock()
			out = append(out, found...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out = model.WithoutOwnedRules(out)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// forEach runs fn for 0..n-1, s.parallel at a time, and returns the first
// error.
func (s *Scanner) forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, s.parallel)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	return first
}

// scanALB: every load balancer, its listeners, their rules (the default
// rule included), then the marker tags of the candidates, 20 a call.
func (s *Scanner) scanALB(ctx context.Context) ([]model.Found, error) {
	var lbs []elbtypes.LoadBalancer
	for marker := ""; ; {
		in := &elbv2.DescribeLoadBalancersInput{PageSize: awssdk.Int32(describeRulesPage)}
		if marker != "" {
			in.Marker = awssdk.String(marker)
		}
		out, err := s.elb.DescribeLoadBalancers(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan %s: describe load balancers: %w", s.region, err)
		}
		for _, lb := range out.LoadBalancers {
			if lb.Type == elbtypes.LoadBalancerTypeEnumApplication || lb.Type == "" {
				lbs = append(lbs, lb)
			}
		}
		if marker = awssdk.ToString(out.NextMarker); marker == "" {
			break
		}
	}
	s.progress(model.ScanProgress{Region: s.region, Stage: "load balancers", Done: len(lbs), Total: len(lbs)})
	listeners := make([][]elbtypes.Listener, len(lbs))
	err := s.forEach(ctx, len(lbs), func(ctx context.Context, i int) error {
		ls, err := s.listeners(ctx, awssdk.ToString(lbs[i].LoadBalancerArn))
		listeners[i] = ls
		return err
	})
	if err != nil {
		return nil, err
	}
	var all []elbtypes.Listener
	for i, ls := range listeners {
		for _, l := range ls {
			l.LoadBalancerArn = lbs[i].LoadBalancerArn
			all = append(all, l)
		}
	}
	var mu sync.Mutex
	var found []model.Found
	done := 0
	err = s.forEach(ctx, len(all), func(ctx context.Context, i int) error {
		f, err := s.rules(ctx, all[i])
		mu.Lock()
		defer mu.Unlock()
		found = append(found, f...)
		done++
		s.progress(model.ScanProgress{Region: s.region, Stage: "listeners", Done: done, Total: len(all)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.markAndKeep(ctx, found)
}

func (s *Scanner) listeners(ctx context.Context, lbARN string) ([]elbtypes.Listener, error) {
	var out []elbtypes.Listener
	for marker := ""; ; {
		in := &elbv2.DescribeListenersInput{LoadBalancerArn: awssdk.String(lbARN), PageSize: awssdk.Int32(describeRulesPage)}
		if marker != "" {
			in.Marker = awssdk.String(marker)
		}
		page, err := s.elb.DescribeListeners(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan %s: describe listeners of %s: %w", s.region, lbARN, err)
		}
		out = append(out, page.Listeners...)
		if marker = awssdk.ToString(page.NextMarker); marker == "" {
			return out, nil
		}
	}
}

// rules lists a listener's rules that forward to two or more target
// groups, as candidates (the marker check comes after).
func (s *Scanner) rules(ctx context.Context, l elbtypes.Listener) ([]model.Found, error) {
	lisARN := awssdk.ToString(l.ListenerArn)
	lbName := ""
	if p, err := parseELBARN(lisARN, "listener"); err == nil {
		lbName = p.lbName
	}
	var found []model.Found
	for marker := ""; ; {
		in := &elbv2.DescribeRulesInput{ListenerArn: awssdk.String(lisARN), PageSize: awssdk.Int32(describeRulesPage)}
		if marker != "" {
			in.Marker = awssdk.String(marker)
		}
		page, err := s.elb.DescribeRules(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan %s: describe rules of %s: %w", s.region, lisARN, err)
		}
		for _, ru := range page.Rules {
			if f, ok := s.candidate(ru, lisARN, lbName); ok {
				found = append(found, f)
			}
		}
		if marker = awssdk.ToString(page.NextMarker); marker == "" {
			return found, nil
		}
	}
}

func (s *Scanner) candidate(ru elbtypes.Rule, lisARN, lbName string) (model.Found, bool) {
	i := terminalIndex(ru.Actions)
	if i < 0 || ru.Actions[i].Type != elbtypes.ActionTypeEnumForward {
		return model.Found{}, false
	}
	tuples := forwardTuples(ru.Actions[i])
	if len(tuples) < 2 {
		return model.Found{}, false
	}
	f := model.Found{Kind: model.KindALB, Region: s.region}
	if awssdk.ToBool(ru.IsDefault) {
		f.Name, f.ID, f.ListenerARN = lbName+" default rule", lisARN, lisARN
	} else {
		f.Name = lbName + " rule " + awssdk.ToString(ru.Priority)
		f.ID, f.RuleARN = awssdk.ToString(ru.RuleArn), awssdk.ToString(ru.RuleArn)
	}
	for _, t := range tuples {
		f.Sides = append(f.Sides, model.FoundSide{Name: tgNameFromARN(t.arn), ID: t.arn, Weight: float64(t.weight)})
	}
	if len(tuples) > 2 {
		f.Note = strconv.Itoa(len(tuples)) + " target groups: perch drives two"
	}
	return f, true
}

// markAndKeep reads the candidates' marker tags, 20 a call: a candidate
// at rest (all traffic on one group) is a canary only with the marker.
func (s *Scanner) markAndKeep(ctx context.Context, found []model.Found) ([]model.Found, error) {
	batches := (len(found) + describeTagsBatch - 1) / describeTagsBatch
	markers := make([]map[string]model.RolloutMarker, batches)
	err := s.forEach(ctx, batches, func(ctx context.Context, b int) error {
		lo, hi := b*describeTagsBatch, min((b+1)*describeTagsBatch, len(found))
		arns := make([]string, 0, hi-lo)
		for _, f := range found[lo:hi] {
			arns = append(arns, f.ID)
		}
		out, err := s.elb.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})
		if err != nil {
			return fmt.Errorf("scan %s: describe tags: %w", s.region, err)
		}
		markers[b] = map[string]model.RolloutMarker{}
		for _, d := range out.TagDescriptions {
			if m, ok, _ := markerFromTags(d.Tags); ok {
				markers[b][awssdk.ToString(d.ResourceArn)] = m
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var keep []model.Found
	for i, f := range found {
		m, marked := markers[i/describeTagsBatch][f.ID]
		f.Marked = marked
		if marked {
			f.CanaryPercent = canaryShare(f.Sides, m.Canary)
		}
		if marked || !sidesAtRest(f.Sides) {
			keep = append(keep, f)
		}
	}
	return keep, nil
}

func sidesAtRest(sides []model.FoundSide) bool {
	nonZero := 0
	for _, s := range sides {
		if s.Weight > 0 {
			nonZero++
		}
	}
	return nonZero <= 1
}

func canaryShare(sides []model.FoundSide, canary string) *float64 {
	var total, c float64
	seen := false
	for _, s := range sides {
		total += s.Weight
		if s.ID == canary {
			c, seen = s.Weight, true
		}
	}
	if !seen || total <= 0 {
		return nil
	}
	return model.Pct(100 * c / total)
}

// scanLambda: every function, then its aliases; an alias with routing is
// a canary (FunctionVersion is stable, the weighted version the canary).
func (s *Scanner) scanLambda(ctx context.Context) ([]model.Found, error) {
	var fns []string
	for marker := ""; ; {
		in := &lambda.ListFunctionsInput{MaxItems: awssdk.Int32(50)}
		if marker != "" {
			in.Marker = awssdk.String(marker)
		}
		out, err := s.lambda.ListFunctions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan %s: list functions: %w", s.region, err)
		}
		for _, f := range out.Functions {
			fns = append(fns, awssdk.ToString(f.FunctionName))
		}
		if marker = awssdk.ToString(out.NextMarker); marker == "" {
			break
		}
	}
	var mu sync.Mutex
	var found []model.Found
	err := s.forEach(ctx, len(fns), func(ctx context.Context, i int) error {
		f, err := s.aliases(ctx, fns[i])
		mu.Lock()
		defer mu.Unlock()
		found = append(found, f...)
		s.progress(model.ScanProgress{Region: s.region, Stage: "functions", Done: len(found), Total: len(fns)})
		return err
	})
	return found, err
}

func (s *Scanner) aliases(ctx context.Context, fn string) ([]model.Found, error) {
	var found []model.Found
	for marker := ""; ; {
		in := &lambda.ListAliasesInput{FunctionName: awssdk.String(fn), MaxItems: awssdk.Int32(50)}
		if marker != "" {
			in.Marker = awssdk.String(marker)
		}
		out, err := s.lambda.ListAliases(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan %s: list aliases of %s: %w", s.region, fn, err)
		}
		for _, a := range out.Aliases {
			weights := routing(a.RoutingConfig)
			if len(weights) == 0 {
				continue
			}
			name := awssdk.ToString(a.Name)
			f := model.Found{Kind: model.KindLambda, Name: fn + ":" + name, Region: s.region, ID: awssdk.ToString(a.AliasArn),
				Function: fn, Alias: name}
			var extra float64
			versions := make([]string, 0, len(weights))
			for v := range weights {
				versions = append(versions, v)
			}
			sort.Strings(versions)
			for _, v := range versions {
				extra += weights[v]
			}
			f.Sides = append(f.Sides, model.FoundSide{Name: "version " + awssdk.ToString(a.FunctionVersion), ID: awssdk.ToString(a.FunctionVersion), Weight: 1 - extra})
			for _, v := range versions {
				f.Sides = append(f.Sides, model.FoundSide{Name: "version " + v, ID: v, Weight: weights[v]})
			}
			if len(versions) == 1 {
				f.CanaryPercent = model.Pct(100 * weights[versions[0]])
			} else {
				f.Note = strconv.Itoa(len(versions)) + " additional versions: perch drives one"
			}
			found = append(found, f)
		}
		if marker = awssdk.ToString(out.NextMarker); marker == "" {
			return found, nil
		}
	}
}

// scanCodeDeploy: the account's active deployments in one paged list,
// then their details 25 a call; EC2/on-premises ones shift no traffic.
func (s *Scanner) scanCodeDeploy(ctx context.Context) ([]model.Found, error) {
	var ids []string
	for token := ""; ; {
		in := &codedeploy.ListDeploymentsInput{IncludeOnlyStatuses: activeStatuses}
		if token != "" {
			in.NextToken = awssdk.String(token)
		}
		out, err := s.cd.ListDeployments(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan %s: list deployments: %w", s.region, err)
		}
		ids = append(ids, out.Deployments...)
		if token = awssdk.ToString(out.NextToken); token == "" {
			break
		}
	}
	var found []model.Found
	var platforms []cdtypes.ComputePlatform
	for lo := 0; lo < len(ids); lo += batchGetDeploys {
		out, err := s.cd.BatchGetDeployments(ctx, &codedeploy.BatchGetDeploymentsInput{DeploymentIds: ids[lo:min(lo+batchGetDeploys, len(ids))]})
		if err != nil {
			return nil, fmt.Errorf("scan %s: batch get deployments: %w", s.region, err)
		}
		for _, d := range out.DeploymentsInfo {
			if d.ComputePlatform == cdtypes.ComputePlatformServer {
				continue
			}
			f := model.Found{Kind: model.KindCodeDeploy, Region: s.region, ID: awssdk.ToString(d.DeploymentId),
				DeploymentID: awssdk.ToString(d.DeploymentId), Status: string(d.Status),
				Name: awssdk.ToString(d.ApplicationName) + "/" + awssdk.ToString(d.DeploymentGroupName)}
			if d.CreateTime != nil {
				f.Changed = *d.CreateTime
			}
			found = append(found, f)
			platforms = append(platforms, d.ComputePlatform)
		}
		s.progress(model.ScanProgress{Region: s.region, Stage: "deployments", Done: min(lo+batchGetDeploys, len(ids)), Total: len(ids)})
	}
	err := s.forEach(ctx, len(found), func(ctx context.Context, i int) error {
		pct, tgs, err := s.deploymentShare(ctx, found[i].DeploymentID, platforms[i])
		if err != nil {
			return err
		}
		found[i].CanaryPercent, found[i].TargetGroups = pct, tgs
		if pct != nil {
			found[i].Sides = []model.FoundSide{{Name: "original", Weight: 100 - *pct}, {Name: "replacement", Weight: *pct}}
		}
		return nil
	})
	return found, err
}

// deploymentShare is the replacement's share from the deployment's
// target (two calls), nil while it has no target yet, and for ECS the
// target groups its task sets serve.
func (s *Scanner) deploymentShare(ctx context.Context, id string, platform cdtypes.ComputePlatform) (*float64, []string, error) {
	ids, err := s.cd.ListDeploymentTargets(ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: awssdk.String(id)})
	if err != nil {
		return nil, nil, fmt.Errorf("scan %s: list targets of deployment %s: %w", s.region, id, err)
	}
	if len(ids.TargetIds) == 0 {
		return nil, nil, nil
	}
	out, err := s.cd.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{DeploymentId: awssdk.String(id), TargetIds: ids.TargetIds[:1]})
	if err != nil {
		return nil, nil, fmt.Errorf("scan %s: get targets of deployment %s: %w", s.region, id, err)
	}
	if len(out.DeploymentTargets) == 0 {
		return nil, nil, nil
	}
	target := out.DeploymentTargets[0]
	var tgs []string
	if target.EcsTarget != nil {
		for _, ts := range target.EcsTarget.TaskSetsInfo {
			if ts.TargetGroup != nil && awssdk.ToString(ts.TargetGroup.Name) != "" {
				tgs = append(tgs, awssdk.ToString(ts.TargetGroup.Name))
			}
		}
	}
	pct, err := targetCanaryPercent(platform, target)
	if err != nil {
		return nil, tgs, nil // not shifting yet: say nothing rather than guess
	}
	return &pct, tgs, nil
}

// lastChange is when a found canary's split last changed by this
// machine's audit log: the newest entry for it that moved traffic or saw
// it move; zero when the log says nothing.
func lastChange(entries []model.AuditEntry, id string) time.Time {
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Target != id {
			continue
		}
		moved := e.Phase == model.PhaseOutcome && e.Outcome == model.OutcomeOK && e.From != nil && e.To != nil && *e.From != *e.To
		if moved || e.Action == "drift" || (e.Phase == model.PhaseEvent && e.Action == "shift") {
			return e.Time
		}
	}
	return time.Time{}
}

// WithHistory fills in when each canary's split last changed, where this
// machine's audit log knows it.
func WithHistory(found []model.Found, entries []model.AuditEntry) []model.Found {
	for i := range found {
		if t := lastChange(entries, found[i].ID); !t.IsZero() && t.After(found[i].Changed) {
			found[i].Changed = t
		}
	}
	return found
}
