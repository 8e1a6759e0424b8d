package ui

import (
	"context"
	"fmt"
	"strings"
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
		return m, m.handleKey(msg)
	}
	if m.confirm.open {
		_, cmd := m.confirm.Update(msg)
		return m, cmd
	}
	return m, nil
}

// resultStatus is the status line after an action comes back; the verdict
// line carries the detail.
func resultStatus(r model.Result) string {
	act := r.Intent.Kind.Action()
	switch r.Outcome {
	case model.OutcomeOK:
		if r.Verified {
			return act + " finished: ok, verified (canary " + pct(r.To.CanaryPercent()) + ")"
		}
		return act + " finished: ok, NOT verified (canary " + pct(r.To.CanaryPercent()) + ")"
	case model.OutcomeRefused:
		return act + " refused: nothing changed"
	}
	return act + " FAILED: traffic now canary " + pct(r.To.CanaryPercent())
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

// layout sizes every component from the terminal size; the charts take
// whatever the fixed parts leave.
func (m *Model) layout() {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return
	}
	m.help.Width = w
	m.header.SetSize(w, m.header.Height())
	m.gauge.SetSize(w, 0)
	m.verdict.SetSize(w, 1)
	alarmLines := 1
	if h >= 40 {
		alarmLines = 2
	}
	if h >= 60 {
		alarmLines = 3
	}
	m.alarms.SetSize(w, alarmLines)
	auditH := min(max(h/8, 2), 12) + 1
	m.audit.SetSize(w, auditH)
	chartsH := h - m.header.Height() - m.gauge.Height() - 1 - m.alarms.Height() - auditH - 1 - m.helpHeight()
	chartsH = max(chartsH, 0)
	// Sparklines cannot use more height; the audit pane can.
	if chartMode(w, chartsH) == "compact" && chartsH > compactHeight {
		m.audit.SetSize(w, auditH+chartsH-compactHeight)
		auditH += chartsH - compactHeight
		chartsH = compactHeight
	}
	m.charts.SetSize(w, chartsH)
	m.confirm.SetSize(w, chartsH+m.alarms.Height()+auditH)
}

func (m *Model) helpHeight() int {
	if m.help.ShowAll && !m.confirm.open {
		return lipgloss.Height(m.helpView())
	}
	return 1
}

func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	if m.opts.Pairing != nil {
		m.opts.Pairing.Active()
	}
	if m.confirm.open {
		switch out, cmd := m.confirm.Update(msg); out {
		case confirmYes:
			in := m.confirm.Intent(m.opts.Actor)
			m.confirm.Close()
			m.layout()
			// The world may have changed while the dialog was open.
			if why := m.writeBlocked(); why != "" {
				m.status = why + ": nothing was sent"
				return nil
			}
			return m.send(in)
		case confirmNo:
			m.confirm.Close()
			m.status = "cancelled: nothing was sent"
			m.layout()
			return nil
		default:
			return cmd
		}
	}
	m.status = ""
	if key.Matches(msg, m.keys.Back) {
		if m.inflight != "" {
			m.status = "busy: " + m.inflight + "… wait for it to finish before leaving"
			return nil
		}
		return m.opts.Back
	}
	if m.pairKey(msg) || m.replayKey(msg) {
		m.layout()
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		if m.autopilotRunning() && !m.quitWarned {
			m.quitWarned = true
			m.status = fmt.Sprintf("the autopilot is running: it stops when perch exits and traffic stays at canary %s. Press q again to quit.",
				pct(m.snap.Split.CanaryPercent()))
			return nil
		}
		return m.quit()
	case key.Matches(msg, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
		m.layout()
		return nil
	case key.Matches(msg, m.keys.Focus):
		m.setFocus(1 - m.focus)
		return nil
	case key.Matches(msg, m.keys.Narrower):
		m.charts.ShiftWindow(-1)
		return nil
	case key.Matches(msg, m.keys.Wider):
		m.charts.ShiftWindow(+1)
		return nil
	case m.snap.Deployment != nil && pressed(msg, m.keys.Continue):
		return m.continueKey()
	case m.keys.isWriteKey(msg):
		return m.writeKey(msg)
	}
	if m.focus == focusAudit {
		return m.audit.Update(msg)
	}
	return nil
}

func (m *Model) setFocus(f focusArea) {
	m.focus = f
	m.charts.SetFocused(f == focusCharts)
	m.audit.SetFocused(f == focusAudit)
}

// writeBlocked says why a write key must do nothing now, or "".
func (m *Model) writeBlocked() string {
	switch {
	case m.opts.Replay != nil:
		return "replay: a recording cannot move traffic"
	case m.readOnly():
		return "read-only: this cockpit does not move traffic"
	case m.watching():
		return "watching: " + m.pair.Driver + " drives; press D to ask for the wheel"
	case !m.snap.SplitKnown:
		return "traffic state unknown: writes disabled until a read succeeds"
	case m.inflight != "":
		return "busy: " + m.inflight + "… wait for it to finish"
	case m.snap.Busy != "":
		return "busy: " + strings.TrimSuffix(m.snap.Busy, "…") + "… wait for it to finish"
	}
	return ""
}

func (m *Model) writeKey(msg tea.KeyMsg) tea.Cmd {
	if why := m.writeBlocked(); why != "" {
		m.status = why
		return nil
	}
	if d := m.snap.Deployment; d != nil {
		// CodeDeploy moves the traffic: only r (and c) mean something.
		switch {
		case key.Matches(msg, m.keys.Rollback):
			m.confirm.Open(model.Rollback, m.snap)
			m.status = fmt.Sprintf("y sends StopDeployment %s with autoRollbackEnabled: CodeDeploy moves all traffic back to %s", d.ID, m.snap.Target.StableName)
			m.layout()
		case key.Matches(msg, m.keys.Autopilot):
			m.status = "no autopilot here: CodeDeploy runs its own configuration (" + d.Routing.String() + ")"
		default:
			m.status = "CodeDeploy shifts traffic itself and has no API to set weights: + - P do nothing (r stops it with rollback, c continues it when it waits)"
		}
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.StepUp):
		return m.step(model.StepUp)
	case key.Matches(msg, m.keys.StepDown):
		return m.step(model.StepDown)
	case key.Matches(msg, m.keys.Rollback):
		m.confirm.Open(model.Rollback, m.snap)
		m.layout()
	case key.Matches(msg, m.keys.Promote):
		m.confirm.Open(model.Promote, m.snap)
		m.layout()
	case key.Matches(msg, m.keys.Autopilot):
		return m.toggleAutopilot()
	}
	return nil
}

// continueKey sends ContinueDeployment when the deployment waits, and
// says why not otherwise.
func (m *Model) continueKey() tea.Cmd {
	if why := m.writeBlocked(); why != "" {
		m.status = why
		return nil
	}
	d := m.snap.Deployment
	if d.Waiting == "" {
		m.status = fmt.Sprintf("deployment %s is %s, not waiting: nothing to continue (CodeDeploy has no API to skip an interval)", d.ID, d.Status)
		return nil
	}
	return m.send(model.Intent{Kind: model.Continue, Actor: m.opts.Actor})
}

func (m *Model) ladder() model.Ladder {
	if len(m.snap.Ladder) >= 2 {
		return m.snap.Ladder
	}
	return model.DefaultLadder()
}

func (m *Model) step(kind model.IntentKind) tea.Cmd {
	exp := m.snap.Split
	in := model.Intent{Kind: kind, Expected: &exp, Actor: m.opts.Actor}
	// Say so here rather than send an intent the engine can only refuse.
	if _, err := in.Target(exp, m.ladder()); err != nil {
		m.status = err.Error()
		return nil
	}
	return m.send(in)
}

// send runs the intent in a command; the result comes back as resultMsg.
func (m *Model) send(in model.Intent) tea.Cmd {
	desc := string(in.Kind)
	if d := m.snap.Deployment; d != nil {
		desc = "stopping " + d.ID + " with rollback"
		if in.Kind == model.Continue {
			desc = "continuing " + d.ID + " (" + d.Waiting + ")"
		}
	} else if to, err := in.Target(m.snap.Split, m.ladder()); err == nil {
		switch in.Kind {
		case model.Rollback:
			desc = "rolling back to 0%"
		case model.Promote:
			desc = "promoting to 100%"
		default:
			desc = "shifting to " + pct(to)
		}
	}
	m.inflight = desc
	m.gauge.SetPending(desc)
	m.layout()
	eng, ctx := m.eng, m.ctx
	return func() tea.Msg { return resultMsg{eng.Execute(ctx, in)} }
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

// View joins the components' cached renderings; nothing here draws charts.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return "perch: starting…"
	}
	parts := make([]string, 0, 9)
	parts = append(parts, m.header.View(), m.gauge.View(), m.verdict.View())
	if m.confirm.open {
		parts = append(parts, m.confirm.View())
	} else {
		if v := m.charts.View(); m.charts.height > 0 {
			parts = append(parts, v)
		}
		parts = append(parts, m.alarms.View(), m.audit.View())
	}
	status := ""
	if m.status != "" {
		status = m.st.Status.Render("» " + m.status)
	}
	if p := m.pairPrompt(); p != "" && (m.status == "" || m.pair.Driving) {
		status = p
	}
	parts = append(parts, trunc(status, m.width))
	parts = append(parts, m.helpView())
	return padLines(strings.Join(parts, "\n"), m.height)
}

// helpView renders the help bar: the confirm dialog's keys while it is
// open, a replay's keys in a replay.
func (m *Model) helpView() string {
	if m.confirm.open {
		return fit(m.help.View(confirmHelp{m.keys}), m.width)
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

// String is for debugging: the intent a cockpit is waiting for.
func (m *Model) String() string {
	return fmt.Sprintf("cockpit(%s, inflight=%q)", m.snap.Target.Name, m.inflight)
}
