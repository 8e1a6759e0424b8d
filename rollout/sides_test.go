package rollout_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim/simtest"
)

type sidesRig struct {
	env            *simtest.Env
	engine         *rollout.Engine
	router         *perchaws.ALBRouter
	path           string
	rule           string
	stable, canary string
}

// newSidesRig starts the healthy scenario; prepare may change the rule
// (weights, tags) before perch attaches, with the marker kept by the
// engine as the CLI wires it.
func newSidesRig(t *testing.T, prepare func(env *simtest.Env, elb *elbv2.Client, rule string)) *sidesRig {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: "healthy"})
	mt := env.Manifest.Targets[0]
	if prepare != nil {
		prepare(env, elbv2.NewFromConfig(env.AWS), mt.RuleARN)
	}
	router, err := perchaws.NewALBRouter(context.Background(), env.AWS, perchaws.ALBOptions{RuleARN: mt.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	log, path := tempAudit(t)
	eng, err := rollout.New(rollout.Config{
		Router: router, Health: router, Sides: router,
		Metrics: perchaws.NewALBMetrics(env.AWS, router.Target()),
		Audit:   log, Clock: env.Clock, Poll: 10 * time.Second, History: time.Hour,
		DescribeError: perchaws.DescribeError,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &sidesRig{env: env, engine: eng, router: router, path: path, rule: mt.RuleARN, stable: mt.StableTargetGroupARN, canary: mt.CanaryTargetGroupARN}
}

func stripMarker(t *testing.T) func(env *simtest.Env, elb *elbv2.Client, rule string) {
	return func(env *simtest.Env, elb *elbv2.Client, rule string) {
		if _, err := elb.RemoveTags(context.Background(), &elbv2.RemoveTagsInput{ResourceArns: []string{rule},
			TagKeys: []string{perchaws.MarkerCanaryKey, perchaws.MarkerStableKey, perchaws.MarkerStartedKey, perchaws.MarkerByKey}}); err != nil {
			t.Fatal(err)
		}
	}
}

func (r *sidesRig) tags(t *testing.T) map[string]string {
	t.Helper()
	out, err := elbv2.NewFromConfig(r.env.AWS).DescribeTags(context.Background(), &elbv2.DescribeTagsInput{ResourceArns: []string{r.rule}})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, tg := range out.TagDescriptions[0].Tags {
		m[awssdk.ToString(tg.Key)] = awssdk.ToString(tg.Value)
	}
	return m
}

func (r *sidesRig) modifyRules() int { return r.env.Sim.Stats()["elbv2:ModifyRule"] }

// With a guessed canary every traffic write is refused, typed, unwritten.
func TestGuessedCanaryRefusesWrites(t *testing.T) {
	r := newSidesRig(t, stripMarker(t))
	ctx := context.Background()
	r.engine.PollOnce(ctx)
	before := r.modifyRules()
	for _, in := range []model.Intent{{Kind: model.StepUp}, {Kind: model.Promote}, {Kind: model.Rollback}, {Kind: model.SetPercent, Percent: 50}} {
		in.Actor = operator()
		res := r.engine.Execute(ctx, in)
		if res.Outcome != model.OutcomeRefused || res.Reason != model.ReasonCanaryUnconfirmed || !strings.Contains(res.Err, "guess") {
			t.Fatalf("%s: %+v", in.Kind, res)
		}
	}
	if n := r.modifyRules() - before; n != 0 {
		t.Fatalf("%d ModifyRule calls with a guessed canary", n)
	}
}

// The operator names the side perch guessed wrong: audited, marked on
// AWS, and the engine turns round with its data; writes then follow the
// operator's answer.
func TestConfirmCanaryTurnsTheEngineRound(t *testing.T) {
	r := newSidesRig(t, func(env *simtest.Env, elb *elbv2.Client, rule string) {
		stripMarker(t)(env, elb, rule)
		// The canary has more traffic than stable: the lower weight is stable.
		mt := env.Manifest.Targets[0]
		if err := env.Sim.SetWeights(rule, map[string]int{mt.StableTargetGroupARN: 30, mt.CanaryTargetGroupARN: 70}); err != nil {
			t.Fatal(err)
		}
	})
	ctx := context.Background()
	snap := r.engine.PollOnce(ctx)
	if snap.Target.CanaryARN != r.stable || snap.Target.CanarySource != model.CanaryGuessed {
		t.Fatalf("guess = %s (%s), want the lower weight %s, marked a guess", snap.Target.CanaryARN, snap.Target.CanarySource, r.stable)
	}
	guessedCanaryReqs := len(snap.Signals[model.Canary][model.Requests])
	res := r.engine.Execute(ctx, model.Intent{Kind: model.ConfirmCanary, Canary: r.canary, Actor: operator()})
	if res.Outcome != model.OutcomeOK || !res.Verified {
		t.Fatalf("confirm: %+v", res)
	}
	snap = r.engine.Snapshot()
	if snap.Target.CanaryARN != r.canary || snap.Target.CanarySource != model.CanaryConfirmed || snap.Target.CanaryUnconfirmed != "" {
		t.Fatalf("after confirm: %+v", snap.Target)
	}
	if snap.Split.CanaryID != r.canary || snap.Split.CanaryPercent() != 70 {
		t.Fatalf("split after confirm: %+v", snap.Split)
	}
	if n := len(snap.Signals[model.Stable][model.Requests]); n != guessedCanaryReqs {
		t.Fatalf("the series did not turn round with the sides: %d stable points, want %d", n, guessedCanaryReqs)
	}
	if tags := r.tags(t); tags[perchaws.MarkerCanaryKey] != r.canary {
		t.Fatalf("marker after confirm: %v", tags)
	}
	// The next poll reads the data the right way round and sees no drift.
	r.env.Advance(time.Minute)
	snap = r.engine.PollOnce(ctx)
	if snap.Drift != nil {
		t.Fatalf("confirming made a drift: %+v", snap.Drift)
	}
	if snap.Signals[model.Canary][model.Requests] == nil {
		t.Fatal("no canary data after confirm")
	}
	// Roll back: all traffic to the side the operator said is stable.
	res = r.engine.Execute(ctx, model.Intent{Kind: model.Rollback, Actor: operator()})
	if res.Outcome != model.OutcomeOK || res.To.CanaryID != r.canary || res.To.CanaryPercent() != 0 || res.To.StableWeight == 0 {
		t.Fatalf("rollback: %+v", res)
	}
	if tags := r.tags(t); len(tags) != 0 {
		t.Fatalf("marker after the rollout ended: %v", tags)
	}
	var confirm bool
	for _, e := range readAudit(t, r.path) {
		if e.Action == "confirm-canary" && e.Phase == model.PhaseOutcome && e.Verified && e.Canary == r.canary {
			confirm = true
		}
	}
	if !confirm {
		t.Fatal("the confirmation is not in the audit log")
	}
}

// Another perch marks the other side while this one runs: this one's
// writes are refused, not carried out on its stale idea of the sides.
func TestMarkerFromElsewhereStopsWrites(t *testing.T) {
	r := newSidesRig(t, nil)
	ctx := context.Background()
	r.engine.PollOnce(ctx)
	if err := r.router.WriteMarker(ctx, model.RolloutMarker{Canary: r.stable, Stable: r.canary, Started: r.env.Clock.Now(), By: "bob"}); err != nil {
		t.Fatal(err)
	}
	before := r.modifyRules()
	res := r.engine.Execute(ctx, model.Intent{Kind: model.StepUp, Actor: operator()})
	if res.Outcome != model.OutcomeRefused || res.Reason != model.ReasonCanaryUnconfirmed || !strings.Contains(res.Err, "bob") {
		t.Fatalf("step with the marker naming the other side: %+v", res)
	}
	if r.modifyRules() != before {
		t.Fatal("a write went through against the marker")
	}
}

// A rollout that begins from rest is marked before the weights move, and
// ends (marker removed) when it comes back to rest.
func TestARolloutIsMarkedFromStartToEnd(t *testing.T) {
	r := newSidesRig(t, nil)
	ctx := context.Background()
	r.engine.PollOnce(ctx)
	if res := r.engine.Execute(ctx, model.Intent{Kind: model.Rollback, Actor: operator()}); !res.Verified {
		t.Fatalf("rollback: %+v", res)
	}
	if tags := r.tags(t); len(tags) != 0 {
		t.Fatalf("marker at rest: %v", tags)
	}
	if res := r.engine.Execute(ctx, model.Intent{Kind: model.StepUp, Actor: operator()}); !res.Verified {
		t.Fatalf("step up: %+v", res)
	}
	if tags := r.tags(t); tags[perchaws.MarkerCanaryKey] != r.canary || tags[perchaws.MarkerStableKey] != r.stable || tags[perchaws.MarkerStartedKey] == "" {
		t.Fatalf("marker after the rollout began: %v", tags)
	}
	if res := r.engine.Execute(ctx, model.Intent{Kind: model.Promote, Actor: operator()}); !res.Verified {
		t.Fatalf("promote: %+v", res)
	}
	if tags := r.tags(t); len(tags) != 0 {
		t.Fatalf("marker after promote: %v", tags)
	}
	for _, e := range readAudit(t, r.path) {
		if e.Canary != r.canary || e.Stable != r.stable {
			t.Fatalf("entry %d %s does not record the sides: canary %q stable %q", e.Seq, e.Action, e.Canary, e.Stable)
		}
	}
}

// failingAfter is an audit log that fails every append after n.
type failingAfter struct {
	rollout.AuditLog
	n int
}

func (f *failingAfter) Append(e model.AuditEntry) (model.AuditEntry, error) {
	if f.n <= 0 {
		return model.AuditEntry{}, errors.New("write /var/lib/perch/audit.jsonl: no space left on device")
	}
	f.n--
	return f.AuditLog.Append(e)
}

// On a full disk: no intent logged, nothing written, and the reason says
// so whole; an outcome that cannot be logged makes the action not done.
func TestAFullDiskIsNeverDone(t *testing.T) {
	for _, c := range []struct {
		name    string
		appends int
		outcome model.Outcome
		reason  model.Reason
		moves   int
	}{
		{"intent", 0, model.OutcomeRefused, model.ReasonAuditUnavailable, 0},
		{"outcome", 1, model.OutcomeFailed, model.ReasonOutcomeUnlogged, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var full *failingAfter
			r := newALBRig(t, "healthy", func(_ *simtest.Env, cfg *rollout.Config) {
				full = &failingAfter{AuditLog: cfg.Audit, n: 1 << 30}
				cfg.Audit = full
			})
			ctx := context.Background()
			r.engine.PollOnce(ctx)
			full.n = c.appends
			before := r.env.Sim.Stats()["elbv2:ModifyRule"]
			res := r.engine.Execute(ctx, model.Intent{Kind: model.StepUp, Actor: operator()})
			if res.Outcome != c.outcome || res.Reason != c.reason || !strings.Contains(res.Err, "no space left on device") {
				t.Fatalf("%+v", res)
			}
			if n := r.env.Sim.Stats()["elbv2:ModifyRule"] - before; n != c.moves {
				t.Fatalf("%d writes, want %d", n, c.moves)
			}
		})
	}
}

func readAudit(t *testing.T, path string) []model.AuditEntry {
	t.Helper()
	entries, err := audit.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}
