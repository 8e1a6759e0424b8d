package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
)

// fakePairing is a seat whose state the test sets by hand.
type fakePairing struct {
	state   PairState
	changed chan struct{}
	calls   []string
}

func newFakePairing(p PairState) *fakePairing {
	return &fakePairing{state: p, changed: make(chan struct{}, 1)}
}

func (f *fakePairing) Pair() PairState          { return f.state }
func (f *fakePairing) Changed() <-chan struct{} { return f.changed }
func (f *fakePairing) Active()                  { f.calls = append(f.calls, "active") }
func (f *fakePairing) AskForWheel()             { f.calls = append(f.calls, "ask") }
func (f *fakePairing) HandOver()                { f.calls = append(f.calls, "handover") }
func (f *fakePairing) KeepWheel()               { f.calls = append(f.calls, "keep") }

func (f *fakePairing) set(t *testing.T, m *Model, p PairState) {
	t.Helper()
	f.state = p
	m.Update(pairChangedMsg{})
}

func TestWatcherHasNoWriteKeys(t *testing.T) {
	fp := newFakePairing(PairState{Me: "bob", Driver: "ana", Watchers: []string{"bob", "cy"}})
	m, eng := newTestModel(healthySnapshot(), Options{Pairing: fp})
	v := screen(t, m, 80, 24)
	lines := strings.Split(v, "\n")
	if !strings.HasPrefix(lines[1], "▶ ana drives · watching: bob (you), cy · data split") {
		t.Errorf("header line 2: %q", lines[1])
	}
	help := lines[len(lines)-1]
	if !strings.HasPrefix(help, "D ask for the wheel") || strings.Contains(help, "step") || strings.Contains(help, "roll back") ||
		strings.Contains(help, "promote") || strings.Contains(help, "autopilot") {
		t.Errorf("watcher's help bar: %q", help)
	}
	m.Update(keyMsg("?"))
	full := screen(t, m, 80, 24)
	for _, w := range []string{"step up", "step down", "roll back", "promote"} {
		if strings.Contains(full, w) {
			t.Errorf("watcher's full help offers %q", w)
		}
	}
	m.Update(keyMsg("?"))
	for _, k := range []string{"+", "-", "r", "P"} {
		m.Update(keyMsg(k))
		if !strings.Contains(m.status, "watching: ana drives; press D to ask for the wheel") {
			t.Errorf("watcher's %s: status %q", k, m.status)
		}
		if m.confirm.open {
			t.Fatalf("watcher's %s opened the confirm dialog", k)
		}
	}
	if got := eng.intents(); len(got) != 0 {
		t.Fatalf("watcher sent %d intents", len(got))
	}
	m.Update(keyMsg("D"))
	if strings.Join(fp.calls, ",") != "active,active,active,active,active,active,active,ask" {
		t.Errorf("pairing calls %v", fp.calls)
	}
	fp.set(t, m, PairState{Me: "bob", Driver: "ana", Watchers: []string{"bob"}, Asker: "bob", PassesAt: fixNow.Add(time.Minute)})
	v = screen(t, m, 80, 24)
	if !strings.Contains(v, "» asked ana for the wheel · passes at 07:43:10 UTC if ana stays idle") {
		t.Errorf("asker's status line missing:\n%s", v)
	}
	if strings.Contains(lastLineOf(v), "D ask") {
		t.Errorf("asker is offered D again: %q", lastLineOf(v))
	}
}

func TestDriverIsAskedAndHandsOver(t *testing.T) {
	fp := newFakePairing(PairState{Me: "ana", Driving: true, Driver: "ana", Watchers: []string{"bob"}})
	m, _ := newTestModel(healthySnapshot(), Options{Pairing: fp})
	v := screen(t, m, 80, 24)
	if !strings.Contains(v, "▶ ana (you) drives · watching: bob") || strings.Contains(lastLineOf(v), "D ") {
		t.Errorf("driver's screen:\n%s", v)
	}
	m.Update(keyMsg("D"))
	if m.status != "you already drive" {
		t.Errorf("D with no request: %q", m.status)
	}
	fp.set(t, m, PairState{Me: "ana", Driving: true, Driver: "ana", Watchers: []string{"bob"}, Asker: "bob", PassesAt: fixNow.Add(time.Minute)})
	v = screen(t, m, 80, 24)
	t.Run("pair-asked-80x24", func(t *testing.T) { golden.RequireEqual(t, []byte(v)) })
	if !strings.HasPrefix(lastLineOf(v), "D hand over to bob • +/- step") {
		t.Errorf("driver's help: %q", lastLineOf(v))
	}
	// Still driving: the write keys work while the prompt shows.
	m.Update(keyMsg("+"))
	// The step runs in a command: inflight says it was sent.
	if m.inflight == "" {
		t.Error("driver's + did not send while a request was pending")
	}
	m.Update(keyMsg("esc"))
	m.Update(keyMsg("D"))
	got := strings.Join(fp.calls, ",")
	if !strings.HasSuffix(got, "active,keep,active,handover") {
		t.Errorf("pairing calls %v", got)
	}
	fp.set(t, m, PairState{Me: "ana", Driver: "bob", Watchers: []string{"ana"}})
	v = screen(t, m, 80, 24)
	if !strings.Contains(v, "▶ bob drives · watching: ana (you)") || !strings.HasPrefix(lastLineOf(v), "D ask for the wheel") {
		t.Errorf("after the hand-over:\n%s", v)
	}
}

func TestConfirmRechecksTheWheel(t *testing.T) {
	fp := newFakePairing(PairState{Me: "ana", Driving: true, Driver: "ana", Watchers: []string{"bob"}})
	m, eng := newTestModel(healthySnapshot(), Options{Pairing: fp})
	m.Update(keyMsg("r"))
	if !m.confirm.open {
		t.Fatal("driver's r did not open the confirm dialog")
	}
	// The wheel passes (idle timeout) while the dialog is open.
	fp.set(t, m, PairState{Me: "ana", Driver: "bob", Watchers: []string{"ana"}})
	if cmd := m.handleKey(keyMsg("y")); cmd != nil {
		t.Fatal("a confirm after losing the wheel sent an intent")
	}
	if !strings.Contains(m.status, "watching: bob drives") || len(eng.intents()) != 0 {
		t.Errorf("status %q, intents %v", m.status, eng.intents())
	}
}

func TestSoloCockpitUnchanged(t *testing.T) {
	m, _ := newTestModel(healthySnapshot(), Options{})
	m.Update(keyMsg("D"))
	if m.status != "" || m.keys.Wheel.Enabled() {
		t.Errorf("D in a solo cockpit: status %q, wheel enabled %v", m.status, m.keys.Wheel.Enabled())
	}
}

func lastLineOf(s string) string {
	lines := strings.Split(s, "\n")
	return lines[len(lines)-1]
}
