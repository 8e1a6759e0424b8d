package ui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/perch-dev/perch/model"
)

// pauser is what an engine with an autopilot offers; engines without one
// (a replay) simply do not implement it.
type pauser interface {
	TogglePause(actor model.Actor) (paused, ok bool)
}

type autopilotToggledMsg struct{ paused, ok bool }

func (m *Model) autopilotRunning() bool {
	return m.snap.Autopilot != nil && m.snap.Autopilot.Running
}

// toggleAutopilot pauses or resumes the plan. The engine audits the
// change, which is I/O, so it runs as a command.
func (m *Model) toggleAutopilot() tea.Cmd {
	p, ok := m.eng.(pauser)
	if !ok || m.snap.Autopilot == nil {
		m.status = "autopilot: no plan loaded (start perch with --plan), so there is nothing to pause or resume"
		return nil
	}
	if m.snap.Autopilot.State.Done {
		m.status = "autopilot: the plan has finished: " + m.snap.Autopilot.Decision.Reason
		return nil
	}
	actor := m.opts.Actor
	return func() tea.Msg {
		paused, ok := p.TogglePause(actor)
		return autopilotToggledMsg{paused: paused, ok: ok}
	}
}

func (m *Model) autopilotToggled(msg autopilotToggledMsg) {
	switch {
	case !msg.ok:
		m.status = "autopilot: no plan loaded"
	case msg.paused:
		m.status = fmt.Sprintf("autopilot paused: traffic stays at canary %s until you act or resume", pct(m.snap.Split.CanaryPercent()))
	default:
		m.status = "autopilot resumed"
	}
	m.quitWarned = false
}

// setAutopilotHelp makes the space key's help say what it will do.
func (m *Model) setAutopilotHelp(a *model.AutopilotStatus) {
	switch {
	case a == nil:
		m.keys.Autopilot.SetHelp("space", "autopilot: no plan")
	case a.State.Done:
		m.keys.Autopilot.SetHelp("space", "autopilot: done")
	case a.State.Paused:
		m.keys.Autopilot.SetHelp("space", "resume autopilot")
	default:
		m.keys.Autopilot.SetHelp("space", "pause autopilot")
	}
}
