package ui

import (
	"context"
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	pclock "github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/internal/termtext"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
)

// Options configures one cockpit.
type Options struct {
	Actor    model.Actor // who the intents are sent as
	ReadOnly bool
	// Renderer decides the colour profile; nil means lipgloss's default.
	// An SSH session passes its own.
	Renderer *lipgloss.Renderer
	Title    string        // shown after "perch" in the header
	Poll     time.Duration // the engine's poll interval, for staleness; default 10s
	// Pairing, when set, makes this cockpit one seat of a shared session:
	// it has write keys only while it drives.
	Pairing Pairing
	// Replay, when set, makes this cockpit a read-only player of a
	// recording, with pause, seek and speed keys.
	Replay Replay
	// Production, when set, says whether the account (by ID) is production
	// for the profile perch runs with: the header then shows PROD.
	Production func(account string) bool
	// Back, when set, makes esc leave the cockpit: the fleet view that
	// opened it gets Back's message.
	Back func() tea.Msg
	// BackTo names where esc goes, for the help ("fleet" unless set).
	BackTo string
	// Clock, when set, is the engine's clock: the header's clock and the
	// age of each data source follow it between snapshots, so a poll that
	// hangs shows as growing ages and then STALE. Nil (a replay) measures
	// everything against the snapshot's own time.
	Clock pclock.Clock
}

type focusArea int

const (
	focusCharts focusArea = iota
	focusAudit
)

// Messages. Each I/O result arrives as exactly one typed message.
type (
	snapshotMsg     struct{ snap model.Snapshot }
	subscriptionEnd struct{}
	resultMsg       struct{ res model.Result }
	clockMsg        struct{ now time.Time }
)

// Model is the cockpit's root: it owns the layout, routes keys and
// messages, and turns write keys into intents run in commands.
type Model struct {
	eng   rollout.Control
	opts  Options
	st    Styles
	keys  KeyMap // picked from keySets by pickKeys
	rkeys replayKeys
	// keySets are the key maps this cockpit can show, built once.
	keySets *keySets
	help    help.Model

	// ctx is never cancelled by the cockpit: an action it sent runs to
	// its audited outcome even if the cockpit quits meanwhile (the engine's
	// Stop waits for it, and every AWS call has its own deadline).
	ctx         context.Context
	updates     <-chan model.Snapshot
	unsubscribe func()

	snap          model.Snapshot
	width, height int
	focus         focusArea
	inflight      string // what this cockpit sent and awaits
	status        string // why the last key did what it did
	last          *model.Result
	quitting      bool // after quit, late messages must not change the screen
	quitWarned    bool // q once said the autopilot stops with perch
	pair          PairState

	// Drawn by flush at the end of each message; View joins them.
	statusLine, helpLine string

	header  header
	gauge   gauge
	verdict verdict
	charts  charts
	alarms  alarms
	audit   auditPane
	confirm confirm
	pick    canaryPick
	// signals is the saturation row and the log patterns pane.
	signals signalsPane
}

// New builds a cockpit on eng. It reads one snapshot now so the first frame
// has something to show; Init subscribes to the rest.
func New(eng rollout.Control, o Options) *Model {
	if o.Renderer == nil {
		o.Renderer = lipgloss.DefaultRenderer()
	}
	if o.Poll <= 0 {
		o.Poll = rollout.DefaultPoll
	}
	if o.Actor.Via == "" {
		o.Actor.Via = "cockpit"
	}
	if o.Replay != nil {
		o.ReadOnly = true
	}
	// A recording's title and an SSH user's name are someone else's text.
	o.Title = termtext.Clean(o.Title, 0)
	backTo := ""
	if o.Back != nil {
		backTo = o.BackTo
		if backTo == "" {
			backTo = "fleet"
		}
	}
	ks := newKeySets(backTo)
	m := &Model{eng: eng, opts: o, st: NewStyles(o.Renderer), keys: ks.weights, keySets: ks, rkeys: newReplayKeys()}
	m.ctx = context.Background()
	m.help = m.st.help()
	m.header = header{st: &m.st, actor: displayActor(o.Actor), poll: o.Poll, title: o.Title, production: o.Production}
	m.gauge = gauge{st: &m.st}
	m.verdict = verdict{st: &m.st}
	m.charts = charts{st: &m.st, window: defaultWindow}
	m.alarms = alarms{st: &m.st}
	m.audit = auditPane{st: &m.st, keys: &m.keys}
	m.confirm = newConfirm(&m.st, &m.keys)
	m.pick = canaryPick{st: &m.st, keys: &m.keys}
	m.signals = signalsPane{st: &m.st}
	m.charts.focused = true
	if o.Pairing != nil {
		m.setPair(o.Pairing.Pair())
	}
	m.setSnapshot(eng.Snapshot())
	return m
}

// Init subscribes to the engine's snapshots.
func (m *Model) Init() tea.Cmd {
	m.updates, m.unsubscribe = m.eng.Subscribe()
	// No tea.SetWindowTitle: in bubbletea v1.3.10 it writes to the terminal
	// without the renderer's lock, racing the frame being flushed.
	cmds := []tea.Cmd{waitForSnapshot(m.ctx, m.updates)}
	if m.opts.Pairing != nil {
		cmds = append(cmds, waitForPair(m.opts.Pairing.Changed()))
	}
	if m.opts.Clock != nil {
		cmds = append(cmds, m.tick())
	}
	return tea.Batch(cmds...)
}

// waitForSnapshot reads one snapshot; Update re-arms it after each. It
// gives up when ctx ends: an engine does not close a cancelled
// subscription, and a viewer that left must not leave a reader behind.
func waitForSnapshot(ctx context.Context, ch <-chan model.Snapshot) tea.Cmd {
	return func() tea.Msg {
		select {
		case s, ok := <-ch:
			if !ok {
				return subscriptionEnd{}
			}
			return snapshotMsg{s}
		case <-ctx.Done():
			return nil
		}
	}
}

// tick reads the clock about once a second of wall time (a demo's clock
// runs faster), for the header.
func (m *Model) tick() tea.Cmd {
	every := time.Second
	if s, ok := m.opts.Clock.(interface{ Speed() float64 }); ok && s.Speed() > 1 {
		every = time.Duration(s.Speed() * float64(time.Second))
	}
	clk, ctx := m.opts.Clock, m.ctx
	return func() tea.Msg {
		select {
		case <-clk.After(every):
			return clockMsg{clk.Now()}
		case <-ctx.Done():
			return nil
		}
	}
}

// Close ends the cockpit's subscription and its pending work. A program
// that stops without q (an SSH viewer who hung up) calls it, so nothing of
// the viewer stays behind.
func (m *Model) Close() { m.detach() }

// Update handles one message, then draws what it changed, once (flush).
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.quitting {
		return m, nil
	}
	cmd := m.update(msg)
	m.flush()
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		return nil
	case snapshotMsg:
		m.setSnapshot(msg.snap)
		return waitForSnapshot(m.ctx, m.updates)
	case clockMsg:
		m.header.SetNow(msg.now)
		return m.tick()
	case pairChangedMsg:
		m.setPair(m.opts.Pairing.Pair())
		return waitForPair(m.opts.Pairing.Changed())
	case autopilotSteeredMsg:
		m.autopilotSteered(msg.res)
		return nil
	case subscriptionEnd:
		m.status = "engine stopped sending updates: the screen is frozen"
		return nil
	case resultMsg:
		m.inflight = ""
		m.gauge.SetPending("")
		res := displayResult(msg.res)
		m.last = &res
		m.verdict.SetResult(m.last)
		m.status = resultStatus(res)
		return nil
	case tea.KeyMsg:
		if !m.confirm.open && key.Matches(msg, m.keys.Evidence) {
			m.toggleEvidence()
			return nil
		}
		if !m.confirm.open && !m.pick.open && key.Matches(msg, m.keys.Logs) {
			m.signals.toggle()
			return nil
		}
		return m.handleKey(msg)
	}
	if m.confirm.open {
		_, cmd := m.confirm.Update(msg)
		return cmd
	}
	return nil
}

func (m *Model) readOnly() bool { return m.opts.ReadOnly || m.snap.ReadOnly }

func (m *Model) setSnapshot(s model.Snapshot) {
	s = displaySnapshot(s)
	m.snap = s
	if s.Last != nil {
		m.last = s.Last
	}
	m.pickKeys()
	m.header.SetReadOnly(m.readOnly() && m.opts.Replay == nil)
	m.refreshReplay()
	m.header.SetSnapshot(s)
	m.gauge.SetSnapshot(s)
	m.verdict.SetResult(m.last)
	m.verdict.SetJudgement(s.Verdict, s.Autopilot)
	m.alarms.SetSnapshot(s)
	m.audit.SetSnapshot(s)
	m.charts.SetSnapshot(s)
	m.signals.SetSnapshot(s)
}

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	if m.unsubscribe != nil {
		m.unsubscribe()
		m.unsubscribe = nil
	}
	return tea.Quit
}

// String is for debugging: the intent a cockpit is waiting for.
func (m *Model) String() string {
	return fmt.Sprintf("cockpit(%s, inflight=%q)", m.snap.Target.Name, m.inflight)
}

// takesCommandLine reports whether ":" may open the command line over
// this cockpit: not while a dialog has the keys.
func (m *Model) takesCommandLine() bool { return !m.confirm.open && !m.pick.open }
