package aws

import (
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/perch-dev/perch/model"
)

const (
	testRule     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/checkout/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	testListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/checkout/50dc6c495c0c9188/f2f7dc8efc522ab2"
	testLB       = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/checkout/50dc6c495c0c9188"
	testTG       = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-canary/73e2d6bc24d8a067"
)

func TestParseELBARN(t *testing.T) {
	a, err := parseELBARN(testRule, "listener-rule")
	if err != nil {
		t.Fatal(err)
	}
	if a.lbARN != testLB || a.listenerARN != testListener || a.lbName != "checkout" {
		t.Fatalf("parsed %+v", a)
	}
	if a, err = parseELBARN(testListener, "listener"); err != nil || a.lbARN != testLB || a.listenerARN != testListener {
		t.Fatalf("listener: %+v %v", a, err)
	}
	bad := []struct{ arn, kind, want string }{
		{"not-an-arn", "listener-rule", "malformed"},
		{testListener, "listener-rule", "is a listener ARN, not a listener-rule ARN"},
		{testRule, "listener", "is a listener-rule ARN, not a listener ARN"},
		{testTG, "listener", "is a targetgroup ARN"},
		{strings.Replace(testListener, "elasticloadbalancing", "ec2", 1), "listener", "not elasticloadbalancing"},
		{strings.Replace(testListener, "/app/", "/net/", 1), "listener", "malformed"},
		{testListener + "/extra", "listener", "malformed"},
		{strings.Replace(testRule, "/9683b2d02a6cabee", "/", 1), "listener-rule", "empty path segment"},
	}
	for _, b := range bad {
		if _, err := parseELBARN(b.arn, b.kind); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s as %s: err = %v, want %q", b.arn, b.kind, err, b.want)
		}
	}
}

func TestNewALBRouterValidatesBeforeCalling(t *testing.T) {
	// A nil API would panic if any call were made.
	for _, o := range []ALBOptions{{}, {RuleARN: testRule, ListenerARN: testListener}, {RuleARN: "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/x"}} {
		if _, err := newALBRouter(t.Context(), nil, "us-east-1", o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func TestDimensions(t *testing.T) {
	if got := lbDimension(testLB); got != "app/checkout/50dc6c495c0c9188" {
		t.Errorf("lb dim %q", got)
	}
	if got := tgDimension(testTG); got != "targetgroup/checkout-canary/73e2d6bc24d8a067" {
		t.Errorf("tg dim %q", got)
	}
	if got := tgNameFromARN(testTG); got != "checkout-canary" {
		t.Errorf("tg name %q", got)
	}
}

func TestTerminalIndexByOrder(t *testing.T) {
	fwd := elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, Order: awssdk.Int32(2)}
	auth := elbtypes.Action{Type: elbtypes.ActionTypeEnumAuthenticateOidc, Order: awssdk.Int32(1)}
	if i := terminalIndex([]elbtypes.Action{fwd, auth}); i != 0 {
		t.Fatalf("terminal = %d", i)
	}
	if i := terminalIndex([]elbtypes.Action{auth}); i != -1 {
		t.Fatalf("auth only: terminal = %d", i)
	}
}

// The write keeps every other action, with its Order, and re-sends an OIDC
// action so AWS reuses the stored secret it never returns.
func TestWithWeightsKeepsOtherActions(t *testing.T) {
	stable, canary := testTG+"s", testTG
	last := []elbtypes.Action{
		{Type: elbtypes.ActionTypeEnumAuthenticateOidc, Order: awssdk.Int32(1),
			AuthenticateOidcConfig: &elbtypes.AuthenticateOidcActionConfig{ClientId: awssdk.String("c"), Issuer: awssdk.String("https://idp")}},
		{Type: elbtypes.ActionTypeEnumForward, Order: awssdk.Int32(2), TargetGroupArn: awssdk.String(stable),
			ForwardConfig: &elbtypes.ForwardActionConfig{
				TargetGroups: []elbtypes.TargetGroupTuple{
					{TargetGroupArn: awssdk.String(canary), Weight: awssdk.Int32(10)},
					{TargetGroupArn: awssdk.String(stable), Weight: awssdk.Int32(90)}},
				TargetGroupStickinessConfig: &elbtypes.TargetGroupStickinessConfig{Enabled: awssdk.Bool(true), DurationSeconds: awssdk.Int32(60)},
			}},
	}
	r := &ALBRouter{where: testRule}
	out, err := r.withWeights(last, model.Split{StableID: stable, CanaryID: canary, StableWeight: 100, CanaryWeight: 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Type != elbtypes.ActionTypeEnumAuthenticateOidc || awssdk.ToInt32(out[0].Order) != 1 {
		t.Fatalf("auth action lost: %+v", out)
	}
	if !awssdk.ToBool(out[0].AuthenticateOidcConfig.UseExistingClientSecret) {
		t.Error("UseExistingClientSecret not set")
	}
	if last[0].AuthenticateOidcConfig.UseExistingClientSecret != nil {
		t.Error("last read mutated")
	}
	f := out[1]
	if f.TargetGroupArn != nil || awssdk.ToInt32(f.Order) != 2 {
		t.Errorf("forward: legacy arn %v, order %v", f.TargetGroupArn, f.Order)
	}
	tgs := f.ForwardConfig.TargetGroups
	if awssdk.ToString(tgs[0].TargetGroupArn) != canary || tgs[0].Weight == nil || *tgs[0].Weight != 0 ||
		awssdk.ToString(tgs[1].TargetGroupArn) != stable || awssdk.ToInt32(tgs[1].Weight) != 100 {
		t.Errorf("groups = %+v", tgs)
	}
	if sc := f.ForwardConfig.TargetGroupStickinessConfig; sc == nil || awssdk.ToInt32(sc.DurationSeconds) != 60 {
		t.Errorf("stickiness = %+v", sc)
	}
}

func TestMotoALBKeepsAuthAction(t *testing.T) {
	f := newALBFixture(t, 2)
	auth := elbtypes.Action{Type: elbtypes.ActionTypeEnumAuthenticateOidc, Order: awssdk.Int32(1),
		AuthenticateOidcConfig: &elbtypes.AuthenticateOidcActionConfig{
			ClientId: awssdk.String("perch"), ClientSecret: awssdk.String("s3cret"), Issuer: awssdk.String("https://idp.example"),
			AuthorizationEndpoint: awssdk.String("https://idp.example/auth"), TokenEndpoint: awssdk.String("https://idp.example/token"),
			UserInfoEndpoint: awssdk.String("https://idp.example/userinfo")}}
	fwd := f.weighted([]int{0, 1}, []int32{90, 10}, 0)
	fwd.Order = awssdk.Int32(2)
	ruleARN := f.rule(t, 7, auth, fwd)
	r, err := NewALBRouter(t.Context(), motoConfig(t), ALBOptions{RuleARN: ruleARN})
	if err != nil {
		t.Fatal(err)
	}
	checkReadWrite(t, r, f.tgs[0], f.tgs[1], 90, 10)
	out, err := f.elb.DescribeRules(t.Context(), &elbv2.DescribeRulesInput{RuleArns: []string{ruleARN}})
	if err != nil {
		t.Fatal(err)
	}
	acts := out.Rules[0].Actions
	if len(acts) != 2 {
		t.Fatalf("actions after writes: %+v", acts)
	}
	var sawAuth bool
	for _, a := range acts {
		if a.Type == elbtypes.ActionTypeEnumAuthenticateOidc {
			sawAuth = awssdk.ToInt32(a.Order) == 1 && awssdk.ToString(a.AuthenticateOidcConfig.ClientId) == "perch"
		}
	}
	if !sawAuth {
		t.Fatalf("auth action not kept with its order: %+v", acts)
	}
}
