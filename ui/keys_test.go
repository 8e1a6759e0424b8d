package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// ctrl+c quits at once from anywhere, the autopilot running or a reason
// half typed; q warns once while the autopilot runs.
func TestForceQuitAndQuit(t *testing.T) {
	quits := func(cmd tea.Cmd) bool {
		if cmd == nil {
			return false
		}
		_, ok := cmd().(tea.QuitMsg)
		return ok
	}
	t.Run("q warns while the autopilot runs", func(t *testing.T) {
		m, _ := sized(errorSpikeSnapshot(), Options{})
		if quits(press(m, "q")) || m.quitting {
			t.Fatal("q quit at once with the autopilot running")
		}
		if !strings.Contains(m.status, "Press q again to quit") {
			t.Errorf("status %q", m.status)
		}
		if !quits(press(m, "q")) {
			t.Error("the second q did not quit")
		}
	})
	for _, c := range []struct {
		name string
		keys []string
	}{
		{"autopilot running", nil},
		{"confirm dialog", []string{"r"}},
		{"typing a reason", []string{"r", "tab", "q"}},
	} {
		t.Run("ctrl+c: "+c.name, func(t *testing.T) {
			m, _ := sized(errorSpikeSnapshot(), Options{})
			press(m, c.keys...)
			if !quits(press(m, "ctrl+c")) || !m.quitting {
				t.Error("ctrl+c did not quit at once")
			}
		})
	}
	t.Run("ctrl+c: canary pick", func(t *testing.T) {
		m, _ := sized(guessedSnapshot(), Options{})
		press(m, "+")
		if !m.pick.open {
			t.Fatal("+ did not ask which side is the canary")
		}
		if !quits(press(m, "ctrl+c")) {
			t.Error("ctrl+c did not quit from the dialog")
		}
	})
	t.Run("ctrl+c: fleet filter", func(t *testing.T) {
		m, _ := newTestFleetView(3)
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		m.Update(keyMsg("/"))
		m.Update(keyMsg("q"))
		if m.quitting || m.filter.Value() != "q" {
			t.Fatalf("q while filtering: quitting %v, filter %q", m.quitting, m.filter.Value())
		}
		if _, cmd := m.Update(keyMsg("ctrl+c")); !quits(cmd) {
			t.Error("ctrl+c did not quit while filtering")
		}
	})
}

// Help lists the keys that work now, from the bindings that handle them.
func TestHelpShowsTheKeysThatWork(t *testing.T) {
	m, _ := sized(healthySnapshot(), Options{})
	press(m, "?")
	full := ansi.Strip(m.helpLine)
	for _, k := range []string{"ctrl+c", "quit now", "pgup/pgdn", "audit by page"} {
		if !strings.Contains(full, k) {
			t.Errorf("full help lacks %q:\n%s", k, full)
		}
	}
	press(m, "?", "r")
	if h := ansi.Strip(m.helpLine); !strings.HasPrefix(h, "y/enter confirm") {
		t.Errorf("confirm dialog's help: %q", h)
	}
	press(m, "tab") // the reason has the keys: y and n are letters
	if h := ansi.Strip(m.helpLine); !strings.HasPrefix(h, "enter confirm • esc cancel • tab done typing") {
		t.Errorf("help while typing a reason: %q", h)
	}

	f, _ := newTestFleetView(3)
	f.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	f.Update(keyMsg("/"))
	if h := ansi.Strip(f.helpView()); !strings.HasPrefix(h, "enter apply filter • esc clear filter") {
		t.Errorf("fleet help while filtering: %q", h)
	}
	f.Update(keyMsg("enter"))
	if h := ansi.Strip(f.helpView()); !strings.HasPrefix(h, "enter cockpit") {
		t.Errorf("fleet help after the filter: %q", h)
	}
}

// esc keeps the wheel through its binding, offered only while someone
// asks; pgup scrolls the audit pane by a page through AuditPage.
func TestWheelAndAuditKeysAreBindings(t *testing.T) {
	fp := newFakePairing(PairState{Me: "ana", Driving: true, Driver: "ana", Watchers: []string{"bob"}})
	m, _ := sized(healthySnapshot(), Options{Pairing: fp})
	if m.keys.KeepWheel.Enabled() {
		t.Error("esc offered with nobody asking")
	}
	fp.set(t, m, PairState{Me: "ana", Driving: true, Driver: "ana", Watchers: []string{"bob"}, Asker: "bob"})
	if !m.keys.KeepWheel.Enabled() || !strings.Contains(ansi.Strip(m.View()), "bob asks for the wheel: D hand over · esc keep it") {
		t.Errorf("request pending: esc enabled %v\n%s", m.keys.KeepWheel.Enabled(), ansi.Strip(m.View()))
	}
	press(m, "esc")
	if m.status != "kept the wheel" {
		t.Errorf("esc: status %q", m.status)
	}

	s := healthySnapshot()
	for i := range 20 {
		e := s.Audit[1]
		e.Seq = int64(10 + i)
		s.Audit = append(s.Audit, e)
	}
	m, _ = sized(s, Options{})
	press(m, "tab", "pgdown")
	if rows := m.audit.rows(); m.audit.offset != rows-1 {
		t.Errorf("pgdown moved the audit pane %d entries, want %d", m.audit.offset, rows-1)
	}
}
