package ui

import (
	"context"
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/perch-dev/perch/model"
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
	// Back, when set, makes esc leave the cockpit: the fleet view that
	// opened it gets Back's message.
	Back func() tea.Msg
}

// DefaultPoll is the poll interval assumed when Options.Poll is zero.
const DefaultPoll = 10 * time.Second

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
)

// Model is the cockpit's root: it owns the layout, routes keys and
// messages, and turns write keys into intents run in commands.
type Model struct {
	eng   Engine
	opts  Options
	st    Styles
	keys  KeyMap
	rkeys replayKeys
	help  help.Model

	ctx         context.Context
	stop        context.CancelFunc
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

	header  header
	gauge   gauge
	verdict verdict
	charts  charts
	alarms  alarms
	audit   auditPane
	confirm confirm
}

// New builds a cockpit on eng. It reads one snapshot now so the first frame
// has something to show; Init subscribes to the rest.
func New(eng Engine, o Options) *Model {
	if o.Renderer == nil {
		o.Renderer = lipgloss.DefaultRenderer()
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Actor.Via == "" {
		o.Actor.Via = "cockpit"
	}
	if o.Replay != nil {
		o.ReadOnly = true
	}
	m := &Model{eng: eng, opts: o, st: NewStyles(o.Renderer), keys: DefaultKeyMap(), rkeys: newReplayKeys()}
	m.ctx, m.stop = context.WithCancel(context.Background())
	m.help = m.st.help()
	m.header = header{st: &m.st, actor: o.Actor, poll: o.Poll, title: o.Title}
	m.gauge = gauge{st: &m.st}
	m.verdict = verdict{st: &m.st}
	m.charts = charts{st: &m.st, window: defaultWindow}
	m.alarms = alarms{st: &m.st}
	m.audit = auditPane{st: &m.st, keys: &m.keys}
	m.confirm = newConfirm(&m.st, &m.keys)
	m.charts.focused = true
	m.keys.Back.SetEnabled(o.Back != nil)
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
	if m.opts.Pairing != nil {
		return tea.Batch(waitForSnapshot(m.updates), waitForPair(m.opts.Pairing.Changed()))
	}
	return waitForSnapshot(m.updates)
}

// waitForSnapshot reads one snapshot; Update re-arms it after each.
func waitForSnapshot(ch <-chan model.Snapshot) tea.Cmd {
	return func() tea.Msg {
		s, ok := <-ch
		if !ok {
			return subscriptionEnd{}
		}
		return snapshotMsg{s}
	}
}

func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.quitting {
		return m, nil
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case snapshotMsg:
		m.setSnapshot(msg.snap)
		return m, waitForSnapshot(m.updates)
	case pairChangedMsg:
		m.setPair(m.opts.Pairing.Pair())
		return m, waitForPair(m.opts.Pairing.Changed())
	case autopilotToggledMsg:
		m.autopilotToggled(msg)
		return m, nil
	case subscriptionEnd:
		m.status = "engine stopped sending updates: the screen is frozen"
		return m, nil
	case resultMsg:
		m.inflight = ""
		m.gauge.SetPending("")
		res := msg.res
		m.last = &res
		m.verdict.SetResult(m.last)
		m.status = resultStatus(res)
		m.layout()
		return m, nil
	case tea.KeyMsg:
		if !m.confirm.open && key.Matches(msg, m.keys.Evidence) {
			m.toggleEvidence()
			return m, nil
		}
		return m, m.handleKey(msg)
	}
	if m.confirm.open {
		_, cmd := m.confirm.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m *Model) readOnly() bool { return m.opts.ReadOnly || m.snap.ReadOnly }

func (m *Model) setSnapshot(s model.Snapshot) {
	m.snap = s
	if s.Last != nil {
		m.last = s.Last
	}
	m.applyWriteKeys()
	m.keys.SetCodeDeploy(s.Deployment != nil, s.Deployment != nil && s.Deployment.Waiting != "" && !m.readOnly() && !m.watching())
	m.header.readOnly = m.readOnly() && m.opts.Replay == nil
	if m.opts.Replay != nil {
		m.header.replay = m.replayLine(m.opts.Replay.Replay())
	}
	m.header.SetSnapshot(s)
	m.gauge.SetSnapshot(s)
	m.verdict.SetResult(m.last)
	m.verdict.SetJudgement(s.Verdict, s.Autopilot)
	m.setAutopilotHelp(s.Autopilot)
	m.alarms.SetSnapshot(s)
	m.audit.SetSnapshot(s)
	m.charts.snap = s
	m.layout()
	m.charts.redraw()
}

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	if m.unsubscribe != nil {
		m.unsubscribe()
		m.unsubscribe = nil
	}
	m.stop()
	return tea.Quit
}

// String is for debugging: the intent a cockpit is waiting for.
func (m *Model) String() string {
	return fmt.Sprintf("cockpit(%s, inflight=%q)", m.snap.Target.Name, m.inflight)
}
