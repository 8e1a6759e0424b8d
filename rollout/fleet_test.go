package rollout

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
)

// fakeShared is the SharedMetrics port: it records each fetch's requests
// and answers one requests point per period in the window.
type fakeShared struct {
	mu      sync.Mutex
	fetches [][]MetricsRequest
	fail    map[int]bool // member IDs whose fetch fails
}

func (s *fakeShared) FetchShared(_ context.Context, reqs []MetricsRequest) ([]MetricsResult, model.FetchCost) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches = append(s.fetches, append([]MetricsRequest(nil), reqs...))
	out := make([]MetricsResult, len(reqs))
	cost := model.FetchCost{Calls: 1}
	for i, r := range reqs {
		out[i].Member = r.Member
		cost.Queries += 10
		cost.Metrics += 10
		if s.fail[r.Member] {
			out[i].Err = errors.New("Throttling: rate exceeded")
			continue
		}
		var pts []model.Point
		for t := r.Start; t.Before(r.End); t = t.Add(time.Minute) {
			pts = append(pts, model.Point{T: t, V: 100})
		}
		cost.Datapoints += len(pts)
		out[i].Data = []model.SeriesData{{Side: model.Canary, Signal: model.Requests, Points: pts}}
	}
	return out, cost
}

func (s *fakeShared) last() []MetricsRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[len(s.fetches)-1]
}

func newTestFleet(t *testing.T, n int, mutate func(*FleetConfig)) (*Fleet, *fakeShared, []*fakeRouter, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(t0.Add(50 * time.Second))
	shared := &fakeShared{fail: map[int]bool{}}
	var members []FleetMember
	var routers []*fakeRouter
	for i := range n {
		r := &fakeRouter{
			split:  model.Split{StableID: "s", CanaryID: "c"}.WithCanaryPercent(10),
			target: model.Target{Kind: model.KindALB, Name: string(rune('a' + i))},
		}
		e, err := New(Config{Router: r, Metrics: &fakeMetrics{}, Audit: &memAudit{}, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		routers = append(routers, r)
		members = append(members, FleetMember{Engine: e, Metrics: 100 + i})
	}
	cfg := FleetConfig{Members: members, Shared: shared, Clock: clk, PublishDelay: 30 * time.Second, History: time.Hour}
	if mutate != nil {
		mutate(&cfg)
	}
	f, err := NewFleet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f, shared, routers, clk
}

func TestNextMetricsPoll(t *testing.T) {
	base := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct{ now, want string }{
		{"08:00:00", "08:00:30"},
		{"08:00:29", "08:00:30"},
		{"08:00:30", "08:01:30"}, // just polled: the next datapoint is a period away
		{"08:00:59", "08:01:30"},
		{"08:01:31", "08:02:30"},
	} {
		now, _ := time.Parse("15:04:05", c.now)
		now = base.Add(time.Duration(now.Hour())*time.Hour + time.Duration(now.Minute())*time.Minute + time.Duration(now.Second())*time.Second - 8*time.Hour)
		got := NextMetricsPoll(now, time.Minute, 30*time.Second).Format("15:04:05")
		if got != c.want {
			t.Errorf("after %s: next poll %s, want %s", c.now, got, c.want)
		}
	}
}

func TestFleetWindowsAreIncremental(t *testing.T) {
	f, shared, _, clk := newTestFleet(t, 3, nil)
	ctx := context.Background()
	st := f.PollOnce(ctx)
	if len(shared.fetches) != 1 || len(shared.last()) != 3 {
		t.Fatalf("want one shared fetch for all three members, got %v", shared.fetches)
	}
	// 08:00:50 with a 30s delay: periods before 08:00 are published.
	end := t0
	for _, r := range shared.last() {
		if !r.Start.Equal(end.Add(-time.Hour)) || !r.End.Equal(end) {
			t.Fatalf("first window %v..%v, want the hour of history up to %v", r.Start, r.End, end)
		}
	}
	if !st.NextPoll.Equal(t0.Add(90 * time.Second)) {
		t.Fatalf("next poll %v, want the next boundary plus the delay", st.NextPoll)
	}
	snap := f.Engines()[0].Snapshot()
	if n := len(snap.Signals[model.Canary][model.Requests]); n != 60 {
		t.Fatalf("engine got %d points from the feed, want 60", n)
	}

	clk.Set(st.NextPoll)
	f.PollOnce(ctx)
	for _, r := range shared.last() {
		// Only what is new, plus the lookback's three periods again for
		// late revisions.
		if !r.End.Equal(t0.Add(time.Minute)) || !r.Start.Equal(t0.Add(-3*time.Minute)) {
			t.Fatalf("second window %v..%v", r.Start.Format("15:04"), r.End.Format("15:04"))
		}
	}
	if n := len(f.Engines()[2].Snapshot().Signals[model.Canary][model.Requests]); n != 61 {
		t.Fatalf("after the second poll the engine has %d points, want 61", n)
	}
}

func TestFleetFailedMemberReadsTheGapNextTime(t *testing.T) {
	f, shared, _, clk := newTestFleet(t, 2, nil)
	ctx := context.Background()
	f.PollOnce(ctx)
	shared.fail[101] = true
	clk.Advance(time.Minute)
	st := f.PollOnce(ctx)
	if st.Failed != 1 {
		t.Fatalf("failed %d, want 1", st.Failed)
	}
	if e := f.Engines()[1].Snapshot().MetricsErr; e == "" {
		t.Fatal("the failing member's snapshot does not say its metrics failed")
	}
	delete(shared.fail, 101)
	clk.Advance(time.Minute)
	f.PollOnce(ctx)
	reqs := shared.last()
	if reqs[0].Start.Equal(reqs[1].Start) || !reqs[1].Start.Before(reqs[0].Start) {
		t.Fatalf("the member that failed must read from before its gap: %v vs %v", reqs[1].Start, reqs[0].Start)
	}
}

func TestFleetCostFigures(t *testing.T) {
	var all, cw int64
	f, _, _, clk := newTestFleet(t, 4, func(c *FleetConfig) {
		c.Calls = func() (int64, int64) { return all, cw }
	})
	ctx := context.Background()
	f.PollOnce(ctx)
	all, cw = 40, 4 // a minute of routing, health and alarms reads
	clk.Advance(time.Minute)
	st := f.PollOnce(ctx)
	if st.MetricsPerHour != 40*60 {
		t.Errorf("metrics/h %v, want 4 members x 10 metrics x 60 polls", st.MetricsPerHour)
	}
	if st.APICallsPerHour != 40*60 {
		t.Errorf("API calls/h %v, want 2400", st.APICallsPerHour)
	}
	want := 2400.0/1000*GetMetricDataPerThousandMetrics + 240.0/1000*CloudWatchPerThousandRequests
	if math.Abs(st.CostPerHour-want) > 1e-12 {
		t.Errorf("cost/h %v, want %v", st.CostPerHour, want)
	}
	if st.Polls != 2 || st.Total.Metrics != 80 {
		t.Errorf("stats %+v", st)
	}
}

// TestFleetRunTimesPollsToPublishing: metrics polls happen at each period
// boundary plus the delay and not in between; the focused member's split
// is read at once and then every Poll, the others' only with the metrics.
func TestFleetRunTimesPollsToPublishing(t *testing.T) {
	f, shared, routers, clk := newTestFleet(t, 2, func(c *FleetConfig) { c.Poll = 10 * time.Second })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates, stop := f.Subscribe()
	defer stop()
	<-updates // the stats before any poll
	f.Focus(1)
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	<-updates // the first metrics poll, at 08:00:50
	// Armed: the next metrics poll, and the focused member's routing tick
	// (twice: once before the focus signal was taken, once after).
	clk.BlockUntil(3)
	routers[1].set(routers[1].split.WithCanaryPercent(25))
	clk.Advance(10 * time.Second) // 08:01:00
	waitSnap(t, f.Engines()[1], func(s model.Snapshot) bool { return s.Split.CanaryPercent() == 25 })
	if len(shared.fetches) != 1 {
		t.Fatal("metrics polled before a new datapoint could exist")
	}
	if got := f.Engines()[0].Snapshot().SplitAt; !got.Equal(t0.Add(50 * time.Second)) {
		t.Errorf("an unfocused member was polled between metrics polls (split read at %v)", got)
	}
	clk.BlockUntil(2)
	clk.Advance(30 * time.Second) // 08:01:30: the 08:00 period is published
	st := <-updates
	if !st.LastPoll.Equal(t0.Add(90*time.Second)) || len(shared.fetches) != 2 {
		t.Fatalf("second metrics poll at %v (%d fetches), want 08:01:30", st.LastPoll, len(shared.fetches))
	}
	cancel()
	<-done
}

// waitSnap reads the engine's snapshots until one satisfies cond; the
// timeout only bounds a broken test.
func waitSnap(t *testing.T, e *Engine, cond func(model.Snapshot) bool) {
	t.Helper()
	ch, cancel := e.Subscribe()
	defer cancel()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-ch:
			if cond(s) {
				return
			}
		case <-timeout:
			t.Fatal("no snapshot met the condition")
		}
	}
}
