package ui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/list"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	pclock "github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/internal/termtext"
	"github.com/perch-dev/perch/model"
)

// DiscoverModel is what `perch` with no target opens: the account's
// canaries (every kind, the scope's regions) in a list with a filter,
// enter to open one's cockpit, esc to come back, R to rescan, and the
// command line (:ls, :region, :profile, :target), which the cockpits it
// opens share.
type DiscoverModel struct {
	d     Discovery
	opts  DiscoverOptions
	st    Styles
	keys  discoverKeyMap
	help  help.Model
	list  list.Model
	line  cmdline
	ctx   context.Context
	clock pclock.Clock

	width, height int
	scope         DiscoverScope
	result        DiscoverResult
	have          bool // a scan (or the cache) has answered
	scanning      bool
	progress      model.ScanProgress
	status        string

	cockpit *Model
	opened  Opened
	gen     int
	opening string // a cockpit being opened
	quiting bool
}

// DiscoverOptions configure the list.
type DiscoverOptions struct {
	Renderer *lipgloss.Renderer
	Clock    pclock.Clock // the wall clock unless a test brings one
}

// Messages of the list's commands.
type (
	scanProgressMsg struct {
		p  model.ScanProgress
		ch <-chan model.ScanProgress
	}
	scanDoneMsg struct {
		res DiscoverResult
		err error
	}
	openedMsg struct {
		o   Opened
		err error
	}
	closedMsg struct{}
)

// NewDiscover builds the list on d, showing the cached scan at once.
func NewDiscover(d Discovery, o DiscoverOptions) *DiscoverModel {
	if o.Renderer == nil {
		o.Renderer = lipgloss.DefaultRenderer()
	}
	if o.Clock == nil {
		o.Clock = pclock.Real{}
	}
	m := &DiscoverModel{d: d, opts: o, st: NewStyles(o.Renderer), keys: defaultDiscoverKeys(), ctx: context.Background(), clock: o.Clock}
	m.help = m.st.help()
	m.list = newFoundList(&m.st, m.clock.Now)
	m.line = newCmdline(&m.st, &m.keys)
	m.scope = d.Scope()
	if res, ok := d.Cached(); ok {
		m.setResult(res)
	}
	return m
}

// Init scans the scope: the cached list stays on screen meanwhile.
func (m *DiscoverModel) Init() tea.Cmd { return m.scan() }

func (m *DiscoverModel) setResult(res DiscoverResult) {
	m.result, m.have = res, true
	m.list.SetItems(foundItems(res.Found))
}

// scan runs a scan in a command and streams its progress.
func (m *DiscoverModel) scan() tea.Cmd {
	if m.scanning {
		return nil
	}
	m.scanning, m.progress = true, model.ScanProgress{}
	ch := make(chan model.ScanProgress, 64)
	d, ctx := m.d, m.ctx
	run := func() tea.Msg {
		res, err := d.Scan(ctx, func(p model.ScanProgress) {
			select {
			case ch <- p:
			default: // the screen is behind: it shows the next one
			}
		})
		close(ch)
		return scanDoneMsg{res, err}
	}
	return tea.Batch(run, waitScanProgress(ch))
}

func waitScanProgress(ch <-chan model.ScanProgress) tea.Cmd {
	return func() tea.Msg {
		p, ok := <-ch
		if !ok {
			return nil
		}
		return scanProgressMsg{p, ch}
	}
}

func (m *DiscoverModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.quiting {
		return m, nil
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.list.SetSize(msg.Width, max(1, msg.Height-4))
		if m.cockpit != nil {
			m.cockpit.Update(msg)
		}
		return m, nil
	case scanProgressMsg:
		m.progress = msg.p
		return m, waitScanProgress(msg.ch)
	case scanDoneMsg:
		m.scanning = false
		if msg.err != nil {
			m.status = "scan failed: " + termtext.Clean(msg.err.Error(), 0)
			return m, nil
		}
		m.setResult(msg.res)
		m.status = ""
		return m, nil
	case openedMsg:
		return m, m.opened1(msg)
	case closedMsg:
		m.status = ""
		return m, nil
	case backMsg:
		if msg.gen == m.gen {
			return m, m.closeCockpit()
		}
		return m, nil
	case cockpitMsg:
		if msg.gen != m.gen || m.cockpit == nil {
			return m, nil
		}
		_, cmd := m.cockpit.Update(msg.msg)
		return m, m.wrap(cmd)
	case tea.KeyMsg:
		return m, m.key(msg)
	}
	if m.cockpit != nil {
		_, cmd := m.cockpit.Update(msg)
		return m, m.wrap(cmd)
	}
	var cmd tea.Cmd
	m.list, cmd = m.list.Update(msg)
	return m, cmd
}

func (m *DiscoverModel) key(msg tea.KeyMsg) tea.Cmd {
	if cmd, ok := m.typedCommand(msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, m.keys.ForceQuit):
		return m.quit()
	case m.line.open:
		done, line, ok, cmd := m.line.Update(msg)
		if done && ok {
			return m.run(line)
		}
		return cmd
	case m.cockpit != nil:
		if key.Matches(msg, m.keys.Command) && m.cockpit.takesCommandLine() {
			return m.line.Open(m.d.Known())
		}
		_, cmd := m.cockpit.Update(msg)
		return m.wrap(cmd)
	case m.list.SettingFilter():
		var cmd tea.Cmd
		m.list, cmd = m.list.Update(msg)
		return cmd
	}
	m.status = ""
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m.quit()
	case key.Matches(msg, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
		return nil
	case key.Matches(msg, m.keys.Command):
		return m.line.Open(m.d.Known())
	case key.Matches(msg, m.keys.Rescan):
		if m.scanning {
			m.status = "a scan is under way"
			return nil
		}
		return m.scan()
	case key.Matches(msg, m.keys.Open):
		it, ok := m.list.SelectedItem().(foundItem)
		if !ok {
			m.status = "nothing to open: the list is empty"
			return nil
		}
		return m.open(it.f.Name, func(ctx context.Context) (Opened, error) { return m.d.Open(ctx, it.f) })
	}
	var cmd tea.Cmd
	m.list, cmd = m.list.Update(msg)
	return cmd
}

// typedCommand opens the command line on ":" followed by more runes in
// one message, as a fast typist or a paste delivers it: the rest goes
// into the line.
func (m *DiscoverModel) typedCommand(msg tea.KeyMsg) (tea.Cmd, bool) {
	if msg.Type != tea.KeyRunes || len(msg.Runes) < 2 || msg.Runes[0] != ':' || m.line.open || m.list.SettingFilter() {
		return nil, false
	}
	if m.cockpit != nil && !m.cockpit.takesCommandLine() {
		return nil, false
	}
	open := m.line.Open(m.d.Known())
	_, _, _, typed := m.line.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: msg.Runes[1:]})
	return tea.Batch(open, typed), true
}

// run carries out a submitted command line.
func (m *DiscoverModel) run(line string) tea.Cmd {
	c, err := parseCommand(line)
	if err != nil {
		m.status = err.Error()
		return nil
	}
	switch c.verb {
	case "ls":
		return m.closeCockpit()
	case "target":
		return tea.Sequence(m.closeCockpit(), m.open(c.arg, func(ctx context.Context) (Opened, error) { return m.d.OpenTarget(ctx, c.arg) }))
	case "region", "profile":
		set := m.d.SetRegion
		if c.verb == "profile" {
			set = m.d.SetProfile
		}
		if err := set(c.arg); err != nil {
			m.status = termtext.Clean(err.Error(), 0)
			return nil
		}
		m.scope, m.have = m.d.Scope(), false
		m.list.SetItems(nil)
		if res, ok := m.d.Cached(); ok {
			m.setResult(res)
		}
		m.scanning = false
		return tea.Sequence(m.closeCockpit(), m.scan())
	}
	return nil
}

// open opens a cockpit in a command; the list stays until it is ready.
func (m *DiscoverModel) open(what string, open func(context.Context) (Opened, error)) tea.Cmd {
	if m.opening != "" {
		m.status = "opening " + m.opening + "…"
		return nil
	}
	m.opening = termtext.Clean(what, 0)
	m.status = "opening " + m.opening + "…"
	ctx := m.ctx
	return func() tea.Msg {
		o, err := open(ctx)
		return openedMsg{o, err}
	}
}

// opened1 shows the cockpit a command opened.
func (m *DiscoverModel) opened1(msg openedMsg) tea.Cmd {
	what := m.opening
	m.opening = ""
	if msg.err != nil {
		m.status = "could not open " + what + ": " + termtext.Clean(msg.err.Error(), 0)
		return nil
	}
	m.gen++
	gen := m.gen
	o := msg.o.Options
	o.Renderer = m.opts.Renderer
	o.Back, o.BackTo = func() tea.Msg { return backMsg{gen} }, "list"
	m.cockpit, m.opened, m.status = New(msg.o.Engine, o), msg.o, ""
	m.cockpit.Update(tea.WindowSizeMsg{Width: m.width, Height: m.height})
	return m.wrap(m.cockpit.Init())
}

// closeCockpit goes back to the list and stops the cockpit's session in a
// command (its engine finishes any action in flight first).
func (m *DiscoverModel) closeCockpit() tea.Cmd {
	if m.cockpit == nil {
		return nil
	}
	m.cockpit.detach()
	closeSession := m.opened.Close
	m.cockpit, m.opened = nil, Opened{}
	if closeSession == nil {
		return nil
	}
	m.status = "closing the cockpit…"
	return func() tea.Msg {
		closeSession()
		return closedMsg{}
	}
}

func (m *DiscoverModel) quit() tea.Cmd {
	m.quiting = true
	if m.cockpit != nil {
		m.cockpit.detach()
		if c := m.opened.Close; c != nil {
			return tea.Sequence(func() tea.Msg { c(); return nil }, tea.Quit)
		}
	}
	return tea.Quit
}

func (m *DiscoverModel) wrap(cmd tea.Cmd) tea.Cmd { return wrapGen(m.gen, cmd) }

// CloseOpen stops the open cockpit's session, if any: the program may end
// from inside a cockpit (q there), and its engine must stop before its
// audit log closes. It blocks; call it after the program has ended.
func (m *DiscoverModel) CloseOpen() {
	if m.cockpit != nil {
		m.cockpit.detach()
	}
	if c := m.opened.Close; c != nil {
		m.opened = Opened{}
		c()
	}
}

// View is the cockpit when one is open (with the command line over its
// status line), else the list.
func (m *DiscoverModel) View() string {
	if m.width <= 0 || m.height <= 0 {
		return "perch: starting…"
	}
	if m.cockpit != nil {
		v := m.cockpit.View()
		if m.line.open {
			lines := strings.Split(v, "\n")
			if len(lines) >= 2 {
				lines[len(lines)-2] = m.line.View(m.width)
				lines[len(lines)-1] = fit(m.help.View(cmdlineHelp{m.keys}), m.width)
			}
			v = strings.Join(lines, "\n")
		}
		return v
	}
	parts := []string{m.headLine(), m.scopeLine(), m.list.View()}
	status := m.status
	switch {
	case m.line.open:
		status = m.line.View(m.width)
	case status != "":
		status = m.st.Status.Render("» " + status)
	}
	parts = append(parts, trunc(status, m.width))
	if m.line.open {
		parts = append(parts, fit(m.help.View(cmdlineHelp{m.keys}), m.width))
	} else if m.help.ShowAll {
		parts = append(parts, fit(m.help.View(m.keys), m.width))
	} else {
		parts = append(parts, shortHelp(m.help, m.keys.ShortHelp(), m.width))
	}
	return padLines(strings.Join(parts, "\n"), m.height)
}

func (m *DiscoverModel) headLine() string {
	st := &m.st
	out := brandLine(st, "perch", "canaries", false)
	if m.scope.Production {
		out += " " + st.Bad.Render("[PROD]")
	}
	profile := m.scope.Profile
	if profile == "" {
		profile = "default profile"
	} else {
		profile = "profile " + termtext.Clean(profile, 24)
	}
	out += st.Sep + profile + st.Sep + termtext.Clean(strings.Join(m.scope.Regions, ", "), 60)
	return trunc(out, m.width)
}

func (m *DiscoverModel) scopeLine() string {
	st := &m.st
	var parts []string
	switch {
	case m.scanning && m.progress.Stage != "":
		p := m.progress
		what := fmt.Sprintf("scanning %s: %s %d", termtext.Clean(p.Region, 20), p.Stage, p.Done)
		if p.Total > 0 {
			what += fmt.Sprintf("/%d", p.Total)
		}
		parts = append(parts, st.Warn.Render("⟳ "+what))
	case m.scanning:
		parts = append(parts, st.Warn.Render("⟳ scanning…"))
	}
	switch {
	case m.have && m.result.Calls > 0:
		parts = append(parts, fmt.Sprintf("scanned %s ago with %d AWS calls", age(m.clock.Now().Sub(m.result.At)), m.result.Calls))
	case m.have:
		parts = append(parts, fmt.Sprintf("cached scan from %s ago", age(m.clock.Now().Sub(m.result.At))))
	case !m.scanning:
		parts = append(parts, "no scan yet: R scans")
	}
	return trunc(st.Dim.Render(strings.Join(parts, st.Sep)), m.width)
}
