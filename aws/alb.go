package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/perch-dev/perch/model"
)

type elbAPI interface {
	DescribeRules(ctx context.Context, in *elbv2.DescribeRulesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
	DescribeTags(ctx context.Context, in *elbv2.DescribeTagsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
	AddTags(ctx context.Context, in *elbv2.AddTagsInput, optFns ...func(*elbv2.Options)) (*elbv2.AddTagsOutput, error)
	RemoveTags(ctx context.Context, in *elbv2.RemoveTagsInput, optFns ...func(*elbv2.Options)) (*elbv2.RemoveTagsOutput, error)
	ModifyRule(ctx context.Context, in *elbv2.ModifyRuleInput, optFns ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error)
	ModifyListener(ctx context.Context, in *elbv2.ModifyListenerInput, optFns ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error)
}

// ALBOptions name the rule to drive. Exactly one of RuleARN and ListenerARN
// is set; a listener means its default rule.
type ALBOptions struct {
	RuleARN     string
	ListenerARN string
	// CanaryTargetGroup is an ARN or a name: the user's word on which side
	// is the canary. Empty: the rollout marker on the rule, History, or at
	// rest the side at 0%; failing those, a guess that refuses writes.
	CanaryTargetGroup string
	// History is what this machine's audit log says of the rule's canary.
	History *model.AuditCanary
}

// ALBRouter reads and writes the weights of a rule's two-group forward.
type ALBRouter struct {
	api    elbAPI
	target model.Target
	// where is the rule ARN, or the listener ARN for the default rule.
	where string
	// viaListener: read DescribeListeners and write ModifyListener, because
	// ModifyRule on a default rule is rejected (OperationNotPermitted).
	viaListener bool

	mu sync.Mutex
	// actions is the full action list from the last read: ModifyRule
	// replaces the list whole, so authenticate actions must be re-sent.
	actions []elbtypes.Action
}

// NewALBRouter validates the ARNs, resolves the rule, and works out which of
// its two target groups is the canary.
func NewALBRouter(ctx context.Context, cfg awssdk.Config, o ALBOptions) (*ALBRouter, error) {
	return newALBRouter(ctx, elbv2.NewFromConfig(cfg), cfg.Region, o)
}

func newALBRouter(ctx context.Context, api elbAPI, region string, o ALBOptions) (*ALBRouter, error) {
	if (o.RuleARN == "") == (o.ListenerARN == "") {
		return nil, errors.New("name exactly one of a listener rule ARN or a listener ARN")
	}
	r := &ALBRouter{api: api}
	var parsed elbARN
	var err error
	if o.RuleARN != "" {
		parsed, err = parseELBARN(o.RuleARN, "listener-rule")
	} else {
		parsed, err = parseELBARN(o.ListenerARN, "listener")
	}
	if err != nil {
		return nil, err
	}
	r.where = parsed.raw
	r.viaListener = o.ListenerARN != ""

	actions, isDefault, priority, err := r.describe(ctx)
	if err != nil {
		return nil, err
	}
	if isDefault && !r.viaListener {
		r.viaListener = true
		r.where = parsed.listenerARN
	}
	fwd, err := forwardOf(actions, r.describeWhat())
	if err != nil {
		return nil, err
	}
	tuples := forwardTuples(fwd)
	if len(tuples) != 2 {
		return nil, fmt.Errorf("%s forwards to %d target group%s; perch needs exactly two (stable and canary)",
			r.describeWhat(), len(tuples), plural(len(tuples)))
	}
	names, err := r.groupNames(ctx, tuples)
	if err != nil {
		return nil, err
	}
	facts := model.CanaryFacts{
		IDs:     [2]string{tuples[0].arn, tuples[1].arn},
		Names:   [2]string{names[0], names[1]},
		Weights: [2]int{tuples[0].weight, tuples[1].weight},
		Audit:   o.History,
	}
	if facts.Flag, err = flagSide(tuples, names, o.CanaryTargetGroup); err != nil {
		return nil, err
	}
	if m, ok, err := r.ReadMarker(ctx); err != nil {
		facts.MarkerErr = err.Error()
	} else if ok {
		facts.Marker = &m
	}
	sides := model.ResolveCanary(facts)
	ci := sides.Canary
	si := 1 - ci

	name := parsed.lbName + " rule " + priority
	if isDefault {
		name = parsed.lbName + " default rule"
	}
	r.target = model.Target{
		Kind:            model.KindALB,
		Name:            name,
		Region:          region,
		LoadBalancerARN: parsed.lbARN,
		ListenerARN:     parsed.listenerARN,
		DefaultRule:     isDefault,
		StableName:      names[si],
		CanaryName:      names[ci],
		StableARN:       tuples[si].arn,
		CanaryARN:       tuples[ci].arn,

		CanarySource:      sides.Source,
		CanaryUnconfirmed: sides.Unconfirmed,
	}
	if o.RuleARN != "" {
		r.target.RuleARN = o.RuleARN
	}
	if sc := fwd.ForwardConfig; sc != nil && sc.TargetGroupStickinessConfig != nil &&
		awssdk.ToBool(sc.TargetGroupStickinessConfig.Enabled) {
		r.target.StickinessSeconds = int(awssdk.ToInt32(sc.TargetGroupStickinessConfig.DurationSeconds))
	}
	r.actions = actions
	return r, nil
}

// Target describes the rule and its two sides.
func (r *ALBRouter) Target() model.Target {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.target
}

// ReadSplit re-describes the rule (never cached: the split is the thing
// most likely to be changed behind perch's back).
func (r *ALBRouter) ReadSplit(ctx context.Context) (model.Split, error) {
	actions, _, _, err := r.describe(ctx)
	if err != nil {
		return model.Split{}, err
	}
	split, err := r.splitOf(actions)
	if err != nil {
		return model.Split{}, err
	}
	r.mu.Lock()
	r.actions = actions
	r.mu.Unlock()
	return split, nil
}

func (r *ALBRouter) splitOf(actions []elbtypes.Action) (model.Split, error) {
	fwd, err := forwardOf(actions, r.describeWhat())
	if err != nil {
		return model.Split{}, err
	}
	t := r.Target()
	s := model.Split{StableID: t.StableARN, CanaryID: t.CanaryARN}
	var seenStable, seenCanary bool
	tuples := forwardTuples(fwd)
	for _, t := range tuples {
		switch t.arn {
		case s.StableID:
			s.StableWeight, seenStable = t.weight, true
		case s.CanaryID:
			s.CanaryWeight, seenCanary = t.weight, true
		}
	}
	if len(tuples) != 2 || !seenStable || !seenCanary {
		return model.Split{}, fmt.Errorf("%s no longer forwards to exactly %s and %s (now: %s)",
			r.describeWhat(), t.StableName, t.CanaryName, tupleList(tuples))
	}
	return s, nil
}

// WriteSplit sends the last-read action list with only the forward's
// weights changed. ALB has no compare-and-set: the engine re-reads first.
func (r *ALBRouter) WriteSplit(ctx context.Context, want model.Split) error {
	if t := r.Target(); want.StableID != t.StableARN || want.CanaryID != t.CanaryARN {
		return fmt.Errorf("write split to %s: target groups %s/%s are not this rule's %s/%s",
			r.where, want.StableID, want.CanaryID, t.StableARN, t.CanaryARN)
	}
	for _, w := range []int{want.StableWeight, want.CanaryWeight} {
		if w < 0 || w > 999 {
			return fmt.Errorf("write split to %s: weight %d outside 0-999", r.where, w)
		}
	}
	if want.StableWeight+want.CanaryWeight == 0 {
		return fmt.Errorf("write split to %s: both weights 0 would send no traffic anywhere", r.where)
	}
	r.mu.Lock()
	last := r.actions
	r.mu.Unlock()
	if last == nil {
		if _, err := r.ReadSplit(ctx); err != nil {
			return err
		}
		r.mu.Lock()
		last = r.actions
		r.mu.Unlock()
	}
	actions, err := r.withWeights(last, want)
	if err != nil {
		return err
	}
	if r.viaListener {
		_, err = r.api.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: awssdk.String(r.where), DefaultActions: actions})
		if err != nil {
			return fmt.Errorf("modify listener %s: %w", r.where, wrapNotFound(err, "listener", r.where))
		}
		return nil
	}
	_, err = r.api.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: awssdk.String(r.where), Actions: actions})
	if err != nil {
		return fmt.Errorf("modify rule %s: %w", r.where, wrapNotFound(err, "rule", r.where))
	}
	return nil
}

// withWeights copies the action list, rewriting only the forward.
func (r *ALBRouter) withWeights(last []elbtypes.Action, want model.Split) ([]elbtypes.Action, error) {
	fi := terminalIndex(last)
	if fi < 0 || last[fi].Type != elbtypes.ActionTypeEnumForward {
		return nil, fmt.Errorf("write split to %s: last read has no forward action", r.where)
	}
	out := make([]elbtypes.Action, len(last))
	copy(out, last)
	for i := range out {
		if oc := out[i].AuthenticateOidcConfig; oc != nil && oc.ClientSecret == nil {
			// Describe never returns the secret; without this flag the
			// re-sent action would be rejected for lacking one.
			c := *oc
			c.UseExistingClientSecret = awssdk.Bool(true)
			out[i].AuthenticateOidcConfig = &c
		}
	}
	// Keep the groups in the order AWS returned them, so a diff of the
	// rule shows only weight changes.
	var tgs []elbtypes.TargetGroupTuple
	for _, t := range forwardTuples(last[fi]) {
		var w int
		switch t.arn {
		case want.StableID:
			w = want.StableWeight
		case want.CanaryID:
			w = want.CanaryWeight
		default:
			return nil, fmt.Errorf("write split to %s: last read forwards to %s, which is neither side", r.where, t.arn)
		}
		tgs = append(tgs, elbtypes.TargetGroupTuple{TargetGroupArn: awssdk.String(t.arn), Weight: awssdk.Int32(int32(w))})
	}
	fc := &elbtypes.ForwardActionConfig{TargetGroups: tgs}
	if old := last[fi].ForwardConfig; old != nil && old.TargetGroupStickinessConfig != nil {
		sc := *old.TargetGroupStickinessConfig
		fc.TargetGroupStickinessConfig = &sc
	}
	out[fi] = elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, Order: last[fi].Order, ForwardConfig: fc}
	return out, nil
}

// Health counts each side's registered targets by state.
func (r *ALBRouter) Health(ctx context.Context) ([2]model.Health, error) {
	var out [2]model.Health
	t := r.Target()
	for i, arn := range [2]string{t.StableARN, t.CanaryARN} {
		res, err := r.api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(arn)})
		if err != nil {
			return out, fmt.Errorf("describe target health %s: %w", arn, wrapNotFound(err, "target group", arn))
		}
		for _, d := range res.TargetHealthDescriptions {
			if d.TargetHealth == nil {
				out[i].Other++
				continue
			}
			switch d.TargetHealth.State {
			case elbtypes.TargetHealthStateEnumHealthy:
				out[i].Healthy++
			case elbtypes.TargetHealthStateEnumUnhealthy:
				out[i].Unhealthy++
			default:
				// initial, draining, unhealthy.draining (leaving anyway),
				// unused, unavailable: registered but not serving.
				out[i].Other++
			}
		}
	}
	return out, nil
}

// BatchNeeds is the rule a fleet poll reads for this router in a shared
// DescribeRules; a listener's default action is read on its own.
func (r *ALBRouter) BatchNeeds() BatchNeeds {
	if r.viaListener {
		return BatchNeeds{}
	}
	return BatchNeeds{RuleARN: r.where}
}

// describe fetches the current action list, from the poll's batch when
// it has the rule.
func (r *ALBRouter) describe(ctx context.Context) (actions []elbtypes.Action, isDefault bool, priority string, err error) {
	if r.viaListener {
		out, err := r.api.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{r.where}})
		if err != nil {
			return nil, false, "", fmt.Errorf("describe listener %s: %w", r.where, wrapNotFound(err, "listener", r.where))
		}
		if len(out.Listeners) != 1 {
			return nil, false, "", &NotFoundError{Kind: "listener", ID: r.where}
		}
		return out.Listeners[0].DefaultActions, true, "default", nil
	}
	if rule, err, ok := batchedRule(ctx, r.where); ok {
		if err != nil {
			return nil, false, "", fmt.Errorf("describe rule %s: %w", r.where, err)
		}
		return rule.Actions, awssdk.ToBool(rule.IsDefault), awssdk.ToString(rule.Priority), nil
	}
	out, err := r.api.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{r.where}})
	if err != nil {
		return nil, false, "", fmt.Errorf("describe rule %s: %w", r.where, wrapNotFound(err, "rule", r.where))
	}
	if len(out.Rules) != 1 {
		return nil, false, "", &NotFoundError{Kind: "rule", ID: r.where}
	}
	rule := out.Rules[0]
	return rule.Actions, awssdk.ToBool(rule.IsDefault), awssdk.ToString(rule.Priority), nil
}

func (r *ALBRouter) describeWhat() string {
	if r.viaListener {
		return "listener " + r.where + " default action"
	}
	return "rule " + r.where
}

// groupNames looks the two groups up, both for display and so a
// --canary-target-group given as a name can be matched.
func (r *ALBRouter) groupNames(ctx context.Context, tuples []tgWeight) ([]string, error) {
	arns := make([]string, len(tuples))
	for i, t := range tuples {
		arns[i] = t.arn
	}
	if names, ok := batchedGroupNames(ctx, arns); ok {
		return names, nil
	}
	out, err := r.api.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: arns})
	if err != nil {
		return nil, fmt.Errorf("describe target groups %s: %w", strings.Join(arns, ", "), wrapNotFound(err, "target group", strings.Join(arns, ", ")))
	}
	byARN := map[string]string{}
	for _, g := range out.TargetGroups {
		byARN[awssdk.ToString(g.TargetGroupArn)] = awssdk.ToString(g.TargetGroupName)
	}
	names := make([]string, len(arns))
	for i, a := range arns {
		names[i] = byARN[a]
		if names[i] == "" {
			names[i] = tgNameFromARN(a)
		}
	}
	return names, nil
}

type tgWeight struct {
	arn    string
	weight int
}

// forwardTuples reads both the weighted ForwardConfig form and the legacy
// single TargetGroupArn form.
func forwardTuples(a elbtypes.Action) []tgWeight {
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		out := make([]tgWeight, 0, len(a.ForwardConfig.TargetGroups))
		for _, t := range a.ForwardConfig.TargetGroups {
			w := 1 // AWS's default when a weight is omitted
			if t.Weight != nil {
				w = int(*t.Weight)
			}
			out = append(out, tgWeight{arn: awssdk.ToString(t.TargetGroupArn), weight: w})
		}
		return out
	}
	if a.TargetGroupArn != nil {
		return []tgWeight{{arn: *a.TargetGroupArn, weight: 1}}
	}
	return nil
}

// terminalIndex finds the action that ends the rule (forward, redirect or
// fixed-response): the one with the highest Order, since AWS applies
// actions in Order and the terminal one must come last.
func terminalIndex(actions []elbtypes.Action) int {
	idx := make([]int, len(actions))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return orderOf(actions[idx[a]], idx[a]) < orderOf(actions[idx[b]], idx[b])
	})
	for k := len(idx) - 1; k >= 0; k-- {
		switch actions[idx[k]].Type {
		case elbtypes.ActionTypeEnumForward, elbtypes.ActionTypeEnumRedirect, elbtypes.ActionTypeEnumFixedResponse:
			return idx[k]
		}
	}
	return -1
}

func orderOf(a elbtypes.Action, pos int) int {
	if a.Order != nil {
		return int(*a.Order)
	}
	// Unordered actions keep their list position, after ordered ones
	// (AWS assigns 1..n in list order when Order is omitted).
	return 50001 + pos
}

func forwardOf(actions []elbtypes.Action, what string) (elbtypes.Action, error) {
	i := terminalIndex(actions)
	if i < 0 {
		return elbtypes.Action{}, fmt.Errorf("%s has no forward action", what)
	}
	if actions[i].Type != elbtypes.ActionTypeEnumForward {
		if strings.HasPrefix(what, "rule ") {
			what += " action"
		}
		return elbtypes.Action{}, fmt.Errorf("%s is %s, not a forward", what, actions[i].Type)
	}
	return actions[i], nil
}

// flagSide resolves --canary-target-group (an ARN or a name) to one of
// the rule's target group ARNs; "" when the flag is not given.
func flagSide(tuples []tgWeight, names []string, want string) (string, error) {
	if want == "" {
		return "", nil
	}
	for i, t := range tuples {
		if t.arn == want || names[i] == want {
			return t.arn, nil
		}
	}
	return "", fmt.Errorf("canary target group %q is not one of this rule's groups: %s (%s), %s (%s)",
		want, names[0], tuples[0].arn, names[1], tuples[1].arn)
}

func tupleList(ts []tgWeight) string {
	if len(ts) == 0 {
		return "no target groups"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s=%d", t.arn, t.weight)
	}
	return strings.Join(parts, ", ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
