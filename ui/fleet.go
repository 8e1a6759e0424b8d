package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/perch-dev/perch/internal/termtext"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
)

// Fleet is what the fleet view needs from the fleet poller.
type Fleet interface {
	// Engines are the targets, in the order the view lists them.
	Engines() []rollout.Control
	Status() rollout.FleetStats
	// Subscribe delivers the status after every metrics poll until cancel.
	Subscribe() (<-chan rollout.FleetStats, func())
	// Focus says whose cockpit is open (-1: none), so that target's
	// routing is read more often.
	Focus(i int)
}

// FleetOptions configures the fleet view and the cockpits it opens.
type FleetOptions struct {
	Title    string // after "perch fleet" in the header
	Actor    model.Actor
	ReadOnly bool
	Renderer *lipgloss.Renderer
	Poll     time.Duration // the cockpits' routing poll, for staleness
	// Open names a target whose cockpit opens at start (esc shows the
	// fleet).
	Open string
	// Production says whether a profile or account is production: the
	// view and its cockpits show PROD.
	Production func(profileOrAccount string) bool
}

type fleetStatusMsg struct{ st rollout.FleetStats }

// FleetModel is the fleet view: one row per target, and the target's
// cockpit on enter. Rows are drawn when their target's snapshot changes
// and cached; View only joins strings.
type FleetModel struct {
	fleet   Fleet
	engines []rollout.Control
	opts    FleetOptions
	st      Styles
	keys    fleetKeyMap
	help    help.Model
	filter  textinput.Model

	updates     <-chan rollout.FleetStats
	unsubscribe func()

	width, height int
	layout        fleetLayout
	snaps         []model.Snapshot
	rows          []string // rendered rows, without the cursor marker
	stale         []bool   // rows whose snapshot changed since drawn: drawn when on screen
	texts         []string // what the filter matches, per row
	visible       []int    // rows passing the filter, in order
	cursor        int      // index into visible
	offset        int      // first visible row on screen
	filtering     bool     // the filter input has the keyboard
	status        rollout.FleetStats
	note          string // why the last key did what it did
	quitWarned    bool
	quitting      bool
	now           time.Time

	head, colHead, statusLine string

	cockpit    *Model
	cockpitIdx int
	gen        int // bumped per cockpit opened: older cockpits' messages are dropped

	renders int // rows drawn; tests watch it
}

// NewFleet builds the fleet view and reads every target's snapshot once.
// The options' defaults are the cockpit's, which New fills in.
func NewFleet(f Fleet, o FleetOptions) *FleetModel {
	o.Title = termtext.Clean(o.Title, 0)
	m := &FleetModel{fleet: f, engines: f.Engines(), opts: o, st: NewStyles(o.Renderer), keys: defaultFleetKeys(), cockpitIdx: -1}
	m.help = m.st.help()
	m.filter = textinput.New()
	m.filter.Prompt = "/ "
	m.filter.Placeholder = "name, kind, region, FAIL, ALARM…"
	m.filter.CharLimit = 64
	m.snaps = make([]model.Snapshot, len(m.engines))
	m.rows = make([]string, len(m.engines))
	m.stale = make([]bool, len(m.engines))
	m.texts = make([]string, len(m.engines))
	for i := range m.snaps {
		m.snaps[i].Seq = ^uint64(0) // never a real Seq: the first refresh draws every row
	}
	m.status = f.Status()
	m.refresh(true)
	return m
}

// Init subscribes to the poller's status.
func (m *FleetModel) Init() tea.Cmd {
	m.updates, m.unsubscribe = m.fleet.Subscribe()
	if m.opts.Open != "" {
		for vi, i := range m.visible {
			if m.snaps[i].Target.Name == m.opts.Open {
				m.cursor = vi
				return tea.Batch(waitForFleet(m.updates), m.openCockpit())
			}
		}
	}
	return waitForFleet(m.updates)
}

func waitForFleet(ch <-chan rollout.FleetStats) tea.Cmd {
	return func() tea.Msg {
		s, ok := <-ch
		if !ok {
			return subscriptionEnd{}
		}
		return fleetStatusMsg{s}
	}
}

// refresh reads every snapshot and marks the rows whose snapshot changed
// (all of them when force is set: the width changed) to be drawn again
// when they are on screen: of 500 targets, 50 rows show at 200x50.
func (m *FleetModel) refresh(force bool) {
	for i, e := range m.engines {
		s := e.Snapshot()
		if !force && s.Seq == m.snaps[i].Seq && s.Now.Equal(m.snaps[i].Now) {
			continue
		}
		// Kept as read: only what is drawn is cleaned (drawVisible), and
		// the filter's text is matched, never shown.
		m.snaps[i] = s
		m.texts[i] = rowText(s)
		if s.Now.After(m.now) {
			m.now = s.Now
		}
		m.stale[i] = true
	}
	m.applyFilter()
	m.renderChrome()
	m.drawVisible()
}

// drawVisible draws the stale rows now on screen. Every Update ends with
// it, so View only joins strings; a row scrolled into view is drawn then.
func (m *FleetModel) drawVisible() {
	if m.width <= 0 || m.cockpit != nil {
		return
	}
	end := min(m.offset+m.rowsHeight(), len(m.visible))
	for vi := m.offset; vi < end; vi++ {
		i := m.visible[vi]
		if m.stale[i] {
			m.rows[i] = renderRow(&m.st, m.layout, displaySnapshot(m.snaps[i]))
			m.stale[i] = false
			m.renders++
		}
	}
}

// Update handles the fleet's keys and messages, or hands them to the open
// cockpit.
func (m *FleetModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.quitting {
		return m, nil
	}
	defer m.drawVisible()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
		if m.cockpit != nil {
			m.cockpit.Update(msg)
		}
		return m, nil
	case fleetStatusMsg:
		m.status = msg.st
		if m.cockpit == nil {
			m.refresh(false) // else on esc: nothing is drawn behind a cockpit
		}
		return m, waitForFleet(m.updates)
	case cockpitMsg:
		if msg.gen != m.gen || m.cockpit == nil {
			return m, nil // from a cockpit that was closed
		}
		_, cmd := m.cockpit.Update(msg.msg)
		return m, m.wrap(cmd)
	case backMsg:
		if msg.gen == m.gen {
			m.closeCockpit()
		}
		return m, nil
	}
	if m.cockpit != nil {
		_, cmd := m.cockpit.Update(msg)
		return m, m.wrap(cmd)
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		return m, m.handleKey(k)
	}
	return m, nil
}

func (m *FleetModel) resize(w, h int) {
	m.width, m.height = w, h
	m.help.Width = w
	m.filter.Width = max(w-4, 1)
	m.layout = newFleetLayout(w)
	m.refresh(true)
}

func (m *FleetModel) autopilots() int {
	n := 0
	for _, e := range m.engines {
		if a := e.Snapshot().Autopilot; a != nil && a.Running {
			n++
		}
	}
	return n
}

func (m *FleetModel) quit() tea.Cmd {
	m.quitting = true
	if m.cockpit != nil {
		m.cockpit.detach()
	}
	if m.unsubscribe != nil {
		m.unsubscribe()
		m.unsubscribe = nil
	}
	return tea.Quit
}

// View joins the cached pieces; with a cockpit open it is the cockpit's.
func (m *FleetModel) View() string {
	if m.cockpit != nil {
		return m.cockpit.View()
	}
	if m.width <= 0 || m.height <= 0 {
		return "perch: starting…"
	}
	var b strings.Builder
	b.Grow(m.width * m.height * 2)
	b.WriteString(m.head)
	b.WriteByte('\n')
	b.WriteString(m.colHead)
	n := m.rowsHeight()
	sel := m.selected()
	shown := 0
	for vi := m.offset; vi < len(m.visible) && shown < n; vi++ {
		i := m.visible[vi]
		b.WriteByte('\n')
		if i == sel {
			b.WriteString(m.st.Focused.Render("▸"))
			b.WriteByte(' ')
		} else {
			b.WriteString("  ")
		}
		b.WriteString(m.rows[i])
		shown++
	}
	if len(m.visible) == 0 {
		b.WriteString("\n  " + m.st.Dim.Render("no target matches the filter (esc clears it)"))
		shown++
	}
	for ; shown < n+1; shown++ {
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	note := m.statusLine
	if m.note != "" {
		note = trunc(m.st.Status.Render("» "+m.note), m.width)
	}
	b.WriteString(note)
	if m.filtering {
		b.WriteString("\n" + trunc(m.filter.View(), m.width))
	} else if v := m.filter.Value(); v != "" {
		b.WriteString("\n" + trunc(m.st.Dim.Render(fmt.Sprintf("filter: %s (%d of %d; / edits, esc clears)", v, len(m.visible), len(m.engines))), m.width))
	}
	b.WriteString("\n" + m.helpView())
	return padLines(b.String(), m.height)
}

func (m *FleetModel) helpView() string {
	km := m.helpKeys()
	if m.help.ShowAll {
		return fit(m.help.View(km), m.width)
	}
	return shortHelp(m.help, km.ShortHelp(), m.width)
}

// helpKeys are the keys that work now: while the filter is typed, only
// those that end it.
func (m *FleetModel) helpKeys() help.KeyMap {
	if m.filtering {
		return fleetFilterHelp{m.keys}
	}
	return m.keys
}
