package aws

import (
	"context"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/perch-dev/perch/audit"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// The engine on the Lambda adapters, through the real SDK against the
// simulator over loopback, on a manual clock.

type lambdaRig struct {
	sim    *sim.Sim
	clock  *clock.Manual
	engine *rollout.Engine
	router *LambdaRouter
	path   string
	cfg    awssdk.Config
}

// newLambdaRig serves the simulator through wrap (nil: as is), so a test
// can act at the moment a request arrives.
func newLambdaRig(t *testing.T, scenario string, wrap func(*sim.Sim, http.Handler) http.Handler) *lambdaRig {
	t.Helper()
	sc, err := sim.LoadScenario(scenario)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(simtest.Epoch)
	s, err := sim.New(sim.Options{Clock: clk, Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	if wrap != nil {
		h = wrap(s, h)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", "")
	cfg := testConfig(t, "http://"+ln.Addr().String())
	r, err := NewLambdaRouter(t.Context(), cfg, LambdaOptions{Function: "orders", Alias: "live"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	eng, err := rollout.New(rollout.Config{
		Router: r, Health: r, Metrics: NewLambdaMetrics(cfg, r), Identity: NewIdentity(cfg),
		Audit: log, Clock: clk, Poll: 10 * time.Second, History: time.Hour, DescribeError: DescribeError,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &lambdaRig{sim: s, clock: clk, engine: eng, router: r, path: path, cfg: cfg}
}

func operatorActor() model.Actor { return model.Actor{OSUser: "ana", Via: "test"} }

func auditTrail(t *testing.T, path string) string {
	t.Helper()
	entries, err := audit.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action+"/"+string(e.Phase)+"/"+string(e.Outcome))
	}
	return strings.Join(out, " ")
}

func TestLambdaEngineStepsPromotesAndRollsBackVerified(t *testing.T) {
	r := newLambdaRig(t, "lambda-healthy", nil)
	ctx := context.Background()
	snap := r.engine.PollOnce(ctx)
	if !snap.SplitKnown || snap.Split.CanaryPercent() != 10 || snap.Health[model.Canary].Healthy != 1 {
		t.Fatalf("first poll: %+v health %+v err %q", snap.Split, snap.Health, snap.SplitErr)
	}
	// The observed split, from ExecutedVersion invocations, sits next to
	// the configured weight.
	if share, ok := snap.ObservedCanaryShare(snap.Now.Add(-30 * time.Minute)); !ok || math.Abs(share-10) > 2 {
		t.Fatalf("observed canary share %.1f%% (%v) at a configured 10%%", share, ok)
	}
	for _, step := range []struct {
		in      model.Intent
		pct     float64
		fv      string
		weights map[string]float64
	}{
		{model.Intent{Kind: model.StepUp}, 25, "7", map[string]float64{"8": 0.25}},
		{model.Intent{Kind: model.Promote}, 100, "8", nil},
		{model.Intent{Kind: model.Rollback}, 0, "7", nil},
		{model.Intent{Kind: model.StepUp}, 1, "7", map[string]float64{"8": 0.01}},
	} {
		r.clock.Advance(time.Minute)
		in := step.in
		in.Actor = operatorActor()
		res := r.engine.Execute(ctx, in)
		if res.Outcome != model.OutcomeOK || !res.Verified || res.To.CanaryPercent() != step.pct {
			t.Fatalf("%s: %+v", in.Kind, res)
		}
		st, _ := r.sim.Alias("orders", "live")
		if st.FunctionVersion != step.fv || len(st.Weights) != len(step.weights) || st.Weights["8"] != step.weights["8"] {
			t.Fatalf("%s: alias %+v, want %s %v", in.Kind, st, step.fv, step.weights)
		}
		if snap := r.engine.PollOnce(ctx); snap.Drift != nil {
			t.Fatalf("%s: perch's own write seen as drift: %+v", in.Kind, snap.Drift)
		}
	}
	if n := r.sim.Stats()["lambda:UpdateAlias"]; n != 4 {
		t.Fatalf("%d UpdateAlias calls for 4 actions", n)
	}
	if got := auditTrail(t, r.path); strings.Count(got, "/outcome/ok") != 4 {
		t.Fatalf("audit: %s", got)
	}
}

func TestLambdaEngineSeesDriftAndRefusesTheStaleStep(t *testing.T) {
	r := newLambdaRig(t, "lambda-healthy", nil)
	ctx := context.Background()
	seen := r.engine.PollOnce(ctx).Split

	// Another client moves the alias with its own, fresh RevisionId.
	other, err := NewLambdaRouter(ctx, r.cfg, LambdaOptions{Function: "orders", Alias: "live"})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := other.ReadSplit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.WriteSplit(ctx, cur.WithCanaryPercent(40)); err != nil {
		t.Fatal(err)
	}

	r.clock.Advance(10 * time.Second)
	snap := r.engine.PollOnce(ctx)
	if snap.Drift == nil || snap.Split.CanaryPercent() != 40 || snap.Split.Revision == seen.Revision {
		t.Fatalf("drift not seen within one poll: %+v split %+v", snap.Drift, snap.Split)
	}
	before := r.sim.Stats()["lambda:UpdateAlias"]
	res := r.engine.Execute(ctx, model.Intent{Kind: model.StepUp, Expected: &seen, Actor: operatorActor()})
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, "changed since you looked") {
		t.Fatalf("step on the pre-drift view: %+v", res)
	}
	if after := r.sim.Stats()["lambda:UpdateAlias"]; after != before {
		t.Fatalf("a refused step still wrote (%d UpdateAlias)", after-before)
	}
	if got := auditTrail(t, r.path); got != "drift/event/ shift/outcome/refused" {
		t.Fatalf("audit: %s", got)
	}
}

// TestLambdaEngineWriteRaceIsRefusedBy412 has a second operator change the
// alias between perch's read and its write: Lambda refuses perch's stale
// RevisionId, nothing is overwritten, the engine says so and does not try
// again.
func TestLambdaEngineWriteRaceIsRefusedBy412(t *testing.T) {
	var armed atomic.Bool
	r := newLambdaRig(t, "lambda-healthy", func(s *sim.Sim, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/aliases/") && armed.CompareAndSwap(true, false) {
				if err := s.SetAliasRouting("orders", "live", "7", map[string]float64{"8": 0.4}); err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
			}
			next.ServeHTTP(w, req)
		})
	})
	ctx := context.Background()
	r.engine.PollOnce(ctx)
	armed.Store(true)
	res := r.engine.Execute(ctx, model.Intent{Kind: model.StepUp, Actor: operatorActor()})
	t.Logf("result: %s", res.Err)
	if res.Outcome != model.OutcomeFailed || !strings.Contains(res.Err, "changed since perch read it") ||
		!strings.Contains(res.Err, "canary 40%") || res.To.CanaryPercent() != 40 {
		t.Fatalf("write race: %+v", res)
	}
	if st, _ := r.sim.Alias("orders", "live"); st.Weights["8"] != 0.4 {
		t.Fatalf("perch overwrote the other operator: %+v", st)
	}
	if n := r.sim.Stats()["lambda:UpdateAlias"]; n != 1 {
		t.Fatalf("%d UpdateAlias calls: the 412 was retried", n)
	}
	entries, err := audit.ReadAll(r.path)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Outcome != model.OutcomeFailed || !strings.Contains(last.Detail, "RevisionId") || *last.To != 40 {
		t.Fatalf("audit outcome %+v", last)
	}
}
