package ui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	pclock "github.com/perch-dev/perch/clock"
)

// runTick runs the cockpit's clock command while the test moves the
// manual clock by d, and hands the cockpit what it returns.
func runTick(t *testing.T, m *Model, clk *pclock.Manual, d time.Duration) {
	t.Helper()
	cmd := m.tick()
	got := make(chan tea.Msg, 1)
	go func() { got <- cmd() }()
	clk.BlockUntil(1)
	clk.Advance(d)
	m.Update(<-got)
}

func dataLine(t *testing.T, m *Model) string {
	t.Helper()
	return strings.Split(screen(t, m, 160, 40), "\n")[1]
}

// Every call hangs for 35 s: no snapshot arrives. The header's ages follow
// the clock and turn STALE once a poll is overdue (two intervals), instead
// of saying "0s" until a poll finally ends; when a failed poll's snapshot
// does arrive, it does not reset them to the poll's start.
func TestFreshnessFollowsTheClockWhilePollsHang(t *testing.T) {
	s := healthySnapshot()
	t0 := s.Now
	s.SplitAt, s.MetricsAt, s.AlarmsAt = t0, t0, t0
	clk := pclock.NewManual(t0)
	m, eng := newTestModel(s, Options{Clock: clk, Poll: 10 * time.Second})
	if l := dataLine(t, m); !strings.Contains(l, "split 0s · metrics 0s · alarms 0s") {
		t.Fatalf("fresh: %q", l)
	}
	runTick(t, m, clk, 15*time.Second)
	if l := dataLine(t, m); !strings.Contains(l, "split 15s · metrics 15s · alarms 15s") || strings.Contains(l, "STALE") {
		t.Fatalf("15s without a poll, one is due: %q", l)
	}
	runTick(t, m, clk, 20*time.Second)
	if l := dataLine(t, m); !strings.Contains(l, "split STALE 35s · metrics STALE 35s · alarms STALE 35s") {
		t.Fatalf("35s without a poll: %q", l)
	}
	if v := screen(t, m, 160, 40); !strings.Contains(v, hms(t0.Add(35*time.Second))+" UTC") {
		t.Errorf("the header's clock stopped with the polls:\n%s", v)
	}

	// The poll that started at +10s finally gives up at +40s: its snapshot
	// says +10s, its reads failed.
	failed := s
	failed.Seq++
	failed.Now = t0.Add(10 * time.Second)
	failed.SplitKnown = false
	failed.SplitErr, failed.MetricsErr, failed.AlarmsErr = "timed out waiting for AWS", "timed out waiting for AWS", "timed out waiting for AWS"
	runTick(t, m, clk, 5*time.Second)
	eng.publish(failed)
	m.Update(snapshotMsg{failed})
	if l := dataLine(t, m); !strings.Contains(l, "split STALE 40s ✗ timed out") || !strings.Contains(l, "metrics STALE 40s") {
		t.Fatalf("after the failed poll's snapshot: %q", l)
	}
}

// Without a clock (a replay) the snapshot's time is the reference, as
// recorded.
func TestFreshnessWithoutAClockUsesTheSnapshot(t *testing.T) {
	s := healthySnapshot()
	s.SplitAt = s.Now.Add(-25 * time.Second)
	m, _ := newTestModel(s, Options{Poll: 10 * time.Second})
	if l := dataLine(t, m); !strings.Contains(l, "split STALE 25s") {
		t.Fatalf("%q", l)
	}
}
