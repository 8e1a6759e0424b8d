package ui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/perch-dev/perch/model"
)

// press sends keys to m and returns the last command.
func press(m *Model, keys ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys {
		_, cmd = m.Update(keyMsg(k))
	}
	return cmd
}

// run executes cmd (and any batch) and feeds the messages back, the way the
// bubbletea runtime would, returning the messages seen.
func run(t *testing.T, m *Model, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	var seen []tea.Msg
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		if b, ok := msg.(tea.BatchMsg); ok {
			queue = append(queue, b...)
			continue
		}
		seen = append(seen, msg)
		if _, ok := msg.(resultMsg); ok {
			m.Update(msg)
		}
	}
	return seen
}

func sized(s model.Snapshot, o Options) (*Model, *fakeEngine) {
	m, eng := newTestModel(s, o)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	return m, eng
}

func TestStepUpSendsIntentWithExpected(t *testing.T) {
	m, eng := sized(healthySnapshot(), Options{})
	eng.apply = true
	cmd := press(m, "+")
	if cmd == nil {
		t.Fatal("+ returned no command")
	}
	if !strings.Contains(ansi.Strip(m.View()), "shifting to 25%") {
		t.Errorf("screen does not say the shift is in flight:\n%s", ansi.Strip(m.View()))
	}
	run(t, m, cmd)
	got := eng.intents()
	if len(got) != 1 {
		t.Fatalf("engine got %d intents, want 1", len(got))
	}
	in := got[0]
	if in.Kind != model.StepUp {
		t.Errorf("kind = %s, want %s", in.Kind, model.StepUp)
	}
	want := healthySnapshot().Split
	if in.Expected == nil || *in.Expected != want {
		t.Errorf("Expected = %v, want %v", in.Expected, want)
	}
	if in.Actor != fixActor {
		t.Errorf("Actor = %+v, want %+v", in.Actor, fixActor)
	}
	if m.inflight != "" {
		t.Errorf("still in flight after the result: %q", m.inflight)
	}
}

func TestEqualsAndMinusStep(t *testing.T) {
	m, eng := sized(healthySnapshot(), Options{})
	run(t, m, press(m, "="))
	run(t, m, press(m, "-"))
	got := eng.intents()
	if len(got) != 2 || got[0].Kind != model.StepUp || got[1].Kind != model.StepDown {
		t.Fatalf("intents = %+v, want step_up then step_down", got)
	}
}

func TestStepAtTopOfLadderSaysWhy(t *testing.T) {
	s := healthySnapshot()
	s.Split = s.Split.WithCanaryPercent(100)
	m, eng := sized(s, Options{})
	if cmd := press(m, "+"); cmd != nil {
		t.Error("+ at 100% returned a command")
	}
	if len(eng.intents()) != 0 {
		t.Error("an intent was sent at the top of the ladder")
	}
	if !strings.Contains(m.status, "top of the ladder") {
		t.Errorf("status = %q", m.status)
	}
}

func TestRollbackConfirmWithReason(t *testing.T) {
	m, eng := sized(confirmSnapshot(), Options{})
	if cmd := press(m, "r"); cmd != nil {
		run(t, m, cmd)
	}
	if !m.confirm.open {
		t.Fatal("r did not open the confirm dialog")
	}
	if len(eng.intents()) != 0 {
		t.Fatal("r sent an intent before confirmation")
	}
	view := ansi.Strip(m.View())
	for _, want := range []string{"Roll back: canary 25% → 0%, stable gets 100%", "stable has fewer healthy targets (1) than the canary (3)", "stickiness"} {
		if !strings.Contains(view, want) {
			t.Errorf("dialog lacks %q:\n%s", want, view)
		}
	}
	// tab hands keys to the reason field; y and n are letters there.
	press(m, "tab")
	for _, r := range "canary 5xx, y not n" {
		press(m, string(r))
	}
	if len(eng.intents()) != 0 || !m.confirm.open {
		t.Fatal("typing y or n in the reason field acted on the dialog")
	}
	press(m, "tab") // back to the dialog
	cmd := press(m, "y")
	if cmd == nil {
		t.Fatal("y returned no command")
	}
	run(t, m, cmd)
	got := eng.intents()
	if len(got) != 1 {
		t.Fatalf("engine got %d intents, want 1", len(got))
	}
	if got[0].Kind != model.Rollback || got[0].Reason != "canary 5xx, y not n" {
		t.Errorf("intent = %+v, want rollback with the typed reason", got[0])
	}
	if got[0].Expected == nil || got[0].Expected.CanaryPercent() != 25 {
		t.Errorf("Expected = %v, want the 25%% split on screen", got[0].Expected)
	}
	if m.confirm.open {
		t.Error("dialog still open after confirming")
	}
}

func TestEnterConfirmsWhileTyping(t *testing.T) {
	m, eng := sized(healthySnapshot(), Options{})
	press(m, "P", "tab", "o", "k")
	run(t, m, press(m, "enter"))
	got := eng.intents()
	if len(got) != 1 || got[0].Kind != model.Promote || got[0].Reason != "ok" {
		t.Fatalf("intents = %+v, want one promote with reason ok", got)
	}
}

func TestCancelSendsNothing(t *testing.T) {
	for _, k := range []string{"n", "esc"} {
		m, eng := sized(healthySnapshot(), Options{})
		press(m, "r")
		if cmd := press(m, k); cmd != nil {
			run(t, m, cmd)
		}
		if len(eng.intents()) != 0 {
			t.Errorf("%s: intent sent: %+v", k, eng.intents())
		}
		if m.confirm.open {
			t.Errorf("%s: dialog still open", k)
		}
		if !strings.Contains(m.status, "nothing was sent") {
			t.Errorf("%s: status = %q", k, m.status)
		}
	}
}

func TestReadOnlyNoIntentsAndHelpLacksWrites(t *testing.T) {
	for _, how := range []string{"option", "snapshot"} {
		s := healthySnapshot()
		o := Options{}
		if how == "option" {
			o.ReadOnly = true
		} else {
			s.ReadOnly = true
		}
		m, eng := sized(s, o)
		for _, k := range []string{"+", "=", "-", "r", "P", " "} {
			cmd := press(m, k)
			if cmd != nil {
				run(t, m, cmd)
			}
			if m.confirm.open {
				t.Errorf("%s: %q opened the confirm dialog", how, k)
				press(m, "esc")
			}
			if !strings.Contains(m.status, "read-only") {
				t.Errorf("%s: %q: status = %q, want it to say read-only", how, k, m.status)
			}
		}
		if n := len(eng.intents()); n != 0 {
			t.Errorf("%s: %d intents sent in read-only mode", how, n)
		}
		for _, full := range []bool{false, true} {
			m.help.ShowAll = full
			h := ansi.Strip(m.helpView())
			for _, w := range []string{"step", "roll back", "promote", "autopilot"} {
				if strings.Contains(h, w) {
					t.Errorf("%s: help (full=%v) shows %q in read-only mode: %q", how, full, w, h)
				}
			}
			if !strings.Contains(h, "quit") {
				t.Errorf("%s: help lost quit: %q", how, h)
			}
		}
	}
}

func TestWriteHelpShownWhenWritable(t *testing.T) {
	m, _ := sized(healthySnapshot(), Options{})
	h := ansi.Strip(m.helpView())
	for _, w := range []string{"step", "roll back", "promote", "autopilot: no plan"} {
		if !strings.Contains(h, w) {
			t.Errorf("help lacks %q: %q", w, h)
		}
	}
}

func TestKeysIgnoredWhileBusy(t *testing.T) {
	t.Run("in flight", func(t *testing.T) {
		m, eng := sized(healthySnapshot(), Options{})
		eng.block = make(chan struct{})
		defer close(eng.block)
		first := press(m, "+")
		if first == nil {
			t.Fatal("+ returned no command")
		}
		for _, k := range []string{"+", "-", "r", "P"} {
			if cmd := press(m, k); cmd != nil {
				t.Errorf("%q while in flight returned a command", k)
			}
			if m.confirm.open {
				t.Errorf("%q opened the dialog while in flight", k)
			}
			if !strings.Contains(m.status, "busy") {
				t.Errorf("%q: status = %q, want busy", k, m.status)
			}
		}
	})
	t.Run("engine busy", func(t *testing.T) {
		s := healthySnapshot()
		s.Busy = "shifting to 25%"
		m, eng := sized(s, Options{})
		for _, k := range []string{"+", "-", "r", "P"} {
			if cmd := press(m, k); cmd != nil {
				run(t, m, cmd)
			}
		}
		if len(eng.intents()) != 0 || m.confirm.open {
			t.Errorf("keys acted while the engine was busy")
		}
		if !strings.Contains(ansi.Strip(m.View()), "⟳ shifting to 25%…") {
			t.Errorf("screen does not show the busy action")
		}
	})
	t.Run("unknown state", func(t *testing.T) {
		m, eng := sized(unknownSnapshot(), Options{})
		for _, k := range []string{"+", "-", "r", "P"} {
			if cmd := press(m, k); cmd != nil {
				run(t, m, cmd)
			}
			if !strings.Contains(m.status, "traffic state unknown") {
				t.Errorf("%q: status = %q", k, m.status)
			}
		}
		if len(eng.intents()) != 0 || m.confirm.open {
			t.Errorf("keys acted while the traffic state was unknown")
		}
	})
}

func TestWindowKeys(t *testing.T) {
	m, _ := sized(healthySnapshot(), Options{})
	if got := m.charts.Window(); got != 30*time.Minute {
		t.Fatalf("default window %v, want 30m", got)
	}
	steps := []struct {
		key  string
		want time.Duration
	}{{"]", time.Hour}, {"]", 3 * time.Hour}, {"]", 3 * time.Hour}, {"[", time.Hour}, {"[", 30 * time.Minute}, {"[", 15 * time.Minute}, {"[", 15 * time.Minute}}
	for _, s := range steps {
		press(m, s.key)
		if got := m.charts.Window(); got != s.want {
			t.Fatalf("after %q window = %v, want %v", s.key, got, s.want)
		}
		if !strings.Contains(ansi.Strip(m.View()), "window "+fmtWindow(s.want)) {
			t.Errorf("screen does not show window %s", fmtWindow(s.want))
		}
	}
}

func TestFocusAndAuditScroll(t *testing.T) {
	s := healthySnapshot()
	for i := range 20 {
		s.Audit = append(s.Audit, model.AuditEntry{Seq: int64(10 + i), Time: fixNow.Add(time.Duration(i) * time.Second),
			Actor: fixActor, Action: "shift", Phase: model.PhaseIntent, Reason: "entry " + fmtInt(i)})
	}
	m, _ := sized(s, Options{})
	if !strings.Contains(ansi.Strip(m.View()), "▸ charts") {
		t.Fatal("charts not focused at start")
	}
	press(m, "down")
	if m.audit.offset != 0 {
		t.Fatal("audit scrolled without focus")
	}
	press(m, "tab")
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "▸ audit log") || strings.Contains(v, "▸ charts") {
		t.Fatal("tab did not move focus to the audit pane")
	}
	if !strings.Contains(v, "entry 19") {
		t.Fatal("newest entry not shown first")
	}
	press(m, "down", "down", "down")
	if m.audit.offset != 3 {
		t.Fatalf("offset = %d after three downs", m.audit.offset)
	}
	if strings.Contains(ansi.Strip(m.View()), "entry 19") {
		t.Error("newest entry still shown after scrolling back")
	}
	press(m, "up")
	if m.audit.offset != 2 {
		t.Fatalf("offset = %d after up", m.audit.offset)
	}
	press(m, "tab")
	if !strings.Contains(ansi.Strip(m.View()), "▸ charts") {
		t.Error("second tab did not return focus to the charts")
	}
}

func TestSnapshotRearmsSubscription(t *testing.T) {
	m, eng := newTestModel(healthySnapshot(), Options{})
	m.Init()
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	s := healthySnapshot()
	s.Seq++
	s.Split = s.Split.WithCanaryPercent(50)
	eng.publish(s)
	msg := waitForSnapshot(m.ctx, m.updates)()
	_, cmd := m.Update(msg)
	if cmd == nil {
		t.Fatal("snapshot did not re-arm the subscription")
	}
	if !strings.Contains(ansi.Strip(m.View()), "canary 50%") {
		t.Error("new snapshot not shown")
	}
	press(m, "q")
	if _, ok := cmd().(subscriptionEnd); !ok {
		t.Error("quit did not cancel the subscription")
	}
}

func TestChartsCachedBetweenFrames(t *testing.T) {
	m, _ := newTestModel(errorSpikeSnapshot(), Options{})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	n := m.charts.redraws
	for range 3 {
		_ = m.View()
	}
	press(m, "tab", "down", "tab", "x")
	if m.charts.redraws != n {
		t.Errorf("charts redrawn %d times by frames and non-data keys", m.charts.redraws-n)
	}
	press(m, "]")
	if m.charts.redraws != n+1 {
		t.Errorf("window change: %d redraws, want 1", m.charts.redraws-n)
	}
	m.Update(snapshotMsg{errorSpikeSnapshot()})
	if m.charts.redraws != n+2 {
		t.Errorf("new snapshot: %d redraws in total, want 2", m.charts.redraws-n)
	}
}

func TestHeaderOmitsAlarmFreshnessWhenNoneWatched(t *testing.T) {
	s := healthySnapshot()
	s.Alarms, s.AlarmsAt, s.AlarmsErr = nil, time.Time{}, ""
	m, _ := sized(s, Options{})
	header := strings.SplitN(ansi.Strip(m.View()), "\n", 3)[1]
	if strings.Contains(header, "alarms") || !strings.Contains(header, "metrics") {
		t.Fatalf("freshness line %q", header)
	}
	m, _ = sized(healthySnapshot(), Options{})
	if header := strings.SplitN(ansi.Strip(m.View()), "\n", 3)[1]; !strings.Contains(header, "alarms 3s") {
		t.Fatalf("watched alarms' freshness missing: %q", header)
	}
}

func TestUnknownHealthIsNotNoTargets(t *testing.T) {
	s := healthySnapshot()
	s.Health, s.HealthErr = [2]model.Health{}, "describe target health: throttled"
	m, _ := sized(s, Options{})
	view := ansi.Strip(m.View())
	if !strings.Contains(view, "? health unknown") || strings.Contains(view, "no targets registered") {
		t.Fatalf("a failed health read must read as unknown:\n%s", view)
	}
}
