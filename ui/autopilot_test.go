package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/perch-dev/perch/model"
)

func TestSpaceTogglesTheAutopilot(t *testing.T) {
	s := errorSpikeSnapshot() // has a running plan
	m, eng := sized(s, Options{Actor: fixActor})
	for _, msg := range run(t, m, press(m, " ")) {
		m.Update(msg)
	}
	got := eng.intents()
	if len(got) != 1 || got[0].Kind != model.Pause || got[0].Actor.OSUser != fixActor.OSUser {
		t.Fatalf("space did not pause the autopilot as the operator: %+v", got)
	}
	if !strings.Contains(m.status, "autopilot paused") {
		t.Fatalf("status %q", m.status)
	}
	if !strings.Contains(m.helpView(), "pause autopilot") {
		t.Fatalf("help does not say what space does: %q", m.helpView())
	}
	// Paused, space resumes; and it does not wait behind an action in
	// flight, which pausing exists to interrupt.
	s.Autopilot.State.Paused = true
	s.Busy = "shift: canary 10% → 25%"
	m.setSnapshot(s)
	for _, msg := range run(t, m, press(m, " ")) {
		m.Update(msg)
	}
	if got := eng.intents(); len(got) != 2 || got[1].Kind != model.Resume {
		t.Fatalf("space while paused and busy: %+v", got)
	}
}

// The engine's refusal reaches the status line: a watcher's seat, or a
// replay, says why space did nothing.
func TestSpaceShowsTheEnginesRefusal(t *testing.T) {
	m, eng := sized(errorSpikeSnapshot(), Options{})
	eng.refuse = &model.Result{Outcome: model.OutcomeRefused, Reason: model.ReasonNotDriving, Err: "you are watching: ana drives, nothing was sent"}
	for _, msg := range run(t, m, press(m, " ")) {
		m.Update(msg)
	}
	if m.status != "you are watching: ana drives, nothing was sent" {
		t.Fatalf("status %q", m.status)
	}
}

func TestSpaceWithoutAPlanExplains(t *testing.T) {
	m, eng := sized(healthySnapshot(), Options{})
	if cmd := press(m, " "); cmd != nil {
		t.Fatal("space without a plan should do nothing")
	}
	if !strings.Contains(m.status, "no plan loaded") || len(eng.intents()) != 0 {
		t.Fatalf("status %q", m.status)
	}
}

func TestQuitWarnsWhileTheAutopilotRuns(t *testing.T) {
	m, _ := sized(errorSpikeSnapshot(), Options{})
	if cmd := press(m, "q"); cmd != nil {
		t.Fatal("the first q quit while the autopilot was running")
	}
	if !strings.Contains(m.status, "stops when perch exits") || !strings.Contains(m.status, "canary 10%") {
		t.Fatalf("warning %q", m.status)
	}
	if cmd := press(m, "q"); cmd == nil {
		t.Fatal("the second q did not quit")
	}

	m, _ = sized(healthySnapshot(), Options{})
	if cmd := press(m, "q"); cmd == nil {
		t.Fatal("q without an autopilot should quit at once")
	}
}

func TestVerdictLineShowsJudgeAndAutopilot(t *testing.T) {
	m, _ := sized(errorSpikeSnapshot(), Options{})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	line := m.verdict.View()
	for _, want := range []string{"✗ FAIL", "13.5x", "▶ autopilot 1/3", "baking step 1 (10%): 1m left"} {
		if !strings.Contains(line, want) {
			t.Errorf("verdict line lacks %q: %q", want, line)
		}
	}
}

func TestAuditPaneSaysWhatTheAutopilotDid(t *testing.T) {
	st := NewStyles(asciiRenderer())
	line := auditLine(&st, model.AuditEntry{Actor: model.Actor{OSUser: "ana", Via: "autopilot"}, Action: "rollback",
		Phase: model.PhaseIntent, From: model.Pct(50), To: model.Pct(0), Reason: "the judge says FAIL"})
	if !strings.Contains(line, "autopilot for ana") {
		t.Fatalf("an automatic action must not read as the operator's: %q", line)
	}
}

func TestConfirmDialogSpeaksOfLambdaVersions(t *testing.T) {
	s := healthySnapshot()
	s.Target.Kind = model.KindLambda
	s.Split = model.Split{StableID: "7", CanaryID: "8", StableWeight: 900, CanaryWeight: 100}
	s.Health = [2]model.Health{{Unhealthy: 1}, {Healthy: 1}}
	m, _ := sized(s, Options{})
	press(m, "r")
	view := ansi.Strip(m.View())
	for _, want := range []string{"version 7 not Active", "version 8 Active", "the stable version is not Active"} {
		if !strings.Contains(view, want) {
			t.Errorf("confirm dialog lacks %q:\n%s", want, view)
		}
	}
	if strings.Contains(view, "healthy targets") {
		t.Errorf("host wording on a Lambda target:\n%s", view)
	}
}
