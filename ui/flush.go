package ui

import "github.com/perch-dev/perch/internal/termtext"

// Drawing happens once per message. A component's setters record what
// changed and mark the component stale; Model.flush, at the end of every
// Update, draws each stale component once, in the order the layout needs.
// A snapshot runs a dozen setters, and each used to draw at once: the
// verdict line was drawn three times per snapshot, and a snapshot that
// changed the gauge's height drew the charts twice. View only joins the
// strings drawn here.

// stale is embedded in each component that caches its view.
type stale struct {
	dirty   bool
	renders int // how many times the component drew; tests watch it
}

// invalidate says the cached view no longer matches the component's state.
func (s *stale) invalidate() { s.dirty = true }

// due reports whether the component must draw now, and counts the draw.
func (s *stale) due() bool {
	if !s.dirty {
		return false
	}
	s.dirty = false
	s.renders++
	return true
}

// set changes one field of a component, marking the component stale only
// when the value changed: sizes are set on every layout, most of them
// unchanged.
func set[T comparable](s *stale, field *T, v T) {
	if *field != v {
		*field = v
		s.invalidate()
	}
}

func (h *header) flush() {
	if h.due() {
		h.render()
	}
}

func (g *gauge) flush() {
	if g.due() {
		g.render()
	}
}

func (v *verdict) flush() {
	if v.due() {
		v.render()
	}
}

func (a *alarms) flush() {
	if a.due() {
		a.render()
	}
}

func (a *auditPane) flush() {
	if a.due() {
		a.render()
	}
}

// flush draws what the message changed. An unsized cockpit draws nothing:
// View shows "starting" until the first size, which marks everything stale.
func (m *Model) flush() {
	if m.width <= 0 || m.height <= 0 {
		return
	}
	// The help bar first: in the full help its height is the layout's input.
	m.helpLine = m.helpView()
	// layout draws the fixed parts, whose heights decide the charts'.
	m.layout()
	m.charts.flush()
	m.signals.flush()
	m.audit.flush()
	m.confirm.flush()
	m.pick.flush()
	m.statusLine = m.renderStatus()
}

// renderStatus is the line above the help bar: why the last key did what
// it did, or the shared session's prompt.
func (m *Model) renderStatus() string {
	status := ""
	if m.status != "" {
		// Statuses quote results, errors and names: clean them whole.
		status = m.st.Status.Render("» " + termtext.Clean(m.status, 0))
	}
	if p := m.pairPrompt(); p != "" && (m.status == "" || m.pair.Driving) {
		status = p
	}
	if l := logsStatus(m.snap.Logs); l != "" {
		// What the log queries cost so far, after anything more urgent.
		if status != "" {
			return joinFit([]string{status, m.st.Dim.Render(l)}, m.st.Sep, m.width)
		}
		status = m.st.Dim.Render(l)
	}
	return trunc(status, m.width)
}
