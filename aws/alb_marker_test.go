package aws

import (
	"errors"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/perch-dev/perch/model"
)

// checkCanaryFacts runs the same "which side is the canary" sequence
// against any backend: a rule forwarding to a (the side that starts
// stable) and b, at 90/10.
func checkCanaryFacts(t *testing.T, cfg awssdk.Config, where ALBOptions, a, b string) {
	t.Helper()
	ctx := t.Context()
	open := func(o ALBOptions) *ALBRouter {
		t.Helper()
		o.RuleARN, o.ListenerARN = where.RuleARN, where.ListenerARN
		r, err := NewALBRouter(ctx, cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	write := func(r *ALBRouter, canaryPct int) {
		t.Helper()
		s, err := r.ReadSplit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.WriteSplit(ctx, s.WithCanaryPercent(float64(canaryPct))); err != nil {
			t.Fatal(err)
		}
	}

	// Told by the user: b is the canary; it goes to 75%, past stable.
	r := open(ALBOptions{CanaryTargetGroup: b})
	if tg := r.Target(); tg.CanaryARN != b || tg.CanarySource != model.CanaryFromFlag || tg.CanaryUnconfirmed != "" {
		t.Fatalf("with the flag: %+v", tg)
	}
	write(r, 75)
	started := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	if err := r.WriteMarker(ctx, model.RolloutMarker{Canary: b, Stable: a, Started: started, By: "arn:aws:iam::123456789012:user/op"}); err != nil {
		t.Fatal(err)
	}
	m, ok, err := r.ReadMarker(ctx)
	if err != nil || !ok || m.Canary != b || m.Stable != a || !m.Started.Equal(started) || m.By != "arn:aws:iam::123456789012:user/op" {
		t.Fatalf("marker read back = %+v, %v, %v", m, ok, err)
	}

	// A fresh process with no flag: the marker, never the lower weight.
	fresh := open(ALBOptions{})
	if tg := fresh.Target(); tg.CanaryARN != b || tg.StableARN != a || tg.CanarySource != model.CanaryFromMarker || tg.CanaryUnconfirmed != "" {
		t.Fatalf("fresh router at 25/75 with the marker: %+v", tg)
	}
	// The user's word against the marker: not settled, and both named.
	if tg := open(ALBOptions{CanaryTargetGroup: a}).Target(); tg.CanaryUnconfirmed == "" ||
		!strings.Contains(tg.CanaryUnconfirmed, "flag") || !strings.Contains(tg.CanaryUnconfirmed, "marker") {
		t.Fatalf("flag against the marker: %+v", tg)
	}
	// An audit entry older than the marker's rollout is history.
	old := &model.AuditCanary{Canary: a, At: started.Add(-time.Hour), Active: true}
	if tg := open(ALBOptions{History: old}).Target(); tg.CanaryUnconfirmed != "" || tg.CanaryARN != b {
		t.Fatalf("older audit entry: %+v", tg)
	}
	// One newer than it that disagrees is a conflict.
	newer := &model.AuditCanary{Canary: a, At: started.Add(time.Hour), Active: true}
	if tg := open(ALBOptions{History: newer}).Target(); !strings.Contains(tg.CanaryUnconfirmed, "audit log") {
		t.Fatalf("newer audit entry against the marker: %+v", tg)
	}

	// No marker, no flag, no history, mid-rollout: a guess, marked.
	if err := r.ClearMarker(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := r.ReadMarker(ctx); ok || err != nil {
		t.Fatalf("marker after clear: %v %v", ok, err)
	}
	guess := open(ALBOptions{})
	if tg := guess.Target(); tg.CanarySource != model.CanaryGuessed || tg.CanaryUnconfirmed == "" || tg.CanaryARN != a {
		t.Fatalf("no facts at 25/75: %+v (want a guess of the lower weight, %s)", tg, a)
	}
	// The audit log recovers it on this machine.
	hist := &model.AuditCanary{Canary: b, At: started, Active: true}
	if tg := open(ALBOptions{History: hist}).Target(); tg.CanaryARN != b || tg.CanarySource != model.CanaryFromAudit || tg.CanaryUnconfirmed != "" {
		t.Fatalf("from the audit log: %+v", tg)
	}
	// The operator confirms the other side: the router turns round.
	if err := guess.ChooseCanary(b); err != nil {
		t.Fatal(err)
	}
	if tg := guess.Target(); tg.CanaryARN != b || tg.StableARN != a || tg.CanarySource != model.CanaryConfirmed || tg.CanaryUnconfirmed != "" {
		t.Fatalf("after ChooseCanary: %+v", tg)
	}
	if s, err := guess.ReadSplit(ctx); err != nil || s.CanaryID != b || s.CanaryPercent() != 75 {
		t.Fatalf("split after ChooseCanary = %+v, %v", s, err)
	}
	if err := guess.ChooseCanary("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/0123456789abcdef"); err == nil {
		t.Fatal("ChooseCanary accepted a group the rule does not forward to")
	}

	// At rest after a promote, with no marker: the side at 0% is the next
	// rollout's canary, whatever the old log says.
	write(guess, 100)
	for _, h := range []*model.AuditCanary{nil, hist} {
		tg := open(ALBOptions{History: h}).Target()
		if tg.CanaryARN != a || tg.CanarySource != model.CanaryAtRest || tg.CanaryUnconfirmed != "" {
			t.Fatalf("at rest 0/100 (history %v): %+v", h, tg)
		}
	}
}

func TestSimALBCanaryFacts(t *testing.T) {
	env, cfg := simEnv(t, "healthy")
	mt := simTarget(t, env, "checkout")
	checkCanaryFacts(t, cfg, ALBOptions{RuleARN: mt.RuleARN}, mt.StableTargetGroupARN, mt.CanaryTargetGroupARN)
}

func TestMotoALBCanaryFacts(t *testing.T) {
	f := newALBFixture(t, 2)
	ruleARN := f.rule(t, 20, f.weighted([]int{0, 1}, []int32{90, 10}, 0))
	checkCanaryFacts(t, motoConfig(t), ALBOptions{RuleARN: ruleARN}, f.tgs[0], f.tgs[1])
}

func TestMotoALBCanaryFactsOnADefaultAction(t *testing.T) {
	f := newALBFixture(t, 2)
	f.setDefault(t, f.weighted([]int{0, 1}, []int32{90, 10}, 0))
	checkCanaryFacts(t, motoConfig(t), ALBOptions{ListenerARN: f.listener}, f.tgs[0], f.tgs[1])
}

func TestSimALBCanaryFactsOnADefaultAction(t *testing.T) {
	env, cfg := simEnv(t, "healthy")
	mt := simTarget(t, env, "checkout")
	api := elbv2.NewFromConfig(cfg)
	// Move the rule's weighted forward onto the listener's default action.
	if _, err := api.ModifyListener(t.Context(), &elbv2.ModifyListenerInput{
		ListenerArn: awssdk.String(mt.ListenerARN),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: awssdk.String(mt.StableTargetGroupARN), Weight: awssdk.Int32(90)},
				{TargetGroupArn: awssdk.String(mt.CanaryTargetGroupARN), Weight: awssdk.Int32(10)},
			}}}},
	}); err != nil {
		t.Fatal(err)
	}
	checkCanaryFacts(t, cfg, ALBOptions{ListenerARN: mt.ListenerARN}, mt.StableTargetGroupARN, mt.CanaryTargetGroupARN)
}

// The simulator's tag errors are AWS's, and the SDK surfaces them typed.
func TestSimELBv2TagErrors(t *testing.T) {
	env, cfg := simEnv(t, "healthy")
	mt := simTarget(t, env, "checkout")
	api := elbv2.NewFromConfig(cfg)
	ctx := t.Context()
	tag := func(k, v string) elbtypes.Tag { return elbtypes.Tag{Key: awssdk.String(k), Value: awssdk.String(v)} }

	_, err := api.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{mt.RuleARN}, Tags: []elbtypes.Tag{tag("a", "1"), tag("a", "2")}})
	var dup *elbtypes.DuplicateTagKeysException
	if !errors.As(err, &dup) {
		t.Fatalf("duplicate keys: %v", err)
	}
	many := make([]elbtypes.Tag, 51)
	for i := range many {
		many[i] = tag(strings.Repeat("k", i+1), "v")
	}
	_, err = api.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{mt.StableTargetGroupARN}, Tags: many})
	var tooMany *elbtypes.TooManyTagsException
	if !errors.As(err, &tooMany) {
		t.Fatalf("51 tags: %v", err)
	}
	missing := mt.RuleARN[:len(mt.RuleARN)-4] + "ffff"
	_, err = api.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{missing}})
	var nf *elbtypes.RuleNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("missing rule: %v", err)
	}
	if _, err := api.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{mt.RuleARN}, Tags: []elbtypes.Tag{tag("aws:x", "1")}}); err == nil {
		t.Fatal("a reserved aws: key was accepted")
	}
	// Tags on a target group and a rule are separate.
	if _, err := api.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{mt.RuleARN, mt.CanaryTargetGroupARN}, Tags: []elbtypes.Tag{tag("team", "checkout")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{mt.RuleARN}, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	out, err := api.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{mt.RuleARN, mt.CanaryTargetGroupARN}})
	if err != nil {
		t.Fatal(err)
	}
	keys := func(d elbtypes.TagDescription) map[string]string {
		m := map[string]string{}
		for _, tg := range d.Tags {
			m[awssdk.ToString(tg.Key)] = awssdk.ToString(tg.Value)
		}
		return m
	}
	if len(out.TagDescriptions) != 2 {
		t.Fatalf("tag descriptions = %d, want 2", len(out.TagDescriptions))
	}
	rule, group := keys(out.TagDescriptions[0]), keys(out.TagDescriptions[1])
	// The scenario's rollout began with perch: the rule keeps its marker.
	if _, ok := rule["team"]; ok || rule[MarkerCanaryKey] != mt.CanaryTargetGroupARN || len(group) != 1 || group["team"] != "checkout" {
		t.Fatalf("rule tags = %v, group tags = %v", rule, group)
	}
}
