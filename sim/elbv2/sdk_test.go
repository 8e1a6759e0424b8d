package elbv2_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

func newELB(t *testing.T, scenario string) (*simtest.Env, *elb.Client) {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: scenario})
	return env, elb.NewFromConfig(env.AWS, func(o *elb.Options) { o.RetryMaxAttempts = 1 })
}

func weightsOf(t *testing.T, a types.Action) map[string]int32 {
	t.Helper()
	if a.ForwardConfig == nil {
		t.Fatalf("action %s has no ForwardConfig", a.Type)
	}
	out := map[string]int32{}
	for _, g := range a.ForwardConfig.TargetGroups {
		out[aws.ToString(g.TargetGroupArn)] = aws.ToInt32(g.Weight)
	}
	return out
}

func forward(weights map[string]int32) []types.Action {
	var tgs []types.TargetGroupTuple
	for _, arn := range sortedKeys(weights) {
		tgs = append(tgs, types.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(weights[arn])})
	}
	return []types.Action{{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{TargetGroups: tgs}}}
}

func sortedKeys(m map[string]int32) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestDescribeAndModifyRuleRoundTrip(t *testing.T) {
	env, c := newELB(t, "healthy")
	ctx := context.Background()
	tg := env.Target(t, "checkout")

	rules, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(tg.ListenerARN)})
	if err != nil {
		t.Fatalf("DescribeRules: %v", err)
	}
	if len(rules.Rules) != 2 {
		t.Fatalf("got %d rules, want the priority-10 rule and the default", len(rules.Rules))
	}
	r0, def := rules.Rules[0], rules.Rules[1]
	if aws.ToString(r0.RuleArn) != tg.RuleARN || aws.ToString(r0.Priority) != "10" || aws.ToBool(r0.IsDefault) {
		t.Errorf("first rule = %s prio %s default %v", aws.ToString(r0.RuleArn), aws.ToString(r0.Priority), aws.ToBool(r0.IsDefault))
	}
	if aws.ToString(def.Priority) != "default" || !aws.ToBool(def.IsDefault) || def.Actions[0].Type != types.ActionTypeEnumFixedResponse {
		t.Errorf("default rule = prio %s default %v type %s", aws.ToString(def.Priority), aws.ToBool(def.IsDefault), def.Actions[0].Type)
	}
	if got := def.Actions[0].FixedResponseConfig; got == nil || aws.ToString(got.StatusCode) != "404" {
		t.Errorf("default fixed response = %+v", got)
	}
	if len(r0.Conditions) != 1 || aws.ToString(r0.Conditions[0].Field) != "path-pattern" ||
		r0.Conditions[0].PathPatternConfig == nil || r0.Conditions[0].PathPatternConfig.Values[0] != "/*" {
		t.Errorf("conditions = %+v", r0.Conditions)
	}
	want := map[string]int32{tg.StableTargetGroupARN: 90, tg.CanaryTargetGroupARN: 10}
	if got := weightsOf(t, r0.Actions[0]); !equalWeights(got, want) {
		t.Errorf("initial weights = %v, want %v", got, want)
	}
	if sc := r0.Actions[0].ForwardConfig.TargetGroupStickinessConfig; sc == nil || aws.ToBool(sc.Enabled) {
		t.Errorf("stickiness = %+v, want present and disabled", sc)
	}

	// Shift to 75/25 with stickiness, as the captured form in aws-apis.md.
	acts := forward(map[string]int32{tg.StableTargetGroupARN: 75, tg.CanaryTargetGroupARN: 25})
	acts[0].ForwardConfig.TargetGroupStickinessConfig = &types.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(300)}
	mod, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN), Actions: acts})
	if err != nil {
		t.Fatalf("ModifyRule: %v", err)
	}
	want = map[string]int32{tg.StableTargetGroupARN: 75, tg.CanaryTargetGroupARN: 25}
	if got := weightsOf(t, mod.Rules[0].Actions[0]); !equalWeights(got, want) {
		t.Errorf("ModifyRule output weights = %v, want %v", got, want)
	}
	if len(mod.Rules[0].Conditions) != 1 {
		t.Errorf("ModifyRule dropped the conditions: %+v", mod.Rules[0].Conditions)
	}
	again, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}})
	if err != nil {
		t.Fatalf("DescribeRules by ARN: %v", err)
	}
	if got := weightsOf(t, again.Rules[0].Actions[0]); !equalWeights(got, want) {
		t.Errorf("read-back weights = %v, want %v", got, want)
	}
	sc := again.Rules[0].Actions[0].ForwardConfig.TargetGroupStickinessConfig
	if sc == nil || !aws.ToBool(sc.Enabled) || aws.ToInt32(sc.DurationSeconds) != 300 {
		t.Errorf("stickiness after modify = %+v", sc)
	}
	if w, _ := env.Sim.Weights(tg.RuleARN); w[tg.CanaryTargetGroupARN] != 25 {
		t.Errorf("Sim.Weights = %v", w)
	}

	// Weight 0 drains a side and must be sent and kept explicitly.
	if _, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN),
		Actions: forward(map[string]int32{tg.StableTargetGroupARN: 100, tg.CanaryTargetGroupARN: 0})}); err != nil {
		t.Fatalf("ModifyRule to 0: %v", err)
	}
	again, _ = c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}})
	if got := weightsOf(t, again.Rules[0].Actions[0]); got[tg.CanaryTargetGroupARN] != 0 || len(got) != 2 {
		t.Errorf("weights after draining = %v", got)
	}
}

func equalWeights(a, b map[string]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestLegacyTargetGroupArnForm(t *testing.T) {
	env, c := newELB(t, "healthy")
	ctx := context.Background()
	tg := env.Target(t, "checkout")

	out, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN), Actions: []types.Action{
		{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg.StableTargetGroupARN)},
	}})
	if err != nil {
		t.Fatalf("ModifyRule legacy: %v", err)
	}
	a := out.Rules[0].Actions[0]
	if aws.ToString(a.TargetGroupArn) != tg.StableTargetGroupARN {
		t.Errorf("legacy TargetGroupArn not echoed for a single group: %q", aws.ToString(a.TargetGroupArn))
	}
	if got := weightsOf(t, a); len(got) != 1 || got[tg.StableTargetGroupARN] != 1 {
		t.Errorf("single-group ForwardConfig = %v", got)
	}

	// Both forms: ForwardConfig must hold exactly that one group.
	_, err = c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN), Actions: []types.Action{{
		Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg.StableTargetGroupARN),
		ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{
			{TargetGroupArn: aws.String(tg.CanaryTargetGroupARN), Weight: aws.Int32(1)},
		}},
	}}})
	wantCode(t, err, "ValidationError")
}

// wantCode checks an API error's code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}

func TestModifyRuleErrorsAreTyped(t *testing.T) {
	env, c := newELB(t, "healthy")
	ctx := context.Background()
	tg := env.Target(t, "checkout")
	rules, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(tg.ListenerARN)})
	if err != nil {
		t.Fatal(err)
	}
	defaultARN := aws.ToString(rules.Rules[1].RuleArn)
	unknownRule := tg.RuleARN[:len(tg.RuleARN)-4] + "beef"
	unknownTG := tg.CanaryTargetGroupARN[:len(tg.CanaryTargetGroupARN)-4] + "beef"
	good := forward(map[string]int32{tg.StableTargetGroupARN: 50, tg.CanaryTargetGroupARN: 50})

	t.Run("default rule", func(t *testing.T) {
		_, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(defaultARN), Actions: good})
		var e *types.OperationNotPermittedException
		if !errors.As(err, &e) || !strings.Contains(e.ErrorMessage(), "Default rule") {
			t.Fatalf("err = %v, want OperationNotPermitted about the default rule", err)
		}
	})
	t.Run("unknown rule", func(t *testing.T) {
		_, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(unknownRule), Actions: good})
		var e *types.RuleNotFoundException
		if !errors.As(err, &e) || e.ErrorCode() != "RuleNotFound" {
			t.Fatalf("err = %v, want RuleNotFoundException", err)
		}
	})
	t.Run("malformed arn", func(t *testing.T) {
		_, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String("not-an-arn"), Actions: good})
		wantCode(t, err, "ValidationError")
	})
	t.Run("unknown target group", func(t *testing.T) {
		_, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN),
			Actions: forward(map[string]int32{tg.StableTargetGroupARN: 50, unknownTG: 50})})
		var e *types.TargetGroupNotFoundException
		if !errors.As(err, &e) {
			t.Fatalf("err = %v, want TargetGroupNotFoundException", err)
		}
	})
	t.Run("weight out of range", func(t *testing.T) {
		_, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN),
			Actions: forward(map[string]int32{tg.StableTargetGroupARN: 1000, tg.CanaryTargetGroupARN: 0})})
		wantCode(t, err, "ValidationError")
	})
	t.Run("six target groups", func(t *testing.T) {
		var tgs []types.TargetGroupTuple
		for range 6 {
			tgs = append(tgs, types.TargetGroupTuple{TargetGroupArn: aws.String(tg.StableTargetGroupARN), Weight: aws.Int32(1)})
		}
		_, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN), Actions: []types.Action{
			{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{TargetGroups: tgs}}}})
		wantCode(t, err, "ValidationError")
	})
	t.Run("terminal action not last", func(t *testing.T) {
		acts := []types.Action{
			{Type: types.ActionTypeEnumForward, Order: aws.Int32(1), TargetGroupArn: aws.String(tg.StableTargetGroupARN)},
			{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(2), AuthenticateOidcConfig: &types.AuthenticateOidcActionConfig{
				Issuer: aws.String("https://idp"), AuthorizationEndpoint: aws.String("https://idp/a"), TokenEndpoint: aws.String("https://idp/t"),
				UserInfoEndpoint: aws.String("https://idp/u"), ClientId: aws.String("c")}},
		}
		_, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN), Actions: acts})
		wantCode(t, err, "ValidationError")
	})
	// A failed write must leave the rule as it was.
	if w, _ := env.Sim.Weights(tg.RuleARN); w[tg.CanaryTargetGroupARN] != 10 || w[tg.StableTargetGroupARN] != 90 {
		t.Errorf("weights after failed writes = %v, want unchanged 90/10", w)
	}
}

func TestAuthenticateActionIsKept(t *testing.T) {
	env, c := newELB(t, "healthy")
	ctx := context.Background()
	tg := env.Target(t, "checkout")
	acts := []types.Action{
		{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1), AuthenticateOidcConfig: &types.AuthenticateOidcActionConfig{
			Issuer: aws.String("https://idp"), AuthorizationEndpoint: aws.String("https://idp/a"), TokenEndpoint: aws.String("https://idp/t"),
			UserInfoEndpoint: aws.String("https://idp/u"), ClientId: aws.String("client-1"),
			AuthenticationRequestExtraParams: map[string]string{"prompt": "login"}}},
		{Type: types.ActionTypeEnumForward, Order: aws.Int32(2), ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{
			{TargetGroupArn: aws.String(tg.StableTargetGroupARN), Weight: aws.Int32(60)},
			{TargetGroupArn: aws.String(tg.CanaryTargetGroupARN), Weight: aws.Int32(40)},
		}}},
	}
	if _, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN), Actions: acts}); err != nil {
		t.Fatalf("ModifyRule: %v", err)
	}
	out, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}})
	if err != nil {
		t.Fatal(err)
	}
	got := out.Rules[0].Actions
	if len(got) != 2 || got[0].Type != types.ActionTypeEnumAuthenticateOidc || aws.ToInt32(got[1].Order) != 2 {
		t.Fatalf("actions = %+v", got)
	}
	oidc := got[0].AuthenticateOidcConfig
	if oidc == nil || aws.ToString(oidc.ClientId) != "client-1" || oidc.AuthenticationRequestExtraParams["prompt"] != "login" {
		t.Errorf("oidc config not echoed: %+v", oidc)
	}
}

func TestDefaultRuleViaModifyListener(t *testing.T) {
	env, c := newELB(t, "bad-targets")
	ctx := context.Background()
	tg := env.Target(t, "edge")
	if !tg.DefaultRule {
		t.Fatalf("edge should be a default-rule canary: %+v", tg)
	}
	ls, err := c.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{tg.ListenerARN}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int32{tg.StableTargetGroupARN: 75, tg.CanaryTargetGroupARN: 25}
	if got := weightsOf(t, ls.Listeners[0].DefaultActions[0]); !equalWeights(got, want) {
		t.Errorf("default actions weights = %v, want %v", got, want)
	}
	sc := ls.Listeners[0].DefaultActions[0].ForwardConfig.TargetGroupStickinessConfig
	if !aws.ToBool(sc.Enabled) || aws.ToInt32(sc.DurationSeconds) != 300 {
		t.Errorf("stickiness = %+v, want 300 s", sc)
	}

	_, err = c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN), Actions: forward(want)})
	var onp *types.OperationNotPermittedException
	if !errors.As(err, &onp) {
		t.Fatalf("ModifyRule on default rule: err = %v", err)
	}
	want = map[string]int32{tg.StableTargetGroupARN: 50, tg.CanaryTargetGroupARN: 50}
	if _, err := c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(tg.ListenerARN), DefaultActions: forward(want)}); err != nil {
		t.Fatalf("ModifyListener: %v", err)
	}
	rules, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}})
	if err != nil {
		t.Fatal(err)
	}
	if got := weightsOf(t, rules.Rules[0].Actions[0]); !equalWeights(got, want) || !aws.ToBool(rules.Rules[0].IsDefault) {
		t.Errorf("default rule after ModifyListener = %v default=%v", got, aws.ToBool(rules.Rules[0].IsDefault))
	}

	_, err = c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(tg.ListenerARN[:len(tg.ListenerARN)-4] + "beef"), DefaultActions: forward(want)})
	var lnf *types.ListenerNotFoundException
	if !errors.As(err, &lnf) {
		t.Errorf("unknown listener: err = %v", err)
	}
}

func TestDescribeLoadBalancersListenersTargetGroupsHealth(t *testing.T) {
	env, c := newELB(t, "bad-targets")
	ctx := context.Background()
	edge := env.Target(t, "edge")

	lbs, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lbs.LoadBalancers) != 2 || lbs.LoadBalancers[0].Type != types.LoadBalancerTypeEnumApplication {
		t.Fatalf("load balancers = %+v", lbs.LoadBalancers)
	}
	_, err = c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{edge.LoadBalancerARN[:len(edge.LoadBalancerARN)-4] + "beef"}})
	var lbnf *types.LoadBalancerNotFoundException
	if !errors.As(err, &lbnf) {
		t.Errorf("unknown LB: err = %v", err)
	}

	ls, err := c.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(env.Target(t, "odd").LoadBalancerARN)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Listeners) != 2 {
		t.Errorf("odd has %d listeners, want 2 (port 80 and the fixed-response extra)", len(ls.Listeners))
	}
	_, err = c.DescribeListeners(ctx, &elb.DescribeListenersInput{})
	wantCode(t, err, "ValidationError")

	tgs, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{edge.CanaryTargetGroupARN}})
	if err != nil {
		t.Fatal(err)
	}
	g := tgs.TargetGroups[0]
	if aws.ToString(g.TargetGroupName) != "edge-canary" || len(g.LoadBalancerArns) != 1 || g.LoadBalancerArns[0] != edge.LoadBalancerARN {
		t.Errorf("target group = %+v", g)
	}
	byName, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"odd-extra"}})
	if err != nil || len(byName.TargetGroups) != 1 {
		t.Errorf("by name: %v %+v", err, byName)
	}
	_, err = c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"nope"}})
	var tgnf *types.TargetGroupNotFoundException
	if !errors.As(err, &tgnf) {
		t.Errorf("unknown TG name: err = %v", err)
	}

	h, err := c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(edge.CanaryTargetGroupARN)})
	if err != nil {
		t.Fatal(err)
	}
	states := map[types.TargetHealthStateEnum]int{}
	for _, d := range h.TargetHealthDescriptions {
		states[d.TargetHealth.State]++
		if !strings.HasPrefix(aws.ToString(d.Target.Id), "i-") || aws.ToInt32(d.Target.Port) != 8080 {
			t.Errorf("target = %+v", d.Target)
		}
		if d.TargetHealth.State == types.TargetHealthStateEnumUnhealthy && d.TargetHealth.Reason != types.TargetHealthReasonEnumFailedHealthChecks {
			t.Errorf("unhealthy reason = %s", d.TargetHealth.Reason)
		}
	}
	if states[types.TargetHealthStateEnumHealthy] != 1 || states[types.TargetHealthStateEnumUnhealthy] != 1 {
		t.Errorf("canary health = %v, want 1 healthy 1 unhealthy", states)
	}
	if err := env.Sim.SetTargetHealth(edge.CanaryTargetGroupARN, 0); err != nil {
		t.Fatal(err)
	}
	h, _ = c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(edge.CanaryTargetGroupARN)})
	for _, d := range h.TargetHealthDescriptions {
		if d.TargetHealth.State != types.TargetHealthStateEnumUnhealthy {
			t.Errorf("after SetTargetHealth(0): %s is %s", aws.ToString(d.Target.Id), d.TargetHealth.State)
		}
	}
}

func TestDescribeRulesArgumentsAndPaging(t *testing.T) {
	env, c := newELB(t, "bad-targets")
	ctx := context.Background()
	odd := env.Target(t, "odd")

	_, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{})
	wantCode(t, err, "ValidationError")
	_, err = c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(odd.ListenerARN), RuleArns: []string{odd.RuleARN}})
	wantCode(t, err, "ValidationError")

	var all []types.Rule
	p := elb.NewDescribeRulesPaginator(c, &elb.DescribeRulesInput{ListenerArn: aws.String(odd.ListenerARN), PageSize: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, out.Rules...)
	}
	var prios []string
	for _, r := range all {
		prios = append(prios, aws.ToString(r.Priority))
	}
	if got := strings.Join(prios, ","); got != "10,20,30,40,default" || pages != 3 {
		t.Errorf("priorities = %s over %d pages, want 10,20,30,40,default over 3", got, pages)
	}
	_, err = c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(odd.ListenerARN), Marker: aws.String("garbage!")})
	wantCode(t, err, "ValidationError")
}

func TestExtrasInManifest(t *testing.T) {
	env, c := newELB(t, "bad-targets")
	ctx := context.Background()
	single := env.Target(t, "odd-single-tg")
	out, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{single.RuleARN}})
	if err != nil {
		t.Fatal(err)
	}
	if got := weightsOf(t, out.Rules[0].Actions[0]); len(got) != 1 {
		t.Errorf("single-tg rule weights = %v", got)
	}
	three := env.Target(t, "odd-three-tg")
	out, _ = c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{three.RuleARN}})
	if got := weightsOf(t, out.Rules[0].Actions[0]); len(got) != 3 {
		t.Errorf("three-tg rule weights = %v", got)
	}
	fixed := env.Target(t, "odd-fixed-response")
	out, _ = c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(fixed.ListenerARN)})
	if len(out.Rules) != 1 || out.Rules[0].Actions[0].Type != types.ActionTypeEnumFixedResponse || aws.ToString(out.Rules[0].RuleArn) != fixed.RuleARN {
		t.Errorf("fixed-response listener rules = %+v", out.Rules)
	}
	red := env.Target(t, "odd-redirect")
	out, _ = c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{red.RuleARN}})
	if rc := out.Rules[0].Actions[0].RedirectConfig; rc == nil || rc.StatusCode != types.RedirectActionStatusCodeEnumHttp302 {
		t.Errorf("redirect = %+v", out.Rules[0].Actions[0])
	}
	for _, tg := range env.Manifest.Targets {
		if tg.Name != "odd" && tg.Name != "edge" && tg.Note == "" {
			t.Errorf("extra %s has no note", tg.Name)
		}
	}
}

func TestGetCallerIdentity(t *testing.T) {
	env := simtest.Start(t, simtest.Options{})
	c := sts.NewFromConfig(env.AWS)
	out, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Arn) != "arn:aws:sts::123456789012:assumed-role/perch-demo/operator" ||
		aws.ToString(out.Account) != "123456789012" ||
		!strings.HasPrefix(aws.ToString(out.UserId), "AROA") || !strings.HasSuffix(aws.ToString(out.UserId), ":operator") {
		t.Errorf("identity = %s %s %s", aws.ToString(out.Arn), aws.ToString(out.UserId), aws.ToString(out.Account))
	}

	env2 := simtest.Start(t, simtest.Options{Options: sim.Options{CallerARN: "arn:aws:iam::210987654321:user/alice"}})
	out, err = sts.NewFromConfig(env2.AWS).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != "210987654321" || !strings.HasPrefix(aws.ToString(out.UserId), "AIDA") {
		t.Errorf("configured identity = %s %s", aws.ToString(out.Account), aws.ToString(out.UserId))
	}
}

func TestSameSeedSameARNs(t *testing.T) {
	a := simtest.Start(t, simtest.Options{ScenarioName: "bad-targets"})
	b := simtest.Start(t, simtest.Options{ScenarioName: "bad-targets"})
	c := simtest.Start(t, simtest.Options{ScenarioName: "bad-targets", Options: sim.Options{Seed: 99}})
	for i := range a.Manifest.Targets {
		if !reflect.DeepEqual(a.Manifest.Targets[i], b.Manifest.Targets[i]) {
			t.Errorf("same seed, different target %d: %+v vs %+v", i, a.Manifest.Targets[i], b.Manifest.Targets[i])
		}
	}
	if a.Manifest.Targets[0].RuleARN == c.Manifest.Targets[0].RuleARN {
		t.Errorf("a different seed gave the same rule ARN")
	}
}
