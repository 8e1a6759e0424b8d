package rollout

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/model"
)

func TestPollFedTakesTheFeedInsteadOfFetching(t *testing.T) {
	var m *fakeMetrics
	e, r, _, clk := newTestEngine(t, 10, func(c *Config) { m = c.Metrics.(*fakeMetrics) })
	ctx := context.Background()
	own := len(m.calls)

	clk.Advance(time.Minute)
	at := clk.Now().Truncate(time.Minute).Add(-time.Minute)
	snap := e.PollFed(ctx, &Feed{Data: []model.SeriesData{
		{Side: model.Canary, Signal: "orders", Points: []model.Point{{T: at, V: 42}}},
	}})
	if len(m.calls) != own {
		t.Fatalf("PollFed fetched by itself: %d calls, want %d", len(m.calls), own)
	}
	if pts := snap.Signals[model.Canary]["orders"]; len(pts) != 1 || pts[0].V != 42 {
		t.Fatalf("fed points not stored: %v", pts)
	}
	if !snap.MetricsAt.Equal(clk.Now()) || snap.Verdict == nil {
		t.Fatalf("metrics at %v, verdict %v", snap.MetricsAt, snap.Verdict)
	}
	metricsAt, verdict := snap.MetricsAt, *snap.Verdict

	// Between periods: routing only. The split is read, metrics stay.
	r.set(r.split.WithCanaryPercent(25))
	clk.Advance(10 * time.Second)
	snap = e.PollFed(ctx, nil)
	if snap.Split.CanaryPercent() != 25 || !snap.SplitAt.Equal(clk.Now()) {
		t.Fatalf("routing poll did not read the split: %v at %v", snap.Split, snap.SplitAt)
	}
	if !snap.MetricsAt.Equal(metricsAt) || snap.Verdict == nil || snap.Verdict.Summary != verdict.Summary {
		t.Fatalf("a routing-only poll changed the metrics: at %v verdict %v", snap.MetricsAt, snap.Verdict)
	}
	if pts := snap.Signals[model.Canary]["orders"]; len(pts) != 1 {
		t.Fatalf("signals lost on a routing-only poll: %v", pts)
	}

	snap = e.PollFed(ctx, &Feed{Err: errors.New("Throttling: rate exceeded")})
	if !strings.Contains(snap.MetricsErr, "Throttling") || len(snap.Signals[model.Canary]["orders"]) != 1 {
		t.Fatalf("a failed shared fetch: err %q, signals %v", snap.MetricsErr, snap.Signals[model.Canary])
	}
	if len(m.calls) != own {
		t.Fatalf("PollFed fetched by itself")
	}

	// The single-target path is unchanged: PollOnce fetches for itself.
	e.PollOnce(ctx)
	if len(m.calls) != own+1 {
		t.Fatalf("PollOnce made %d fetches, want 1", len(m.calls)-own)
	}
}

func TestPollRequestsDeliversRequestPoll(t *testing.T) {
	e, _, _, _ := newTestEngine(t, 10, nil)
	e.RequestPoll()
	select {
	case <-e.PollRequests():
	default:
		t.Fatal("RequestPoll did not reach PollRequests")
	}
}
