package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// The fleet view's own keys: moving the cursor, the filter, help and
// quit. Enter hands the keyboard to a cockpit (fleet_cockpit.go).

func (m *FleetModel) handleKey(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, m.keys.ForceQuit) {
		return m.quit()
	}
	if !m.filtering && msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
		// Keys typed faster than the terminal is read arrive as one
		// message ("jjj"): each is still a key.
		var cmds []tea.Cmd
		for _, r := range msg.Runes {
			cmds = append(cmds, m.handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
			if m.quitting || m.cockpit != nil || m.filtering {
				break // the rest belongs to whatever took the keyboard
			}
		}
		return tea.Batch(cmds...)
	}
	if m.filtering {
		switch {
		case key.Matches(msg, m.keys.Apply):
			m.filtering = false
			m.filter.Blur()
		case key.Matches(msg, m.keys.Clear):
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
		default:
			var cmd tea.Cmd
			m.filter, cmd = m.filter.Update(msg)
			m.applyFilter()
			return cmd
		}
		m.applyFilter()
		return nil
	}
	m.note = ""
	switch {
	case key.Matches(msg, m.keys.Quit):
		if n := m.autopilots(); n > 0 && !m.quitWarned {
			m.quitWarned = true
			m.note = fmt.Sprintf("%d autopilot%s running: they stop when perch exits and traffic stays where it is. Press %s again to quit.",
				n, plural(n), m.keys.Quit.Help().Key)
			return nil
		}
		return m.quit()
	case key.Matches(msg, m.keys.Up):
		m.move(-1)
	case key.Matches(msg, m.keys.Down):
		m.move(+1)
	case key.Matches(msg, m.keys.PageUp):
		m.move(-max(m.rowsHeight()-1, 1))
	case key.Matches(msg, m.keys.PageDown):
		m.move(max(m.rowsHeight()-1, 1))
	case key.Matches(msg, m.keys.Top):
		m.move(-len(m.visible))
	case key.Matches(msg, m.keys.Bottom):
		m.move(len(m.visible))
	case key.Matches(msg, m.keys.Filter):
		m.filtering = true
		m.scroll()
		return m.filter.Focus()
	case key.Matches(msg, m.keys.Clear):
		if m.filter.Value() != "" {
			m.filter.SetValue("")
			m.applyFilter()
		}
	case key.Matches(msg, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
		m.scroll()
	case key.Matches(msg, m.keys.Open):
		return m.openCockpit()
	}
	return nil
}

func (m *FleetModel) move(d int) {
	if len(m.visible) == 0 {
		return
	}
	m.cursor = min(max(m.cursor+d, 0), len(m.visible)-1)
	m.scroll()
}

// applyFilter recomputes which rows show, keeping the cursor on the same
// target when it still shows.
func (m *FleetModel) applyFilter() {
	was := m.selected()
	q := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	m.visible = m.visible[:0]
	for i := range m.engines {
		if q == "" || matchAll(m.texts[i], q) {
			m.visible = append(m.visible, i)
		}
	}
	m.cursor = 0
	for vi, i := range m.visible {
		if i == was {
			m.cursor = vi
		}
	}
	m.scroll()
}

// matchAll: every word of the query appears in the row's text.
func matchAll(text, q string) bool {
	for _, w := range strings.Fields(q) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

func (m *FleetModel) selected() int {
	if m.cursor < 0 || m.cursor >= len(m.visible) {
		return -1
	}
	return m.visible[m.cursor]
}

// rowsHeight is how many table rows fit under the chrome.
func (m *FleetModel) rowsHeight() int {
	return max(m.height-3-m.footerHeight(), 0) // header, column titles, blank line
}

func (m *FleetModel) footerHeight() int {
	h := 2 // status and help
	if m.filtering || m.filter.Value() != "" {
		h++
	}
	if m.help.ShowAll {
		h += lipgloss.Height(m.help.View(m.helpKeys())) - 1
	}
	return h
}

func (m *FleetModel) scroll() {
	n := m.rowsHeight()
	if n <= 0 {
		m.offset = 0
		return
	}
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+n {
		m.offset = m.cursor - n + 1
	}
	m.offset = max(min(m.offset, len(m.visible)-n), 0)
}

// Selected is the target under the cursor (-1: none), for tests.
func (m *FleetModel) Selected() int { return m.selected() }
