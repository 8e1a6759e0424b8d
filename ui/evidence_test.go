package ui

import (
	"math"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/perch-dev/perch/model"
)

// evidenceSnapshot is the error spike with the verdict the judge really
// gives on its data: which test, which window, each test's evidence.
func evidenceSnapshot() model.Snapshot {
	s := errorSpikeSnapshot()
	// CloudWatch's counts are whole; the charts' noisy fixtures are not,
	// and the judge refuses a count that is not whole.
	for _, side := range model.Sides {
		pts := append([]model.Point(nil), s.Signals[side][model.Requests]...)
		for i := range pts {
			pts[i].V = math.Round(pts[i].V)
		}
		s.Signals[side][model.Requests] = pts
	}
	v := model.JudgeSteps(s.Signals, model.JudgeConfig{}, fixNow, fixNow.Add(-4*time.Minute), 3)
	s.Verdict = &v
	return s
}

func TestEvidenceKeyExplainsTheVerdict(t *testing.T) {
	m, eng := sized(evidenceSnapshot(), Options{})
	before := ansi.Strip(m.View())
	if cmd := press(m, "e"); cmd != nil {
		t.Fatalf("the evidence key returned a command (%T): it only redraws", cmd())
	}
	after := ansi.Strip(m.View())
	for _, want := range []string{"errors", "✗ FAIL", "by the", "tests: from the start", "change detector", " of "} {
		if !strings.Contains(after, want) {
			t.Errorf("evidence view lacks %q:\n%s", want, after)
		}
	}
	if len(strings.Split(after, "\n")) != len(strings.Split(before, "\n")) {
		t.Error("the evidence must take its lines from the charts, not grow the screen")
	}
	if len(eng.intents()) != 0 {
		t.Fatal("the evidence key sent an intent")
	}
	press(m, "e")
	if got := ansi.Strip(m.View()); got != before {
		t.Errorf("a second press should close the evidence:\n%s", got)
	}
	// Help names the key.
	m.help.ShowAll = true
	if !strings.Contains(m.helpView(), "judge's evidence") {
		t.Errorf("full help lacks the evidence key: %s", m.helpView())
	}
}

// While the confirm dialog is open, e is a letter of the reason.
func TestEvidenceKeyIsTextInTheConfirmDialog(t *testing.T) {
	m, _ := sized(confirmSnapshot(), Options{})
	press(m, "r", "tab", "e")
	if m.verdict.expanded || !strings.Contains(ansi.Strip(m.View()), "e") {
		t.Fatal("e opened the evidence while a reason was being typed")
	}
}

func TestGoldenEvidence(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {200, 50}} {
		name := "evidence-" + itoa(sz.w) + "x" + itoa(sz.h)
		t.Run(name, func(t *testing.T) {
			m, _ := newTestModel(evidenceSnapshot(), Options{})
			m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			m.Update(keyMsg("e"))
			golden.RequireEqual(t, []byte(screen(t, m, sz.w, sz.h)))
		})
	}
}
