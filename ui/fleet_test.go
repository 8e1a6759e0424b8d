package ui

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
)

// fakeFleet fakes the ui.Fleet port over fake engines.
type fakeFleet struct {
	mu      sync.Mutex
	engines []*fakeEngine
	status  rollout.FleetStats
	subs    []chan rollout.FleetStats
	focus   []int
}

func (f *fakeFleet) Engines() []rollout.Control {
	out := make([]rollout.Control, len(f.engines))
	for i, e := range f.engines {
		out[i] = e
	}
	return out
}

func (f *fakeFleet) Status() rollout.FleetStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeFleet) Subscribe() (<-chan rollout.FleetStats, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan rollout.FleetStats, 1)
	ch <- f.status
	f.subs = append(f.subs, ch)
	return ch, func() {}
}

func (f *fakeFleet) Focus(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.focus = append(f.focus, i)
}

func (f *fakeFleet) lastFocus() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.focus) == 0 {
		return -2
	}
	return f.focus[len(f.focus)-1]
}

var fleetWords = []string{"checkout", "payments", "search", "cart", "orders", "catalog", "profile", "inventory", "shipping", "pricing"}

// fleetSnapshot is target i of a test fleet: mostly healthy, with a 5xx
// spike, unknown routing, drift, a Lambda alias and passes spread over it.
func fleetSnapshot(i int) model.Snapshot {
	var s model.Snapshot
	switch i % 10 {
	case 3:
		s = errorSpikeSnapshot()
	case 5:
		s = unknownSnapshot()
	case 9:
		s = driftSnapshot()
	default:
		s = healthySnapshot()
	}
	s.Target.Name = fmt.Sprintf("%s-%d", fleetWords[i%len(fleetWords)], i/len(fleetWords)+1)
	if i%2 == 1 {
		s.Target.Region = "eu-west-1"
	}
	if i%10 == 6 {
		s.Target.Kind = model.KindLambda
	}
	if i%10 == 1 || i%10 == 8 {
		s.Verdict = &model.Verdict{Overall: model.VerdictPass, Summary: "PASS"}
	}
	if i%10 == 4 {
		s.Split = s.Split.WithCanaryPercent(50)
		s.Alarms = nil
	}
	return s
}

func newTestFleetView(n int) (*FleetModel, *fakeFleet) {
	f := &fakeFleet{status: rollout.FleetStats{
		Polls: 12, LastPoll: fixNow.Add(-40 * time.Second), NextPoll: fixNow.Add(20 * time.Second),
		Last:            model.FetchCost{Calls: 1, Queries: n * 10, Metrics: n * 10, Datapoints: n * 40},
		APICallsPerHour: float64(n) * 4 * 60, MetricsPerHour: float64(n) * 10 * 60, CostPerHour: float64(n) * 0.006,
		CallsPerMinute: map[string]float64{"cloudwatch": 2, "elbv2": 1},
	}}
	for i := range n {
		f.engines = append(f.engines, newFake(fleetSnapshot(i)))
	}
	m := NewFleet(f, FleetOptions{Renderer: asciiRenderer(), Actor: fixActor, Title: "perch.yaml"})
	m.Init()
	return m, f
}

// fleetScreen renders m at w x h, checking it fills the terminal exactly.
func fleetScreen(t *testing.T, m *FleetModel, w, h int) string {
	t.Helper()
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	v := ansi.Strip(m.View())
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("fleet view at %dx%d has %d lines", w, h, len(lines))
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide at %dx%d: %q", i+1, n, w, h, l)
		}
	}
	return v
}

func TestFleetGoldenScreens(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {200, 50}} {
		name := "fleet-" + itoa(sz.w) + "x" + itoa(sz.h)
		t.Run(name, func(t *testing.T) {
			m, _ := newTestFleetView(20)
			golden.RequireEqual(t, []byte(fleetScreen(t, m, sz.w, sz.h)))
		})
	}
	t.Run("fleet-filter-80x24", func(t *testing.T) {
		m, _ := newTestFleetView(20)
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		for _, k := range []string{"/", "f", "a", "i", "l", "enter"} {
			m.Update(keyMsg(k))
		}
		golden.RequireEqual(t, []byte(fleetScreen(t, m, 80, 24)))
	})
	t.Run("fleet-cockpit-80x24", func(t *testing.T) {
		m, _ := newTestFleetView(20)
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		m.Update(keyMsg("down"))
		m.Update(keyMsg("down"))
		m.Update(keyMsg("down"))
		m.Update(keyMsg("enter"))
		golden.RequireEqual(t, []byte(fleetScreen(t, m, 80, 24)))
	})
}

func TestFleetRowsShowWhatMatters(t *testing.T) {
	m, _ := newTestFleetView(20)
	v := fleetScreen(t, m, 200, 50)
	for _, want := range []string{
		"20 targets", "✗ 2 FAIL", "● 2 ALARM", "? 2 UNKNOWN",
		"cart-1", "✗ FAIL", "● 1 ALARM: checkout-canary-5xx", // the spike row names its firing alarm
		"orders-1", "? UNKNOWN", // unknown routing says so in words
		"pricing-1", "DRIFT → 30%",
		"GetMetricData 1 call/poll (200 metrics, 800 datapoints)", "CloudWatch ≈$0.12/h", "AWS 80 calls/min (cloudwatch 2 · elbv2 1)",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("fleet view lacks %q", want)
		}
	}
	// The spike row: canary 5xx far above stable, shown with both values.
	row := lineWith(v, "cart-1 ")
	if !strings.Contains(row, "% vs 0.") || !strings.Contains(row, "auto 1/3") {
		t.Errorf("spike row %q: want canary vs stable 5xx and the autopilot step", row)
	}
}

func lineWith(v, s string) string {
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestFleetEnterOpensCockpitEscReturns(t *testing.T) {
	m, f := newTestFleetView(20)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	m.Update(keyMsg("down"))
	m.Update(keyMsg("down"))
	m.Update(keyMsg("down"))
	_, cmd := m.Update(keyMsg("enter"))
	if cmd == nil || m.cockpit == nil {
		t.Fatal("enter did not open a cockpit")
	}
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "perch.yaml › cart-1") || !strings.Contains(v, "esc fleet") || !strings.Contains(v, "5xx rate %") {
		t.Fatalf("cockpit screen:\n%s", v)
	}
	if f.lastFocus() != 3 {
		t.Errorf("focus %d, want 3 (the open target polls faster)", f.lastFocus())
	}
	// Cockpit keys go to the cockpit: tab moves its focus, not the fleet's cursor.
	m.Update(keyMsg("tab"))
	if m.Selected() != 3 || m.cockpit.focus != focusAudit {
		t.Errorf("tab went to the fleet (selected %d, cockpit focus %v)", m.Selected(), m.cockpit.focus)
	}
	_, cmd = m.Update(keyMsg("esc"))
	if cmd == nil {
		t.Fatal("esc in the cockpit did nothing")
	}
	m.Update(cmd())
	if m.cockpit != nil {
		t.Fatal("esc did not return to the fleet")
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "perch fleet") || !strings.Contains(lineWith(v, "▸"), "cart-1") {
		t.Fatalf("back on the fleet with the cursor on cart-1? got\n%s", v)
	}
	if f.lastFocus() != -1 {
		t.Errorf("focus %d after esc, want -1", f.lastFocus())
	}
}

func TestFleetEscInConfirmCancelsFirst(t *testing.T) {
	m, _ := newTestFleetView(5)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	m.Update(keyMsg("enter"))
	m.Update(keyMsg("r"))
	if !m.cockpit.confirm.open {
		t.Fatal("r did not open the confirm dialog")
	}
	_, cmd := m.Update(keyMsg("esc"))
	if m.cockpit == nil || m.cockpit.confirm.open {
		t.Fatal("esc in the dialog must cancel it and stay in the cockpit")
	}
	if cmd != nil {
		if _, back := cmd().(backMsg); back {
			t.Fatal("esc in the dialog also left the cockpit")
		}
	}
}

func TestFleetDropsMessagesOfAClosedCockpit(t *testing.T) {
	m, f := newTestFleetView(5)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	m.Update(keyMsg("enter")) // target 0
	old := wrapGen(m.gen, func() tea.Msg { return snapshotMsg{f.engines[0].Snapshot()} })
	_, back := m.Update(keyMsg("esc"))
	m.Update(back())
	m.Update(keyMsg("down"))
	m.Update(keyMsg("enter")) // target 1
	m.Update(old())
	if name := m.cockpit.snap.Target.Name; name != "payments-1" {
		t.Fatalf("the cockpit on payments-1 shows %s after a stale message", name)
	}
}

func TestFleetFilter(t *testing.T) {
	m, _ := newTestFleetView(20)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	for _, k := range []string{"/", "e", "u", "-", "w", "e", "s", "t", " ", "f", "a", "i", "l"} {
		m.Update(keyMsg(k))
	}
	// Filtering while typing: every word must match.
	if fmt.Sprint(m.visible) != "[3 13]" {
		t.Fatalf("eu-west fail matches %v, want the two failing targets in eu-west-1", m.visible)
	}
	m.Update(keyMsg("enter"))
	if m.filtering || m.filter.Value() != "eu-west fail" {
		t.Fatal("enter should keep the filter and give the keys back")
	}
	m.Update(keyMsg("esc"))
	if len(m.visible) != 20 {
		t.Fatalf("esc left %d rows", len(m.visible))
	}
	for _, k := range []string{"/", "z", "z", "z"} {
		m.Update(keyMsg(k))
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "no target matches") {
		t.Errorf("empty filter result not said:\n%s", v)
	}
	if _, cmd := m.Update(keyMsg("enter")); cmd != nil || m.cockpit != nil {
		t.Error("enter on no rows opened something")
	}
	m.Update(keyMsg("enter"))
	if m.cockpit != nil {
		t.Error("enter with nothing selected opened a cockpit")
	}
}

func TestFleetRedrawsOnlyChangedRows(t *testing.T) {
	m, f := newTestFleetView(30)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	base := m.renders
	for range 10 {
		_ = m.View()
	}
	m.Update(keyMsg("down"))
	if m.renders != base {
		t.Fatalf("View or the cursor drew %d rows", m.renders-base)
	}
	s := f.engines[7].Snapshot()
	s.Seq++
	s.Split = s.Split.WithCanaryPercent(50)
	f.engines[7].publish(s)
	m.Update(fleetStatusMsg{f.Status()})
	if m.renders != base+1 {
		t.Fatalf("a poll that changed one target drew %d rows", m.renders-base)
	}
	if !strings.Contains(lineWith(ansi.Strip(m.View()), "inventory-1"), "50%") {
		t.Error("the changed row does not show the new split")
	}
}

// TestFleetDrawsOnlyRowsOnScreen: of 500 targets only the rows that fit
// are drawn; a poll that changes every target draws those again, and the
// rest are drawn as they scroll into view.
func TestFleetDrawsOnlyRowsOnScreen(t *testing.T) {
	m, f := newTestFleetView(500)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	n := m.rowsHeight()
	if m.renders != n {
		t.Fatalf("first frame drew %d rows, want the %d on screen", m.renders, n)
	}
	for _, e := range f.engines {
		s := e.Snapshot()
		s.Seq++
		e.publish(s)
	}
	base := m.renders
	m.Update(fleetStatusMsg{f.Status()})
	if m.renders-base != n {
		t.Fatalf("a poll that changed all 500 drew %d rows, want %d", m.renders-base, n)
	}
	base = m.renders
	m.Update(tea.KeyMsg{Type: tea.KeyPgDown})
	m.Update(tea.KeyMsg{Type: tea.KeyPgDown})
	if got := m.renders - base; got == 0 || got > 2*n {
		t.Fatalf("two pages down drew %d rows, want at most %d", got, 2*n)
	}
	v := ansi.Strip(m.View())
	sel := f.engines[m.Selected()].Snapshot().Target.Name
	if !strings.Contains(v, sel+" ") {
		t.Fatalf("the selected row %s is not on screen:\n%s", sel, v)
	}
}

func TestFleetKeysArrivingTogether(t *testing.T) {
	m, _ := newTestFleetView(20)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jjj")})
	if m.Selected() != 3 {
		t.Fatalf("jjj moved the cursor to %d, want 3", m.Selected())
	}
}

func TestFleetQuitWarnsWhileAutopilotsRun(t *testing.T) {
	m, _ := newTestFleetView(20) // the spike rows run a plan
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	if _, cmd := m.Update(keyMsg("q")); cmd != nil {
		t.Fatal("q quit at once with autopilots running")
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "2 autopilots running") {
		t.Errorf("no warning:\n%s", lineWith(v, "»"))
	}
	_, cmd := m.Update(keyMsg("q"))
	if cmd == nil {
		t.Fatal("second q did not quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("second q is not a quit")
	}
}

// TestFleetFlow drives the real program: move, open a cockpit, go back,
// filter, quit.
func TestFleetFlow(t *testing.T) {
	f := &fakeFleet{status: rollout.FleetStats{Polls: 1, LastPoll: fixNow, NextPoll: fixNow.Add(time.Minute), Last: model.FetchCost{Calls: 1, Metrics: 30}}}
	for i := range 6 {
		s := fleetSnapshot(i)
		s.Autopilot = nil
		f.engines = append(f.engines, newFake(s))
	}
	m := NewFleet(f, FleetOptions{Renderer: asciiRenderer(), Actor: fixActor})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(200, 50))
	waitFor := func(all ...string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			for _, s := range all {
				if !bytes.Contains(b, []byte(s)) {
					return false
				}
			}
			return true
		}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	}
	waitFor("perch fleet", "search-1")
	tm.Send(keyMsg("down"))
	tm.Send(keyMsg("down"))
	tm.Send(keyMsg("enter"))
	waitFor("fleet › search-1", "esc fleet")
	tm.Send(keyMsg("esc"))
	waitFor("6 targets")
	tm.Send(keyMsg("/"))
	for _, r := range "cart" {
		tm.Send(keyMsg(string(r)))
	}
	tm.Send(keyMsg("enter"))
	waitFor("filter: cart (1 of 6")
	tm.Send(keyMsg("q"))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*FleetModel)
	if final.cockpit != nil || len(final.visible) != 1 || final.engines[final.visible[0]].Snapshot().Target.Name != "cart-1" {
		t.Fatalf("final state: cockpit %v, visible %v", final.cockpit != nil, final.visible)
	}
}

// A cockpit the fleet view opens reaches its member engine's autopilot:
// space pauses that member, not nothing.
func TestFleetCockpitPausesItsMember(t *testing.T) {
	m, f := newTestFleetView(5)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	for range 3 {
		m.Update(keyMsg("down"))
	}
	m.Update(keyMsg("enter")) // cart-1: a running plan
	_, cmd := m.Update(keyMsg(" "))
	if cmd == nil {
		t.Fatalf("space in the fleet's cockpit did nothing: %q", m.cockpit.status)
	}
	m.Update(cmd())
	if got := f.engines[3].intents(); len(got) != 1 || got[0].Kind != model.Pause {
		t.Fatalf("member engine saw %+v, want one pause", got)
	}
	if !strings.Contains(m.cockpit.status, "autopilot paused") {
		t.Fatalf("status %q", m.cockpit.status)
	}
}
