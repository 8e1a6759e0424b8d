package aws

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim/simtest"
)

// lambdaSimEnv is simEnv with the Lambda endpoint variable cleared too.
func lambdaSimEnv(t *testing.T, scenario string) (*simtest.Env, awssdk.Config) {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", "")
	os.Unsetenv("AWS_ENDPOINT_URL_LAMBDA")
	return simEnv(t, scenario)
}

// lambdaWrites counts the calls that change Lambda state.
func lambdaWrites(env *simtest.Env) int {
	st := env.Sim.Stats()
	return st["lambda:UpdateAlias"] + st["lambda:PublishVersion"] + st["lambda:CreateAlias"] + st["lambda:DeleteAlias"]
}

func TestSimLambdaResolveReadWritePromoteRollback(t *testing.T) {
	env, cfg := lambdaSimEnv(t, "lambda-healthy")
	ctx := t.Context()
	mt := env.Target(t, "orders:live")
	r, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: "orders", Alias: "live"})
	if err != nil {
		t.Fatal(err)
	}
	want := model.Target{
		Kind: model.KindLambda, Name: "orders:live", Region: "us-east-1",
		Function: "orders", Alias: "live", AliasARN: mt.AliasARN,
		StableName: "version 7", CanaryName: "version 8",
		StableARN: strings.TrimSuffix(mt.AliasARN, ":live") + ":7", CanaryARN: strings.TrimSuffix(mt.AliasARN, ":live") + ":8",
		CanarySource: model.CanaryFromAlias,
	}
	if got := r.Target(); got != want || got.ID() != mt.AliasARN {
		t.Fatalf("target\n got %+v\nwant %+v", got, want)
	}

	env.Sim.ResetStats()
	split, err := r.ReadSplit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	alias, _ := env.Sim.Alias("orders", "live")
	if split.StableID != "7" || split.CanaryID != "8" || split.StableWeight != 900 || split.CanaryWeight != 100 ||
		split.Revision != alias.RevisionID || split.CanaryPercent() != 10 {
		t.Fatalf("read %+v (alias revision %s)", split, alias.RevisionID)
	}
	if st := env.Sim.Stats(); st["lambda:GetAlias"] != 1 || len(st) != 1 {
		t.Fatalf("a read made %v", st)
	}

	step := func(pct float64, fv string, weights map[string]float64) model.Split {
		t.Helper()
		cur, err := r.ReadSplit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := cur.WithCanaryPercent(pct)
		if err := r.WriteSplit(ctx, want); err != nil {
			t.Fatalf("write %v%%: %v", pct, err)
		}
		st, _ := env.Sim.Alias("orders", "live")
		if st.FunctionVersion != fv || len(st.Weights) != len(weights) || (len(weights) > 0 && st.Weights["8"] != weights["8"]) {
			t.Fatalf("after %v%%: alias at %s %v, want %s %v", pct, st.FunctionVersion, st.Weights, fv, weights)
		}
		back, err := r.ReadSplit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The engine's read-back check: what was asked for is what is there.
		if !back.SameRouting(want) || back.Revision == cur.Revision {
			t.Fatalf("after %v%%: read back %+v, asked for %+v", pct, back, want)
		}
		return back
	}
	step(25, "7", map[string]float64{"8": 0.25})
	promoted := step(100, "8", nil)
	if promoted.CanaryWeight != 1000 || promoted.StableWeight != 0 {
		t.Fatalf("a promoted alias reads %+v", promoted)
	}
	step(50, "7", map[string]float64{"8": 0.5})
	step(0, "7", nil)

	// Someone routes the canary share as FunctionVersion=8 plus stable by
	// weight: the same two versions, read the other way round.
	if err := env.Sim.SetAliasRouting("orders", "live", "8", map[string]float64{"7": 0.3}); err != nil {
		t.Fatal(err)
	}
	if s, err := r.ReadSplit(ctx); err != nil || s.CanaryWeight != 700 {
		t.Fatalf("8 + 7 at 0.3 reads %+v %v, want canary 70%%", s, err)
	}
	// A third version is not this router's split: unknown, never guessed.
	if err := env.Sim.SetAliasRouting("orders", "live", "7", map[string]float64{"6": 0.2}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadSplit(ctx); err == nil || !strings.Contains(err.Error(), "no longer routes between versions 7 and 8") {
		t.Fatalf("routing to version 6: %v", err)
	}
}

func TestSimLambdaStaleRevisionIsRefusedWithoutOverwrite(t *testing.T) {
	env, cfg := lambdaSimEnv(t, "lambda-healthy")
	ctx := t.Context()
	r, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: "orders", Alias: "live"})
	if err != nil {
		t.Fatal(err)
	}
	seen, err := r.ReadSplit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Sim.SetAliasRouting("orders", "live", "7", map[string]float64{"8": 0.4}); err != nil {
		t.Fatal(err)
	}
	env.Sim.ResetStats()
	err = r.WriteSplit(ctx, seen.WithCanaryPercent(25))
	var stale *StaleRevisionError
	var pf *ltypes.PreconditionFailedException
	if !errors.As(err, &stale) || !errors.As(err, &pf) {
		t.Fatalf("write on a stale RevisionId: %v", err)
	}
	if msg := DescribeError(err); !strings.Contains(msg, "alias orders:live changed since perch read it") ||
		!strings.Contains(msg, "nothing was written") || strings.Contains(msg, "\n") {
		t.Fatalf("described as %q", msg)
	}
	if st, _ := env.Sim.Alias("orders", "live"); st.Weights["8"] != 0.4 {
		t.Fatalf("the other operator's change was overwritten: %+v", st)
	}
	if n := env.Sim.Stats()["lambda:UpdateAlias"]; n != 1 {
		t.Fatalf("%d UpdateAlias calls: a 412 must never be retried", n)
	}

	// Without a RevisionId there is no compare-and-set: refused unsent.
	blind := seen.WithCanaryPercent(25)
	blind.Revision = ""
	if err := r.WriteSplit(ctx, blind); err == nil || !strings.Contains(err.Error(), "RevisionId") {
		t.Fatalf("blind write: %v", err)
	}
	if other := (model.Split{StableID: "7", CanaryID: "6", StableWeight: 90, CanaryWeight: 10, Revision: "x"}); r.WriteSplit(ctx, other) == nil {
		t.Fatal("a split naming another version was written")
	}
	if n := env.Sim.Stats()["lambda:UpdateAlias"]; n != 1 {
		t.Fatalf("refused writes reached Lambda (%d UpdateAlias)", n)
	}
}

func TestSimLambdaBadTargetsAreRefusedBeforeAnyWrite(t *testing.T) {
	env, cfg := lambdaSimEnv(t, "lambda-bad-targets")
	ctx := t.Context()
	cases := []struct {
		name string
		o    LambdaOptions
		want string
		kind string // NotFoundError kind, if any
	}{
		{"unknown function", LambdaOptions{Function: "nope", Alias: "live"}, "function not found: nope", "function"},
		{"unknown alias", LambdaOptions{Function: "billing", Alias: "nope"}, "alias not found: billing:nope", "alias"},
		{"routing to a missing version", LambdaOptions{Function: "billing", Alias: "live-dangling"}, "routes 10% to version 5, which does not exist", ""},
		{"no routing, no canary named", LambdaOptions{Function: "billing", Alias: "live"}, "--canary-version", ""},
		{"canary is the stable version", LambdaOptions{Function: "billing", Alias: "live", CanaryVersion: "3"}, "version 3 is the stable version", ""},
		{"canary is $LATEST", LambdaOptions{Function: "billing", Alias: "live", CanaryVersion: "$LATEST"}, "$LATEST", ""},
		{"canary does not exist", LambdaOptions{Function: "billing", Alias: "live", CanaryVersion: "9"}, "version not found: billing:9", "version"},
		{"canary not a number", LambdaOptions{Function: "billing", Alias: "live", CanaryVersion: "v4"}, "not a published version number", ""},
		{"alias on $LATEST", LambdaOptions{Function: "billing", Alias: "live-latest", CanaryVersion: "4"}, "points at $LATEST", ""},
		{"a version for an alias", LambdaOptions{Function: "billing", Alias: "3"}, "is a version, not an alias", ""},
		{"no alias", LambdaOptions{Function: "billing"}, "--alias", ""},
	}
	for _, tc := range cases {
		_, err := NewLambdaRouter(ctx, cfg, tc.o)
		if err == nil || !strings.Contains(DescribeError(err), tc.want) {
			t.Errorf("%s: %v (described %q), want it to mention %q", tc.name, err, DescribeError(err), tc.want)
			continue
		}
		var nf *NotFoundError
		if (tc.kind != "") != errors.As(err, &nf) || (tc.kind != "" && nf.Kind != tc.kind) {
			t.Errorf("%s: %v is not a %q NotFoundError", tc.name, err, tc.kind)
		}
	}
	if n := lambdaWrites(env); n != 0 {
		t.Fatalf("bad targets caused %d writes: %v", n, env.Sim.Stats())
	}
	// The alias without routing opens once the canary is named.
	r, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: "billing", Alias: "live", CanaryVersion: "4"})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := r.ReadSplit(ctx); err != nil || s.CanaryWeight != 0 || s.StableWeight != 1000 || s.CanaryID != "4" {
		t.Fatalf("no routing reads %+v %v", s, err)
	}
}

func TestSimLambdaHealthFollowsVersionState(t *testing.T) {
	env, cfg := lambdaSimEnv(t, "lambda-healthy")
	ctx := t.Context()
	r, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: "arn:aws:lambda:us-east-1:123456789012:function:orders", Alias: "live"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Target().Function != "orders" {
		t.Fatalf("function named by ARN: target %+v", r.Target())
	}
	check := func(stable, canary model.Health) {
		t.Helper()
		h, err := r.Health(ctx)
		if err != nil || h[model.Stable] != stable || h[model.Canary] != canary {
			t.Fatalf("health %+v %v, want %+v / %+v", h, err, stable, canary)
		}
	}
	check(model.Health{Healthy: 1}, model.Health{Healthy: 1})
	env.Sim.SetVersionState("orders", "8", "Failed")
	check(model.Health{Healthy: 1}, model.Health{Unhealthy: 1})
	env.Sim.SetVersionState("orders", "8", "Pending")
	check(model.Health{Healthy: 1}, model.Health{Other: 1})
}

func TestSimLambdaMetricsOneCallThrottlesPerVersion(t *testing.T) {
	env, cfg := lambdaSimEnv(t, "lambda-throttles")
	ctx := t.Context()
	r, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: "orders", Alias: "live"})
	if err != nil {
		t.Fatal(err)
	}
	m := NewLambdaMetrics(cfg, r)
	if m.QueryCount() != 10 {
		t.Fatalf("%d queries", m.QueryCount())
	}
	env.Sim.ResetStats()
	data, err := m.Fetch(ctx, simtest.Epoch.Add(-30*time.Minute), simtest.Epoch)
	if err != nil {
		t.Fatal(err)
	}
	// One call, and a second for the slow counts of the same window once
	// the first has taught the threshold (stable's Duration p99).
	if st := env.Sim.Stats(); st["cloudwatch:GetMetricData"] != 2 || len(st) != 1 {
		t.Fatalf("the first fetch made %v", st)
	}
	got := map[model.Side]map[model.Signal][]model.Point{model.Stable: {}, model.Canary: {}}
	for _, sd := range data {
		got[sd.Side][sd.Signal] = sd.Points
	}
	stableThrottles, canaryThrottles := got[model.Stable][model.Throttles], got[model.Canary][model.Throttles]
	if len(stableThrottles) != len(got[model.Stable][model.Requests]) || len(stableThrottles) < 28 {
		t.Fatalf("stable throttles: %d points for %d periods with invocations; zeros must be filled in", len(stableThrottles), len(got[model.Stable][model.Requests]))
	}
	if s := model.Sum(stableThrottles, time.Time{}); s != 0 {
		t.Fatalf("stable throttled %v times", s)
	}
	busy := 0
	for _, p := range canaryThrottles {
		if p.V > 0 {
			busy++
		}
	}
	if busy < 27 {
		t.Fatalf("canary throttled in %d of %d periods", busy, len(canaryThrottles))
	}
	for _, p := range got[model.Canary][model.LatencyP99] {
		if p.V < 4000 || p.V > 20000 {
			t.Fatalf("canary p99 %.0f ms (Duration is already in ms; the scenario says 9000)", p.V)
		}
	}
	if len(got[model.Canary][model.Errors5xx]) != len(got[model.Canary][model.Requests]) {
		t.Fatal("canary errors are missing periods")
	}
	// The canary's p99 is 9 s against stable's threshold: most of its
	// invocations are slow; about 1% of stable's.
	th := got[model.Stable][model.SlowThreshold]
	if len(th) == 0 || th[0].V <= 0 || th[0].V >= 4000 {
		t.Fatalf("slow threshold %v ms", th)
	}
	share := func(side model.Side) float64 {
		return model.Sum(got[side][model.SlowRequests], time.Time{}) / model.Sum(got[side][model.Requests], time.Time{})
	}
	if s, c := share(model.Stable), share(model.Canary); s > 0.03 || c < 0.2 {
		t.Fatalf("slow shares: stable %.3f, canary %.3f", s, c)
	}
}
