package ui

import (
	"bytes"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
)

// TestCockpitFlow drives the real bubbletea program: step up, roll back
// with confirmation, quit; then compares the final screen.
func TestCockpitFlow(t *testing.T) {
	eng := newFake(healthySnapshot())
	eng.apply = true
	m := New(eng, Options{Renderer: asciiRenderer(), Actor: fixActor})
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

	waitFor("checkout-api")
	tm.Send(keyMsg("+"))
	// Both the engine's new snapshot and the command's result.
	waitFor("canary 25%", "shift finished")
	tm.Send(keyMsg("r"))
	waitFor("Roll back: canary 25% → 0%")
	tm.Send(keyMsg("y"))
	waitFor("canary 0%", "rollback finished")
	tm.Send(keyMsg("q"))

	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	golden.RequireEqual(t, []byte(ansi.Strip(final.View())))

	got := eng.intents()
	if len(got) != 2 || got[0].Expected == nil || got[1].Expected == nil {
		t.Fatalf("intents = %+v, want step_up and rollback with Expected", got)
	}
	if got[1].Expected.CanaryPercent() != 25 {
		t.Errorf("rollback Expected = %v, want the 25%% split the operator saw", got[1].Expected)
	}
	select {
	case _, open := <-final.updates:
		if open {
			t.Error("subscription still delivering after quit")
		}
	default:
		t.Error("subscription not cancelled on quit")
	}
}
