package ui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/perch-dev/perch/model"
)

// autopilotSteeredMsg is the engine's answer to a pause or a resume.
type autopilotSteeredMsg struct{ res model.Result }

func (m *Model) autopilotRunning() bool {
	return m.snap.Autopilot != nil && m.snap.Autopilot.Running
}

// toggleAutopilot pauses or resumes the plan through the engine, as an
// intent: whatever wraps the engine (an SSH seat, the recorder, a replay)
// answers it, so the key always says what happened.
func (m *Model) toggleAutopilot() tea.Cmd {
	a := m.snap.Autopilot
	switch {
	case m.opts.Replay != nil, m.readOnly(), m.watching():
		// Busy is no reason to wait: pausing moves no traffic.
		m.status = m.writeBlocked()
		return nil
	case a == nil:
		m.status = "autopilot: no plan loaded (start perch with --plan), so there is nothing to pause or resume"
		return nil
	case a.State.Done:
		m.status = "autopilot: the plan has finished: " + a.Decision.Reason
		return nil
	}
	kind := model.Pause
	if a.State.Paused {
		kind = model.Resume
	}
	in := model.Intent{Kind: kind, Actor: m.opts.Actor}
	eng, ctx := m.eng, m.ctx
	return func() tea.Msg { return autopilotSteeredMsg{eng.Execute(ctx, in)} }
}

func (m *Model) autopilotSteered(res model.Result) {
	switch {
	case res.Outcome != model.OutcomeOK:
		m.status = res.Err
	case res.Intent.Kind == model.Pause:
		m.status = fmt.Sprintf("autopilot paused: traffic stays at canary %s until you act or resume", pct(m.snap.Split.CanaryPercent()))
	default:
		m.status = "autopilot resumed"
	}
	m.quitWarned = false
}
