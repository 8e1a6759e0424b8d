package ui

import (
	tea "github.com/charmbracelet/bubbletea"
	"github.com/perch-dev/perch/internal/termtext"
)

// The cockpit inside the fleet view is the ordinary cockpit (Model) on the
// target's engine. Its commands' messages come back tagged with the
// generation of the cockpit that issued them, so a snapshot or result from
// a cockpit already closed never reaches the next one.

// cockpitMsg is a message from the open cockpit's commands.
type cockpitMsg struct {
	gen int
	msg tea.Msg
}

// backMsg asks the fleet view to close the cockpit that sent it.
type backMsg struct{ gen int }

func (m *FleetModel) openCockpit() tea.Cmd {
	i := m.selected()
	if i < 0 {
		return nil
	}
	m.gen++
	gen := m.gen
	name := termtext.Clean(m.snaps[i].Target.Name, 0)
	title := "fleet › " + name
	if m.opts.Title != "" {
		title = m.opts.Title + " › " + name
	}
	c := New(m.engines[i], Options{
		Actor: m.opts.Actor, ReadOnly: m.opts.ReadOnly, Renderer: m.opts.Renderer,
		Title: title, Poll: m.opts.Poll, Production: m.opts.Production,
		Back: func() tea.Msg { return backMsg{gen} },
	})
	c.Update(tea.WindowSizeMsg{Width: m.width, Height: m.height})
	m.cockpit, m.cockpitIdx = c, i
	m.fleet.Focus(i)
	return m.wrap(c.Init())
}

func (m *FleetModel) closeCockpit() {
	if m.cockpit == nil {
		return
	}
	m.cockpit.detach()
	m.cockpit, m.cockpitIdx = nil, -1
	m.fleet.Focus(-1)
	m.refresh(false)
}

// wrap tags the open cockpit's command with its generation. Batches are
// unpacked so each part is tagged; Quit passes through untouched.
func (m *FleetModel) wrap(cmd tea.Cmd) tea.Cmd {
	return wrapGen(m.gen, cmd)
}

func wrapGen(gen int, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		switch msg := cmd().(type) {
		case nil:
			return nil
		case tea.QuitMsg, backMsg:
			return msg
		case tea.BatchMsg:
			out := make(tea.BatchMsg, len(msg))
			for i, c := range msg {
				out[i] = wrapGen(gen, c)
			}
			return out
		default:
			return cockpitMsg{gen: gen, msg: msg}
		}
	}
}

// detach ends the cockpit's subscription; the fleet view calls it when
// the cockpit closes. An action it sent still runs to its outcome.
func (m *Model) detach() {
	if m.unsubscribe != nil {
		m.unsubscribe()
		m.unsubscribe = nil
	}
}
