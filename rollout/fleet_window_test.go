package rollout

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
)

// TestFleetSnapshotWindow: with a snapshot window, members' snapshots
// carry only its newest points while the judge still reads all three
// hours (its verdict is the same as without a window); the focused
// member's snapshot carries everything at once, and the window returns
// when the cockpit closes.
func TestFleetSnapshotWindow(t *testing.T) {
	run := func(window time.Duration) (*Fleet, []*Engine) {
		clk := clock.NewManual(time.Date(2026, 11, 26, 6, 0, 30, 0, time.UTC))
		var members []FleetMember
		var engines []*Engine
		for i := range 3 {
			r := &fakeRouter{split: model.Split{StableID: "s", CanaryID: "c"}.WithCanaryPercent(10),
				target: model.Target{Kind: model.KindALB, Name: "t", RuleARN: "arn:rule/" + itoa(i)}}
			e, err := New(Config{Router: r, Metrics: &fakeMetrics{}, Audit: &memAudit{}, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			members = append(members, FleetMember{Engine: e, Metrics: i})
			engines = append(engines, e)
		}
		f, err := NewFleet(FleetConfig{Members: members, Shared: dayShared{}, Clock: clk, PublishDelay: 30 * time.Second, SnapshotWindow: window})
		if err != nil {
			t.Fatal(err)
		}
		f.PollOnce(context.Background())
		return f, engines
	}
	points := func(e *Engine) int { return len(e.Snapshot().Signals[model.Canary][model.Requests]) }

	_, fullEngines := run(0)
	f, engines := run(35 * time.Minute)
	if n := points(fullEngines[0]); n < 170 {
		t.Fatalf("without a window the snapshot has %d points, want the 3h history", n)
	}
	if n := points(engines[0]); n < 30 || n > 36 {
		t.Fatalf("with a 35m window the snapshot has %d points", n)
	}
	if a, b := fullEngines[0].Snapshot().Verdict, engines[0].Snapshot().Verdict; a == nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("the window changed the verdict: %+v vs %+v", a, b)
	}
	f.Focus(1)
	if n := points(engines[1]); n < 170 {
		t.Fatalf("the focused member's snapshot has %d points, want everything", n)
	}
	f.Focus(-1)
	if n := points(engines[1]); n > 36 {
		t.Fatalf("after the cockpit closed: %d points", n)
	}
}
