package aws

import (
	"errors"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// AWS rejects ModifyRule on a default rule (OperationNotPermitted), which
// is why the router writes default rules with ModifyListener. Both test
// backends must agree, or a router bug there would go unnoticed.
func TestBackendsRejectModifyRuleOnDefault(t *testing.T) {
	check := func(t *testing.T, api *elbv2.Client, defaultRuleARN string, fwd elbtypes.Action) error {
		_, err := api.ModifyRule(t.Context(), &elbv2.ModifyRuleInput{RuleArn: awssdk.String(defaultRuleARN), Actions: []elbtypes.Action{fwd}})
		var op *elbtypes.OperationNotPermittedException
		if err == nil {
			return errors.New("accepted")
		}
		if !errors.As(err, &op) {
			return err
		}
		return nil
	}
	t.Run("sim", func(t *testing.T) {
		env, cfg := simEnv(t, "bad-targets")
		mt := simTarget(t, env, "edge")
		if err := check(t, elbv2.NewFromConfig(cfg), mt.RuleARN, elbtypes.Action{Type: elbtypes.ActionTypeEnumForward,
			ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: awssdk.String(mt.StableTargetGroupARN), Weight: awssdk.Int32(1)},
				{TargetGroupArn: awssdk.String(mt.CanaryTargetGroupARN), Weight: awssdk.Int32(1)}}}}); err != nil {
			t.Fatalf("ModifyRule on the default rule: err = %v, want OperationNotPermitted", err)
		}
	})
	t.Run("moto", func(t *testing.T) {
		f := newALBFixture(t, 2)
		rules, err := f.elb.DescribeRules(t.Context(), &elbv2.DescribeRulesInput{ListenerArn: awssdk.String(f.listener)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules.Rules {
			if awssdk.ToBool(r.IsDefault) {
				// Known deviation: moto 5.2.1 accepts this, where the
				// ModifyRule reference says "To modify the actions for the
				// default rule, use ModifyListener".
				if err := check(t, f.elb, awssdk.ToString(r.RuleArn), f.weighted([]int{0, 1}, []int32{1, 1}, 0)); err != nil {
					t.Skipf("moto deviates from AWS here: ModifyRule on a default rule: %v", err)
				}
			}
		}
	})
}
