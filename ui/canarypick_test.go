package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/perch-dev/perch/model"
)

func guessedSnapshot() model.Snapshot {
	s := healthySnapshot()
	s.Target.StableARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/0123456789abcdef"
	s.Target.CanaryARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-green/fedcba9876543210"
	s.Target.CanarySource = model.CanaryGuessed
	s.Target.CanaryUnconfirmed = "which side is the canary is a guess (no --canary-target-group, no rollout marker on AWS): " + s.Target.CanaryName + " has the lower weight"
	return s
}

// With the canary a guess, a write key asks which side is the canary
// first, and sends the answer (not the write) to the engine.
func TestWriteKeyAsksWhichSideIsTheCanary(t *testing.T) {
	for _, k := range []string{"+", "-", "r", "P"} {
		m, eng := sized(guessedSnapshot(), Options{})
		if strings.Contains(ansi.Strip(m.View()), "CANARY IS A GUESS") == false {
			t.Fatalf("the gauge does not say the canary is a guess:\n%s", ansi.Strip(m.View()))
		}
		if cmd := press(m, k); cmd != nil {
			t.Fatalf("%q sent something before the canary was confirmed", k)
		}
		if !m.pick.open || m.confirm.open {
			t.Fatalf("%q: pick open %v, confirm open %v", k, m.pick.open, m.confirm.open)
		}
		view := ansi.Strip(m.View())
		for _, want := range []string{"WHICH SIDE IS THE CANARY?", m.snap.Target.StableName, m.snap.Target.CanaryName, "perch's guess", "1 first side", "2 second side"} {
			if !strings.Contains(view, want) {
				t.Errorf("%q: dialog lacks %q:\n%s", k, want, view)
			}
		}
		// The operator says the other side is the canary.
		press(m, "1")
		msgs := run(t, m, press(m, "y"))
		got := eng.intents()
		if len(got) != 1 || got[0].Kind != model.ConfirmCanary || got[0].Canary != m.snap.Target.StableARN {
			t.Fatalf("%q: intents = %+v, want one ConfirmCanary naming %s", k, got, m.snap.Target.StableARN)
		}
		for _, msg := range msgs {
			m.Update(msg)
		}
	}
	// esc cancels, and nothing is sent.
	m, eng := sized(guessedSnapshot(), Options{})
	press(m, "+")
	if cmd := press(m, "esc"); cmd != nil || m.pick.open || len(eng.intents()) != 0 {
		t.Fatalf("esc: open %v, intents %+v", m.pick.open, eng.intents())
	}
	if !strings.Contains(m.status, "unconfirmed") {
		t.Fatalf("status after esc: %q", m.status)
	}
}

// A confirmed canary opens no dialog.
func TestConfirmedCanaryAsksNothing(t *testing.T) {
	m, eng := sized(healthySnapshot(), Options{})
	run(t, m, press(m, "+"))
	if m.pick.open || len(eng.intents()) != 1 || eng.intents()[0].Kind != model.StepUp {
		t.Fatalf("pick open %v, intents %+v", m.pick.open, eng.intents())
	}
}
