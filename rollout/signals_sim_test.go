package rollout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim/simtest"
)

// checkoutLogs are the new-exception and memory-leak scenarios' sides:
// one log group, each side's ECS tasks in streams of their own prefix.
func checkoutLogs(t *testing.T, env *simtest.Env) *perchaws.Logs {
	t.Helper()
	side := func(name string) perchaws.LogSide {
		return perchaws.LogSide{Groups: []string{"/ecs/checkout"}, StreamFilter: perchaws.StreamPrefixFilter("checkout-" + name + "/")}
	}
	l, err := perchaws.NewLogs(env.AWS, perchaws.LogsOptions{Sides: [2]perchaws.LogSide{side("stable"), side("canary")}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func findRow(v *model.LogsView, contains string) (model.PatternRow, bool) {
	if v == nil {
		return model.PatternRow{}, false
	}
	for _, r := range v.Rows {
		if strings.Contains(r.Pattern, contains) {
			return r, true
		}
	}
	return model.PatternRow{}, false
}

// The canary starts logging a new exception five minutes in, at 0.2% of
// its requests, its 5xx rate unchanged: the patterns pane marks it NEW
// within two minutes, with counts per side, and never marks stable's
// usual patterns (retries, slow queries, the 5xx lines both sides log).
func TestNewLogPatternMarkedWithinTwoMinutes(t *testing.T) {
	r := newALBRig(t, "new-exception", func(env *simtest.Env, c *rollout.Config) {
		c.Poll, c.History = 10*time.Second, 30*time.Minute
		c.Logs = &rollout.LogsConfig{Reader: checkoutLogs(t, env), Every: time.Minute}
	})
	ctx := context.Background()
	start := r.env.Clock.Now()
	var markedAt time.Duration
	var last model.Snapshot
	for r.env.Clock.Now().Sub(start) < 8*time.Minute {
		r.env.Clock.Advance(10 * time.Second)
		last = r.engine.PollOnce(ctx)
		for _, row := range last.Logs.Rows {
			if row.New && !strings.Contains(row.Pattern, "IllegalStateException") {
				t.Fatalf("at %s %q marked NEW (counts %v, p %.3g)", r.env.Clock.Now().Sub(start), row.Pattern, row.Counts, row.P)
			}
		}
		if row, ok := findRow(last.Logs, "IllegalStateException"); ok && row.New && markedAt == 0 {
			markedAt = r.env.Clock.Now().Sub(start)
		}
	}
	t.Logf("new exception marked NEW %s after the scenario start (it begins at 5m)", markedAt)
	if markedAt == 0 || markedAt > 7*time.Minute {
		t.Fatalf("new exception (from 5m) marked NEW at %s, want by 7m; rows %+v", markedAt, last.Logs.Rows)
	}
	row, _ := findRow(last.Logs, "IllegalStateException")
	if row.Counts[model.Stable] != 0 || row.Counts[model.Canary] < 5 || !strings.Contains(row.Sample, "coupon ord-") {
		t.Fatalf("new exception row %+v", row)
	}
	for _, usual := range []string{"WARN retry", "failed with"} {
		u, ok := findRow(last.Logs, usual)
		if !ok || u.New || u.Counts[model.Stable] == 0 || u.Counts[model.Canary] == 0 {
			t.Fatalf("usual pattern %q: %+v (found %v)", usual, u, ok)
		}
	}
	if last.Logs.BytesScanned <= 0 || last.Logs.Queries < 14 || last.Logs.Queries > 2*9 {
		t.Fatalf("bytes scanned %v over %d queries (want one per side per minute)", last.Logs.BytesScanned, last.Logs.Queries)
	}
	if v := last.Verdict; v == nil || v.Overall == model.VerdictFail {
		t.Fatalf("verdict %+v: the new exception does not move the 5xx rate", v)
	}
}

// perch stops its running queries when it quits: the poll loop's stop
// (what the cockpit's q runs) stops both sides' queries, and Logs
// Insights has them as Cancelled.
func TestLogQueriesStoppedOnQuit(t *testing.T) {
	r := newALBRig(t, "new-exception", func(env *simtest.Env, c *rollout.Config) {
		c.Poll, c.History = 10*time.Second, 30*time.Minute
		c.Logs = &rollout.LogsConfig{Reader: checkoutLogs(t, env), Every: time.Minute}
	})
	snaps, unsubscribe := r.engine.Subscribe()
	defer unsubscribe()
	stop := r.engine.Start(context.Background())
	deadline := time.After(30 * time.Second) // a bound on a hung loop, not a wait for time to pass
	for running := false; !running; {
		select {
		case s := <-snaps:
			running = s.Logs != nil && s.Logs.Running == 2
		case <-deadline:
			t.Fatal("the first poll never started both sides' queries")
		}
	}
	before := r.env.Sim.Stats()["logs:StopQuery"]
	stop()
	if got := r.env.Sim.Stats()["logs:StopQuery"] - before; got != 2 {
		t.Fatalf("%d StopQuery calls on quit, want 2", got)
	}
}

// The canary's ECS service leaks memory while its errors and latency stay
// as stable's: with memory declared as a signal (higher is worse), the
// judge fails the canary on memory alone; undeclared, memory is charted
// but not judged.
func TestMemoryLeakFailsTheJudgeWhenDeclared(t *testing.T) {
	run := func(declare bool) model.Snapshot {
		r := newALBRig(t, "memory-leak", func(env *simtest.Env, c *rollout.Config) {
			c.Poll, c.History = time.Minute, 30*time.Minute
			m := perchaws.NewALBMetrics(env.AWS, c.Router.Target())
			m.AddQueries(perchaws.ECSQueries([2]perchaws.ECSService{{Cluster: "shop", Service: "checkout-blue"}, {Cluster: "shop", Service: "checkout-green"}}, ""))
			c.Metrics = m
			c.Judge.Since = env.Clock.Now()
			if declare {
				c.Judge.Custom = []model.CustomSignal{{Name: model.MemoryUtilization, HigherIsWorse: true, Tolerance: 0.05}}
			}
		})
		var s model.Snapshot
		for range 40 {
			r.env.Clock.Advance(time.Minute)
			s = r.engine.PollOnce(context.Background())
		}
		return s
	}
	s := run(true)
	mem := s.Signals[model.Canary][model.MemoryUtilization]
	if len(mem) < 30 || mem[len(mem)-1].V < mem[0].V+20 {
		t.Fatalf("canary memory %v: want a climb of 20+ points over 40m", mem)
	}
	if st := s.Signals[model.Stable][model.MemoryUtilization]; len(st) == 0 || st[len(st)-1].V > 50 {
		t.Fatalf("stable memory %v: want flat near 45", st)
	}
	v := s.Verdict
	m, ok := v.Metric(model.MemoryUtilization)
	if v.Overall != model.VerdictFail || !ok || m.Kind != model.VerdictFail {
		t.Fatalf("declared: verdict %s (%s), memory %+v; want FAIL on memory", v.Overall, v.Summary, m)
	}
	for _, sig := range []model.Signal{model.Errors5xx, model.SlowRequests, model.LatencyP99} {
		if mv, ok := v.Metric(sig); ok && mv.Kind == model.VerdictFail {
			t.Fatalf("%s FAILs too: errors and latency are flat", sig)
		}
	}
	if u := run(false).Verdict; u.Overall == model.VerdictFail {
		t.Fatalf("undeclared: verdict %s (%s), want no FAIL", u.Overall, u.Summary)
	}
}
