package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/perch-dev/perch/model"
)

// A snapshot picks one of the key maps built in New; it builds none (the
// CodeDeploy help used to rebuild DefaultKeyMap on every snapshot).
func TestPickKeysAllocatesNothing(t *testing.T) {
	waiting := codeDeploySnapshot()
	waiting.Deployment.Waiting = model.WaitReady
	driver := newFakePairing(PairState{Me: "ana", Driving: true, Driver: "ana", Watchers: []string{"bob"}, Asker: "bob"})
	for _, c := range []struct {
		name string
		snap model.Snapshot
		o    Options
	}{
		{"weights, autopilot running", errorSpikeSnapshot(), Options{}},
		{"codedeploy", codeDeploySnapshot(), Options{}},
		{"codedeploy waiting", waiting, Options{}},
		{"read-only", healthySnapshot(), Options{ReadOnly: true}},
		{"driver asked for the wheel", healthySnapshot(), Options{Pairing: driver}},
	} {
		m, _ := newTestModel(c.snap, c.o)
		if n := testing.AllocsPerRun(100, m.pickKeys); n != 0 {
			t.Errorf("%s: picking the keys allocates %v times", c.name, n)
		}
	}
}

// The variants are copies: showing a CodeDeploy deployment's keys leaves
// nothing behind for the next snapshot, or the next cockpit.
func TestKeyVariantsAreCopies(t *testing.T) {
	type shown struct {
		step, rollback string
		cont           bool
	}
	keys := func(m *Model) shown {
		return shown{m.keys.StepUp.Help().Desc, m.keys.Rollback.Help().Desc, m.keys.Continue.Enabled()}
	}
	alb := shown{"step up", "roll back", false}
	waiting := codeDeploySnapshot()
	waiting.Deployment.Waiting = model.WaitReady
	m, _ := sized(waiting, Options{})
	if got, want := keys(m), (shown{"step up off: CodeDeploy shifts traffic itself", "stop + roll back", true}); got != want {
		t.Errorf("waiting deployment: %+v, want %+v", got, want)
	}
	m.setSnapshot(healthySnapshot())
	if got := keys(m); got != alb {
		t.Errorf("after the deployment: %+v, want %+v", got, alb)
	}
	m.setSnapshot(codeDeploySnapshot())
	if got, want := keys(m), (shown{"step up off: CodeDeploy shifts traffic itself", "stop + roll back", false}); got != want {
		t.Errorf("deployment not waiting: %+v, want %+v", got, want)
	}
	other, _ := sized(healthySnapshot(), Options{})
	if got := keys(other); got != alb {
		t.Errorf("another cockpit: %+v, want %+v", got, alb)
	}
	if d := DefaultKeyMap(); d.Rollback.Help().Desc != "roll back" || d.Continue.Enabled() {
		t.Errorf("DefaultKeyMap changed: %+v", d.Rollback.Help())
	}
	// And help shows what the keys say.
	m.help.ShowAll = true
	if h := ansi.Strip(m.helpView()); !strings.Contains(h, "stop + roll back") || strings.Contains(h, "continue deployment") {
		t.Errorf("full help: %q", h)
	}
}

// Who may write is part of the seat: a watcher who gets the wheel while a
// deployment waits is offered c at once, not at the next poll.
func TestContinueFollowsTheWheel(t *testing.T) {
	waiting := codeDeploySnapshot()
	waiting.Deployment.Waiting = model.WaitReady
	fp := newFakePairing(PairState{Me: "bob", Driver: "ana", Watchers: []string{"bob"}})
	m, _ := newTestModel(waiting, Options{Pairing: fp})
	if m.keys.Continue.Enabled() {
		t.Fatal("a watcher is offered c")
	}
	fp.set(t, m, PairState{Me: "bob", Driving: true, Driver: "bob", Watchers: []string{"ana"}})
	if !m.keys.Continue.Enabled() {
		t.Error("the new driver is not offered c while the deployment waits")
	}
}
