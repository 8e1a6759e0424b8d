package ui

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/perch-dev/perch/model"
)

// leakSnapshot is healthySnapshot with the canary's memory climbing and a
// log watch whose canary logs a pattern stable never does.
func leakSnapshot() model.Snapshot {
	s := healthySnapshot()
	rng := rand.New(rand.NewPCG(3, 3))
	s.Signals[model.Stable][model.MemoryUtilization] = seriesFor(rng, fixNow.Add(-30*time.Minute), 0.01, func(float64) float64 { return 45 })
	s.Signals[model.Canary][model.MemoryUtilization] = seriesFor(rng, fixNow.Add(-30*time.Minute), 0.01, func(ago float64) float64 { return 75 - ago })
	s.Signals[model.Stable][model.CPUUtilization] = seriesFor(rng, fixNow.Add(-30*time.Minute), 0.02, func(float64) float64 { return 30 })
	s.Signals[model.Canary][model.CPUUtilization] = seriesFor(rng, fixNow.Add(-30*time.Minute), 0.02, func(float64) float64 { return 31 })
	rows := model.ComparePatterns([2][]model.LogPattern{
		model.Stable: {{Pattern: "WARN retry <num>/<num>", Count: 90, Sample: "WARN retry 1/3"}},
		model.Canary: {{Pattern: "WARN retry <num>/<num>", Count: 10, Sample: "WARN retry 2/3"},
			{Pattern: "ERROR IllegalStateException: coupon <id>", Count: 9, Sample: "ERROR IllegalStateException: coupon ord-1\x1b[2J"}},
	}, [2]float64{9000, 1000}, model.NewPatternRule{})
	s.Logs = &model.LogsView{Rows: rows, BytesScanned: 12.5 * (1 << 20), Queries: 14, Every: time.Minute,
		From: [2]time.Time{fixNow.Add(-10 * time.Minute), fixNow.Add(-10 * time.Minute)},
		To:   [2]time.Time{fixNow, fixNow}, At: [2]time.Time{fixNow, fixNow}}
	return s
}

func TestSaturationRowAndPatternsPane(t *testing.T) {
	for _, size := range [][2]int{{200, 50}, {80, 24}} {
		m, _ := newTestModel(leakSnapshot(), Options{})
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		view := ansi.Strip(m.View())
		if !strings.Contains(view, "memory") || !strings.Contains(view, "72%") {
			t.Fatalf("%v: no saturation row with the canary's 72%% memory:\n%s", size, view)
		}
		if strings.Contains(view, "log patterns") {
			t.Fatalf("%v: patterns pane shown before L", size)
		}
		if !strings.Contains(view, "logs: 12.5 MB scanned, 14 queries, 1 NEW (L)") {
			t.Fatalf("%v: status bar without bytes scanned:\n%s", size, view)
		}
		if cmd := press(m, "L"); cmd != nil {
			t.Fatalf("L returned a command: it only redraws")
		}
		view = ansi.Strip(m.View())
		if got := strings.Count(view, "\n") + 1; got != size[1] {
			t.Fatalf("%v: %d lines", size, got)
		}
		for _, want := range []string{"log patterns", "1 NEW in canary", "NEW  c      9 s      0  ERROR IllegalStateException: coupon <id>", "e.g. ERROR IllegalStateException: coupon ord-1"} {
			if !strings.Contains(view, want) {
				t.Fatalf("%v: patterns pane lacks %q:\n%s", size, want, view)
			}
		}
		if strings.Contains(view, "\x1b[2J") {
			t.Fatal("a log line's escape reached the screen")
		}
		if strings.Contains(view, "NEW  c     10") {
			t.Fatalf("stable's usual pattern marked NEW:\n%s", view)
		}
		press(m, "L")
		if strings.Contains(ansi.Strip(m.View()), "log patterns") {
			t.Fatalf("%v: L did not hide the pane", size)
		}
	}
}

func TestLogsKeyInHelp(t *testing.T) {
	m, _ := sized(healthySnapshot(), Options{})
	press(m, "?")
	if !regexp.MustCompile(`L\s+log patterns`).MatchString(ansi.Strip(m.View())) {
		t.Fatalf("full help lacks L:\n%s", ansi.Strip(m.View()))
	}
	press(m, "?", "L")
	if !strings.Contains(ansi.Strip(m.View()), "log patterns: not watched") {
		t.Fatal("L on a cockpit without logs does not say why the pane is empty")
	}
}
