package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// The cockpit's screen: sizes from the terminal's, and the frame joined from
// the components' cached views.

// layout sizes every component from the terminal size; the charts take
// whatever the fixed parts leave. It runs in flush, once per message, and
// draws the fixed parts (header, gauge, verdict, alarm strip) before it
// reads their heights; a size that did not change marks nothing stale.
func (m *Model) layout() {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return
	}
	m.header.SetSize(w, m.header.Height())
	m.gauge.SetSize(w, 0)
	m.verdict.SetSize(w, 0)
	alarmLines := 1
	if h >= 40 {
		alarmLines = 2
	}
	if h >= 60 {
		alarmLines = 3
	}
	m.alarms.SetSize(w, alarmLines)
	m.header.flush()
	m.gauge.flush()
	m.verdict.flush()
	m.alarms.flush()
	auditH := min(max(h/8, 2), 12) + 1
	m.audit.SetSize(w, auditH)
	chartsH := h - m.header.Height() - m.gauge.Height() - m.verdict.Height() - m.alarms.Height() - auditH - 1 - m.helpHeight()
	chartsH = max(chartsH, 0)
	// The saturation row and the patterns pane (L) come out of the
	// charts' share: the pane takes at most half of it.
	satH := min(m.signals.satHeight(), chartsH/3)
	patH := 0
	if want := m.signals.patternsWanted(); want > 0 {
		patH = min(want, max((chartsH-satH)/2, 3), chartsH-satH)
	}
	m.signals.SetWidth(w)
	m.signals.SetHeights(satH, patH)
	chartsH -= satH + patH
	// Sparklines cannot use more height; the audit pane can. The layout
	// asks for the three-chart (ALB) set whatever the target: a four-chart
	// set in compactHeight gets two lines per metric.
	if chartModeFor(w, chartsH, 3) == chartsCompact && chartsH > compactHeight {
		m.audit.SetSize(w, auditH+chartsH-compactHeight)
		auditH += chartsH - compactHeight
		chartsH = compactHeight
	}
	m.charts.SetSize(w, chartsH)
	m.confirm.SetSize(w, chartsH+m.alarms.Height()+auditH)
	m.pick.SetSize(w, chartsH+m.alarms.Height()+auditH)
}

// helpHeight is the help bar's lines, from the bar flush drew first.
func (m *Model) helpHeight() int {
	if m.help.ShowAll && !m.confirm.open && !m.pick.open {
		return lipgloss.Height(m.helpLine)
	}
	return 1
}

// View joins the components' cached renderings; nothing here draws charts.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return "perch: starting…"
	}
	parts := make([]string, 0, 9)
	parts = append(parts, m.header.View(), m.gauge.View(), m.verdict.View())
	switch {
	case m.confirm.open:
		parts = append(parts, m.confirm.View())
	case m.pick.open:
		parts = append(parts, m.pick.View())
	default:
		if v := m.charts.View(); m.charts.height > 0 {
			parts = append(parts, v)
		}
		if m.signals.satH > 0 {
			parts = append(parts, padLines(m.signals.satView, m.signals.satH))
		}
		if m.signals.patH > 0 {
			parts = append(parts, padLines(m.signals.patView, m.signals.patH))
		}
		parts = append(parts, m.alarms.View(), m.audit.View())
	}
	parts = append(parts, m.statusLine, m.helpLine)
	return padLines(strings.Join(parts, "\n"), m.height)
}

// helpView renders the help bar: the confirm dialog's keys while it is
// open, a replay's keys in a replay. flush caches it.
func (m *Model) helpView() string {
	if m.confirm.open {
		return fit(m.help.View(confirmHelp{m.keys, m.confirm.typing}), m.width)
	}
	if m.pick.open {
		return fit(m.help.View(canaryPickHelp{m.keys}), m.width)
	}
	var km help.KeyMap = m.keys
	if m.opts.Replay != nil {
		km = replayHelp{m.rkeys, m.keys}
	}
	if m.help.ShowAll {
		return fit(m.help.View(km), m.width)
	}
	return shortHelp(m.help, km.ShortHelp(), m.width)
}
