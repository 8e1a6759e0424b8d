package rollout

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
)

// These fakes stand in for perch's own ports (not for the AWS SDK); the
// engine's behaviour against the real adapters and the simulator is in
// integration_test.go.

type fakeRouter struct {
	mu        sync.Mutex
	split     model.Split
	writes    []model.Split
	readErr   error
	writeErr  error
	ignoreSet bool // the write "succeeds" but nothing changes
	target    model.Target
}

func (r *fakeRouter) Target() model.Target { return r.target }
func (r *fakeRouter) ReadSplit(context.Context) (model.Split, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.split, r.readErr
}
func (r *fakeRouter) WriteSplit(_ context.Context, want model.Split) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, want)
	if r.writeErr != nil {
		return r.writeErr
	}
	if !r.ignoreSet {
		r.split = want
	}
	return nil
}
func (r *fakeRouter) set(s model.Split) { r.mu.Lock(); r.split = s; r.mu.Unlock() }

type fakeMetrics struct {
	mu    sync.Mutex
	calls [][2]time.Time
}

func (m *fakeMetrics) Fetch(_ context.Context, start, end time.Time) ([]model.SeriesData, error) {
	m.mu.Lock()
	m.calls = append(m.calls, [2]time.Time{start, end})
	m.mu.Unlock()
	var out []model.SeriesData
	for t := start.Truncate(time.Minute); t.Before(end.Add(-time.Minute)); t = t.Add(time.Minute) {
		out = append(out,
			model.SeriesData{Side: model.Stable, Signal: model.Requests, Points: []model.Point{{T: t, V: 900}}},
			model.SeriesData{Side: model.Canary, Signal: model.Requests, Points: []model.Point{{T: t, V: 100}}})
	}
	return out, nil
}

type memAudit struct {
	mu      sync.Mutex
	entries []model.AuditEntry
	fail    error
}

func (a *memAudit) Append(e model.AuditEntry) (model.AuditEntry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return e, a.fail
	}
	e.Seq = int64(len(a.entries) + 1)
	a.entries = append(a.entries, e)
	return e, nil
}

func (a *memAudit) Head() (int64, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int64(len(a.entries)), "", nil
}

func (a *memAudit) all() []model.AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]model.AuditEntry(nil), a.entries...)
}

type fakeHealth struct{ h [2]model.Health }

func (f fakeHealth) Health(context.Context) ([2]model.Health, error) { return f.h, nil }

var t0 = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

func newTestEngine(t *testing.T, canaryPct float64, mutate func(*Config)) (*Engine, *fakeRouter, *memAudit, *clock.Manual) {
	t.Helper()
	r := &fakeRouter{
		split:  model.Split{StableID: "tg-stable", CanaryID: "tg-canary"}.WithCanaryPercent(canaryPct),
		target: model.Target{Kind: model.KindALB, Name: "checkout", RuleARN: "arn:rule"},
	}
	a := &memAudit{}
	clk := clock.NewManual(t0)
	cfg := Config{Router: r, Metrics: &fakeMetrics{}, Audit: a, Clock: clk, Poll: 10 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.PollOnce(context.Background())
	return e, r, a, clk
}

func actor() model.Actor { return model.Actor{OSUser: "ana", Via: "test"} }

func TestStepUpWritesReadsBackAndAudits(t *testing.T) {
	e, r, a, _ := newTestEngine(t, 5, nil)
	seen := e.Snapshot().Split
	res := e.Execute(context.Background(), model.Intent{Kind: model.StepUp, Expected: &seen, Actor: actor()})
	if res.Outcome != model.OutcomeOK || !res.Verified {
		t.Fatalf("result %+v", res)
	}
	if got := r.split.CanaryPercent(); got != 10 {
		t.Fatalf("canary at %v%%, want 10%%", got)
	}
	entries := a.all()
	if len(entries) != 2 {
		t.Fatalf("want intent + outcome, got %+v", entries)
	}
	in, out := entries[0], entries[1]
	if in.Phase != model.PhaseIntent || *in.From != 5 || *in.To != 10 || in.Actor.OSUser != "ana" {
		t.Errorf("intent entry %+v", in)
	}
	if out.Phase != model.PhaseOutcome || out.Outcome != model.OutcomeOK || !out.Verified || out.IntentSeq != in.Seq {
		t.Errorf("outcome entry %+v", out)
	}
	snap := e.Snapshot()
	if snap.Split.CanaryPercent() != 10 || snap.Last == nil || snap.Busy != "" || len(snap.Audit) != 2 {
		t.Errorf("snapshot after action: split %v last %v busy %q audit %d", snap.Split, snap.Last, snap.Busy, len(snap.Audit))
	}
}

func TestStaleViewIsRefusedAndDriftLogged(t *testing.T) {
	e, r, a, _ := newTestEngine(t, 5, nil)
	seen := e.Snapshot().Split
	r.set(seen.WithCanaryPercent(30)) // another operator
	res := e.Execute(context.Background(), model.Intent{Kind: model.StepUp, Expected: &seen, Actor: actor()})
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, "changed since you looked") {
		t.Fatalf("want refusal on stale view, got %+v", res)
	}
	if len(r.writes) != 0 {
		t.Fatalf("wrote %v on a stale view", r.writes)
	}
	var drift, refused bool
	for _, en := range a.all() {
		drift = drift || en.Action == "drift"
		refused = refused || en.Outcome == model.OutcomeRefused
	}
	if !drift || !refused {
		t.Fatalf("audit lacks drift (%v) or refusal (%v): %+v", drift, refused, a.all())
	}
	if d := e.Snapshot().Drift; d == nil || d.To.CanaryPercent() != 30 {
		t.Fatalf("snapshot drift %+v", d)
	}
}

func TestDriftSeenByPoll(t *testing.T) {
	e, r, a, clk := newTestEngine(t, 10, nil)
	r.set(r.split.WithCanaryPercent(50))
	clk.Advance(10 * time.Second)
	snap := e.PollOnce(context.Background())
	if snap.Drift == nil || snap.Drift.From.CanaryPercent() != 10 || snap.Drift.To.CanaryPercent() != 50 {
		t.Fatalf("drift %+v", snap.Drift)
	}
	if n := len(a.all()); n != 1 || a.all()[0].Action != "drift" {
		t.Fatalf("audit %+v", a.all())
	}
	// The same state again is not new drift.
	e.PollOnce(context.Background())
	if n := len(a.all()); n != 1 {
		t.Fatalf("drift logged twice: %+v", a.all())
	}
}

func TestReadOnlyRefusesWithoutWriting(t *testing.T) {
	e, r, _, _ := newTestEngine(t, 5, func(c *Config) { c.ReadOnly = true })
	res := e.Execute(context.Background(), model.Intent{Kind: model.Rollback, Actor: actor()})
	if res.Outcome != model.OutcomeRefused || len(r.writes) != 0 {
		t.Fatalf("read-only engine: %+v, writes %v", res, r.writes)
	}
}

func TestUnknownStateRefusesWrites(t *testing.T) {
	e, r, _, _ := newTestEngine(t, 5, nil)
	r.mu.Lock()
	r.readErr = errors.New("connection refused")
	r.mu.Unlock()
	snap := e.PollOnce(context.Background())
	if snap.SplitKnown || !strings.Contains(snap.SplitErr, "connection refused") {
		t.Fatalf("split should be unknown: %+v", snap)
	}
	res := e.Execute(context.Background(), model.Intent{Kind: model.Rollback, Actor: actor()})
	if res.Outcome != model.OutcomeRefused || len(r.writes) != 0 {
		t.Fatalf("%+v writes %v", res, r.writes)
	}
}

func TestFailedWriteAndBadReadBack(t *testing.T) {
	e, r, a, _ := newTestEngine(t, 5, nil)
	r.mu.Lock()
	r.writeErr = errors.New("Throttling: rate exceeded")
	r.mu.Unlock()
	res := e.Execute(context.Background(), model.Intent{Kind: model.StepUp, Actor: actor()})
	if res.Outcome != model.OutcomeFailed || !strings.Contains(res.Err, "traffic is at stable 95% / canary 5%") {
		t.Fatalf("%+v", res)
	}
	if last := a.all()[len(a.all())-1]; last.Outcome != model.OutcomeFailed || last.Verified {
		t.Fatalf("audit outcome %+v", last)
	}

	r.mu.Lock()
	r.writeErr, r.ignoreSet = nil, true
	r.mu.Unlock()
	res = e.Execute(context.Background(), model.Intent{Kind: model.StepUp, Actor: actor()})
	if res.Outcome != model.OutcomeFailed || res.Verified || !strings.Contains(res.Err, "read back") {
		t.Fatalf("unverified write reported as %+v", res)
	}
}

func TestAuditFailureBlocksTheWrite(t *testing.T) {
	e, r, a, _ := newTestEngine(t, 5, nil)
	a.fail = errors.New("disk full")
	res := e.Execute(context.Background(), model.Intent{Kind: model.StepUp, Actor: actor()})
	if res.Outcome != model.OutcomeRefused || len(r.writes) != 0 {
		t.Fatalf("wrote without an audit entry: %+v %v", res, r.writes)
	}
}

func TestLadderBoundsAndNoop(t *testing.T) {
	e, r, a, _ := newTestEngine(t, 100, nil)
	res := e.Execute(context.Background(), model.Intent{Kind: model.StepUp, Actor: actor()})
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, "top of the ladder") {
		t.Fatalf("%+v", res)
	}
	res = e.Execute(context.Background(), model.Intent{Kind: model.Promote, Actor: actor()})
	if res.Outcome != model.OutcomeOK || len(r.writes) != 0 || len(a.all()) != 0 {
		t.Fatalf("promote at 100%% should be a no-op: %+v writes %v", res, r.writes)
	}
}

func TestCapacityWarningOnRollbackToSmallStable(t *testing.T) {
	e, _, a, _ := newTestEngine(t, 50, func(c *Config) {
		c.Health = fakeHealth{h: [2]model.Health{{Healthy: 1}, {Healthy: 6}}}
	})
	e.PollOnce(context.Background())
	res := e.Execute(context.Background(), model.Intent{Kind: model.Rollback, Actor: actor()})
	if res.Outcome != model.OutcomeOK || len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "stable may be too small") {
		t.Fatalf("want a capacity warning, got %+v", res)
	}
	if !strings.Contains(a.all()[0].Detail, "too small") {
		t.Fatalf("warning not in the intent's audit detail: %+v", a.all()[0])
	}
}

func TestNoCapacityWarningWhenStableCanTakeIt(t *testing.T) {
	// 25% canary on 3 targets, 75% stable on 3: stable at 100% is 1.33x
	// its own load now, within reason.
	e, _, _, _ := newTestEngine(t, 25, func(c *Config) {
		c.Health = fakeHealth{h: [2]model.Health{{Healthy: 3}, {Healthy: 3}}}
	})
	e.PollOnce(context.Background())
	if res := e.Execute(context.Background(), model.Intent{Kind: model.Rollback, Actor: actor()}); len(res.Warnings) != 0 {
		t.Fatalf("spurious warning: %v", res.Warnings)
	}
}

func TestWarningWhenReceivingSideHasNoHealthyTargets(t *testing.T) {
	e, _, _, _ := newTestEngine(t, 5, func(c *Config) {
		c.Health = fakeHealth{h: [2]model.Health{{Healthy: 3}, {Unhealthy: 2}}}
	})
	e.PollOnce(context.Background())
	res := e.Execute(context.Background(), model.Intent{Kind: model.StepUp, Actor: actor()})
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "canary has no healthy targets") {
		t.Fatalf("warnings %v", res.Warnings)
	}
}

func TestIncrementalMetricsWindow(t *testing.T) {
	m := &fakeMetrics{}
	e, _, _, clk := newTestEngine(t, 10, func(c *Config) { c.Metrics = m; c.History = time.Hour })
	clk.Advance(time.Minute)
	e.PollOnce(context.Background())
	if len(m.calls) != 2 {
		t.Fatalf("calls %v", m.calls)
	}
	if got := m.calls[0][1].Sub(m.calls[0][0]); got != time.Hour {
		t.Errorf("first window %v, want the full history", got)
	}
	if got := m.calls[1][1].Sub(m.calls[1][0]); got > revisionLookback+2*time.Minute {
		t.Errorf("second window %v: not incremental", got)
	}
	snap := e.Snapshot()
	if n := len(snap.Signals[model.Canary][model.Requests]); n < 59 {
		t.Errorf("canary requests series has %d points", n)
	}
	if share, ok := snap.ObservedCanaryShare(snap.Now.Add(-5 * time.Minute)); !ok || share < 9.9 || share > 10.1 {
		t.Errorf("observed share %v %v", share, ok)
	}
}

func TestRunPollsOnTheClockAndSubscribersSeeEverything(t *testing.T) {
	e, _, _, clk := newTestEngine(t, 5, nil)
	updates, cancel := e.Subscribe()
	defer cancel()
	<-updates // the current snapshot is delivered at once
	// Read before Run starts: its first poll races a read made after.
	start := e.Snapshot().Seq
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()

	// Thirty simulated minutes of ten-second polls.
	for i := 0; i < 180; i++ {
		waitArmed(t, clk)
		clk.Advance(10 * time.Second)
	}
	waitArmed(t, clk)
	stop()
	<-done
	if polls := e.Snapshot().Seq - start; polls != 181 {
		t.Fatalf("%d polls in 30 simulated minutes, want 181", polls)
	}
	if got := (<-updates).Seq; got != e.Snapshot().Seq {
		t.Fatalf("subscriber's newest snapshot is %d, engine's %d", got, e.Snapshot().Seq)
	}
}

// waitArmed waits until the run loop has armed its next tick.
func waitArmed(t *testing.T, clk *clock.Manual) {
	t.Helper()
	clk.BlockUntil(1)
}

func TestReconcileClosesOpenIntents(t *testing.T) {
	e, r, a, _ := newTestEngine(t, 25, nil)
	pending := []model.AuditEntry{
		{Seq: 7, Action: "shift", Phase: model.PhaseIntent, From: model.Pct(10), To: model.Pct(25)},    // took effect
		{Seq: 9, Action: "promote", Phase: model.PhaseIntent, From: model.Pct(25), To: model.Pct(100)}, // did not
		{Seq: 11, Action: "shift", Phase: model.PhaseIntent, From: model.Pct(1), To: model.Pct(5)},     // unknown
	}
	got, err := e.Reconcile(context.Background(), pending, actor())
	if err != nil || len(got) != 3 {
		t.Fatalf("%v %+v", err, got)
	}
	if got[0].Outcome != model.OutcomeOK || !got[0].Verified || got[0].IntentSeq != 7 {
		t.Errorf("applied intent: %+v", got[0])
	}
	if got[1].Outcome != model.OutcomeFailed || !strings.Contains(got[1].Detail, "did not take effect") {
		t.Errorf("unapplied intent: %+v", got[1])
	}
	if !strings.Contains(got[2].Detail, "unknown") || got[2].Actor.Via != "reconcile" {
		t.Errorf("unknown intent: %+v", got[2])
	}
	if len(r.writes) != 0 || len(a.all()) != 3 {
		t.Errorf("reconcile must only read and audit: writes %v audit %d", r.writes, len(a.all()))
	}
	r.mu.Lock()
	r.readErr = errors.New("connection refused")
	r.mu.Unlock()
	if _, err := e.Reconcile(context.Background(), pending, actor()); err == nil || len(a.all()) != 3 {
		t.Fatalf("reconcile with the split unreadable: %v, audit %d", err, len(a.all()))
	}
}

func TestNoPerHostCapacityWarningForLambda(t *testing.T) {
	e, r, _, _ := newTestEngine(t, 50, func(c *Config) {
		c.Health = fakeHealth{h: [2]model.Health{{Healthy: 1}, {Healthy: 1}}}
	})
	r.target.Kind = model.KindLambda
	e.PollOnce(context.Background())
	if res := e.Execute(context.Background(), model.Intent{Kind: model.Rollback, Actor: actor()}); len(res.Warnings) != 0 {
		t.Fatalf("a Lambda version is not a host count: %v", res.Warnings)
	}
}

type failingHealth struct{}

func (failingHealth) Health(context.Context) ([2]model.Health, error) {
	return [2]model.Health{}, errors.New("Throttling: rate exceeded")
}

func TestFailedHealthReadIsMarkedUnknown(t *testing.T) {
	e, _, _, _ := newTestEngine(t, 10, func(c *Config) { c.Health = failingHealth{} })
	s := e.Snapshot()
	if s.HealthErr == "" || s.Health[model.Stable].Total() != 0 {
		t.Fatalf("health after a failed read: %+v err %q", s.Health, s.HealthErr)
	}
}
