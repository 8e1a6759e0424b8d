package aws

import (
	"errors"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/perch-dev/perch/model"
)

func TestMotoALBRuleResolveReadWrite(t *testing.T) {
	f := newALBFixture(t, 2)
	ruleARN := f.rule(t, 10, f.weighted([]int{0, 1}, []int32{90, 10}, 300))
	cfg := motoConfig(t)
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: ruleARN})
	if err != nil {
		t.Fatal(err)
	}
	tg := r.Target()
	want := model.Target{
		Kind: model.KindALB, Name: tg.Name, Region: "us-east-1",
		LoadBalancerARN: f.lbARN, ListenerARN: f.listener, RuleARN: ruleARN,
		StableName: f.names[0], CanaryName: f.names[1], StableARN: f.tgs[0], CanaryARN: f.tgs[1],
		StickinessSeconds: 300,
		// moto's rule carries no marker and sits mid-rollout: a guess.
		CanarySource: model.CanaryGuessed, CanaryUnconfirmed: tg.CanaryUnconfirmed,
	}
	if tg != want || tg.CanaryUnconfirmed == "" {
		t.Fatalf("target\n got %+v\nwant %+v", tg, want)
	}
	if !strings.Contains(tg.Name, "rule 10") {
		t.Errorf("name %q does not name the rule priority", tg.Name)
	}
	checkReadWrite(t, r, f.tgs[0], f.tgs[1], 90, 10)

	// Stickiness survives a write: perch changes only weights.
	out, err := f.elb.DescribeRules(t.Context(), &elbv2.DescribeRulesInput{RuleArns: []string{ruleARN}})
	if err != nil {
		t.Fatal(err)
	}
	sc := out.Rules[0].Actions[0].ForwardConfig.TargetGroupStickinessConfig
	if sc == nil || !awssdk.ToBool(sc.Enabled) || awssdk.ToInt32(sc.DurationSeconds) != 300 {
		t.Fatalf("stickiness after write = %+v, want enabled 300s", sc)
	}
}

// checkReadWrite runs the same read / write / read-back sequence against
// any backend.
func checkReadWrite(t *testing.T, r *ALBRouter, stable, canary string, sw, cw int) {
	t.Helper()
	ctx := t.Context()
	got, err := r.ReadSplit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (model.Split{StableID: stable, CanaryID: canary, StableWeight: sw, CanaryWeight: cw}); got != want {
		t.Fatalf("read split = %+v, want %+v", got, want)
	}
	for _, w := range [][2]int{{50, 50}, {0, 100}, {100, 0}, {999, 1}} {
		want := model.Split{StableID: stable, CanaryID: canary, StableWeight: w[0], CanaryWeight: w[1]}
		if err := r.WriteSplit(ctx, want); err != nil {
			t.Fatalf("write %v: %v", w, err)
		}
		got, err := r.ReadSplit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("after writing %v read back %+v", w, got)
		}
	}
	// A split for other groups is refused and nothing is written.
	bad := model.Split{StableID: canary, CanaryID: stable, StableWeight: 1, CanaryWeight: 1}
	if err := r.WriteSplit(ctx, bad); err == nil || !strings.Contains(err.Error(), "not this rule's") {
		t.Fatalf("write with swapped IDs: err = %v", err)
	}
	for _, w := range [][2]int{{1000, 0}, {-1, 5}, {0, 0}} {
		if err := r.WriteSplit(ctx, model.Split{StableID: stable, CanaryID: canary, StableWeight: w[0], CanaryWeight: w[1]}); err == nil {
			t.Fatalf("write %v accepted", w)
		}
	}
	got, err = r.ReadSplit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.StableWeight != 999 || got.CanaryWeight != 1 {
		t.Fatalf("refused writes changed the split: %+v", got)
	}
}

func TestMotoALBDefaultRuleViaListener(t *testing.T) {
	f := newALBFixture(t, 2)
	f.setDefault(t, f.weighted([]int{0, 1}, []int32{75, 25}, 0))
	r, err := NewALBRouter(t.Context(), motoConfig(t), ALBOptions{ListenerARN: f.listener})
	if err != nil {
		t.Fatal(err)
	}
	tg := r.Target()
	if !tg.DefaultRule || tg.ListenerARN != f.listener || tg.RuleARN != "" || tg.LoadBalancerARN != f.lbARN {
		t.Fatalf("target = %+v", tg)
	}
	if tg.StickinessSeconds != 0 {
		t.Fatalf("stickiness = %d, want off", tg.StickinessSeconds)
	}
	checkReadWrite(t, r, f.tgs[0], f.tgs[1], 75, 25)
}

func TestMotoALBDefaultRuleByRuleARN(t *testing.T) {
	f := newALBFixture(t, 2)
	f.setDefault(t, f.weighted([]int{0, 1}, []int32{5, 95}, 0))
	rules, err := f.elb.DescribeRules(t.Context(), &elbv2.DescribeRulesInput{ListenerArn: awssdk.String(f.listener)})
	if err != nil {
		t.Fatal(err)
	}
	var defARN string
	for _, ru := range rules.Rules {
		if awssdk.ToBool(ru.IsDefault) {
			defARN = awssdk.ToString(ru.RuleArn)
		}
	}
	if defARN == "" {
		t.Fatal("moto listed no default rule")
	}
	r, err := NewALBRouter(t.Context(), motoConfig(t), ALBOptions{RuleARN: defARN})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Target().DefaultRule {
		t.Fatalf("target = %+v, want default rule", r.Target())
	}
	// The canary is the lower weight: group 1 here is the stable side.
	checkReadWrite(t, r, f.tgs[1], f.tgs[0], 95, 5)
}

func TestMotoALBRejectsShapes(t *testing.T) {
	f := newALBFixture(t, 3)
	one := f.rule(t, 1, f.weighted([]int{0}, []int32{1}, 0))
	legacy := f.rule(t, 2, elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: awssdk.String(f.tgs[0])})
	three := f.rule(t, 3, f.weighted([]int{0, 1, 2}, []int32{80, 10, 10}, 0))
	cases := []struct {
		name string
		o    ALBOptions
		want string
	}{
		{"one group", ALBOptions{RuleARN: one}, "forwards to 1 target group; perch needs exactly two (stable and canary)"},
		{"legacy single group", ALBOptions{RuleARN: legacy}, "forwards to 1 target group;"},
		{"three groups", ALBOptions{RuleARN: three}, "forwards to 3 target groups;"},
		{"fixed-response default", ALBOptions{ListenerARN: f.listener}, "default action is fixed-response, not a forward"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewALBRouter(t.Context(), motoConfig(t), c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestMotoALBCanaryChoice(t *testing.T) {
	f := newALBFixture(t, 2)
	equal := f.rule(t, 1, f.weighted([]int{0, 1}, []int32{50, 50}, 0))
	cfg := motoConfig(t)

	// Equal weights and no fact: the router opens on a guess that says so;
	// the engine refuses every write until the operator confirms.
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: equal})
	if err != nil {
		t.Fatal(err)
	}
	if tg := r.Target(); tg.CanarySource != model.CanaryGuessed || !strings.Contains(tg.CanaryUnconfirmed, "guess") {
		t.Fatalf("equal weights: target = %+v, want a guess", tg)
	}
	for _, pick := range []string{f.names[0], f.tgs[0]} {
		r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: equal, CanaryTargetGroup: pick})
		if err != nil {
			t.Fatal(err)
		}
		if tg := r.Target(); tg.CanaryARN != f.tgs[0] || tg.CanaryName != f.names[0] || tg.StableARN != f.tgs[1] {
			t.Fatalf("canary %q: target = %+v", pick, tg)
		}
	}
	_, err = NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: equal, CanaryTargetGroup: "nope"})
	if err == nil || !strings.Contains(err.Error(), f.names[0]) || !strings.Contains(err.Error(), f.names[1]) {
		t.Fatalf("unknown canary: err = %v, want both names listed", err)
	}
}

func TestMotoALBNotFound(t *testing.T) {
	f := newALBFixture(t, 2)
	missing := strings.Replace(f.listener, ":listener/", ":listener-rule/", 1) + "/0123456789abcdef"
	_, err := NewALBRouter(t.Context(), motoConfig(t), ALBOptions{RuleARN: missing})
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Kind != "rule" || nf.ID != missing {
		t.Fatalf("err = %v, want rule NotFoundError", err)
	}
	if got := DescribeError(err); got != "rule not found: "+missing {
		t.Fatalf("DescribeError = %q", got)
	}
	missingLis := f.listener[:len(f.listener)-4] + "ffff"
	_, err = NewALBRouter(t.Context(), motoConfig(t), ALBOptions{ListenerARN: missingLis})
	if !errors.As(err, &nf) || nf.Kind != "listener" {
		t.Fatalf("err = %v, want listener NotFoundError", err)
	}
}

func TestMotoALBRuleChangedUnderneath(t *testing.T) {
	f := newALBFixture(t, 3)
	ruleARN := f.rule(t, 5, f.weighted([]int{0, 1}, []int32{90, 10}, 0))
	r, err := NewALBRouter(t.Context(), motoConfig(t), ALBOptions{RuleARN: ruleARN})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.elb.ModifyRule(t.Context(), &elbv2.ModifyRuleInput{RuleArn: awssdk.String(ruleARN),
		Actions: []elbtypes.Action{f.weighted([]int{0, 2}, []int32{90, 10}, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadSplit(t.Context()); err == nil || !strings.Contains(err.Error(), "no longer forwards") {
		t.Fatalf("err = %v", err)
	}
}

func TestMotoCallerIdentity(t *testing.T) {
	id, err := NewIdentity(motoConfig(t)).CallerIdentity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if id.Account != "123456789012" || !strings.HasPrefix(id.ARN, "arn:aws:") || id.UserID == "" {
		t.Fatalf("identity = %+v", id)
	}
}

func TestMotoALBHealth(t *testing.T) {
	f := newALBFixture(t, 2)
	ruleARN := f.rule(t, 9, f.weighted([]int{0, 1}, []int32{90, 10}, 0))
	register := func(tg string, ips ...string) {
		var targets []elbtypes.TargetDescription
		for _, ip := range ips {
			targets = append(targets, elbtypes.TargetDescription{Id: awssdk.String(ip), Port: awssdk.Int32(80)})
		}
		if _, err := f.elb.RegisterTargets(t.Context(), &elbv2.RegisterTargetsInput{TargetGroupArn: awssdk.String(tg), Targets: targets}); err != nil {
			t.Fatal(err)
		}
	}
	register(f.tgs[0], "10.0.0.10", "10.0.0.11", "10.0.1.12")
	register(f.tgs[1], "10.0.0.20")
	r, err := NewALBRouter(t.Context(), motoConfig(t), ALBOptions{RuleARN: ruleARN})
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.Health(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("moto health: %+v", h)
	if h[model.Stable].Total() != 3 || h[model.Canary].Total() != 1 {
		t.Fatalf("health = %+v, want 3 stable and 1 canary targets", h)
	}
}
