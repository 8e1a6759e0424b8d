package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/perch-dev/perch/model"
)

// The cockpit's keys, and the intents its write keys send. The keys of a
// shared session, a replay and the autopilot are in pair.go, replay.go and
// autopilot.go.

func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	// Before the dialogs: it must work even while a reason is typed.
	if key.Matches(msg, m.keys.ForceQuit) {
		return m.quit()
	}
	if m.opts.Pairing != nil {
		m.opts.Pairing.Active()
	}
	if m.confirm.open {
		return m.confirmKey(msg)
	}
	if m.pick.open {
		return m.pickKey(msg)
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
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		if m.autopilotRunning() && !m.quitWarned {
			m.quitWarned = true
			m.status = fmt.Sprintf("the autopilot is running: it stops when perch exits and traffic stays at canary %s. Press %s again to quit.",
				pct(m.snap.Split.CanaryPercent()), m.keys.Quit.Help().Key)
			return nil
		}
		return m.quit()
	case key.Matches(msg, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
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

// confirmKey gives the key to the open confirm dialog and sends its intent
// when it is confirmed.
func (m *Model) confirmKey(msg tea.KeyMsg) tea.Cmd {
	switch out, cmd := m.confirm.Update(msg); out {
	case confirmYes:
		in := m.confirm.Intent(m.opts.Actor)
		m.confirm.Close()
		// The world may have changed while the dialog was open.
		if why := m.writeBlocked(); why != "" {
			m.status = why + ": nothing was sent"
			return nil
		}
		return m.send(in)
	case confirmNo:
		m.confirm.Close()
		m.status = "cancelled: nothing was sent"
		return nil
	default:
		return cmd
	}
}

// pickKey gives the key to the "which side is the canary?" dialog and
// sends the operator's answer when it is confirmed.
func (m *Model) pickKey(msg tea.KeyMsg) tea.Cmd {
	switch m.pick.Update(msg) {
	case confirmYes:
		in := m.pick.Intent(m.opts.Actor)
		m.pick.Close()
		if why := m.writeBlocked(); why != "" {
			m.status = why + ": nothing was sent"
			return nil
		}
		return m.send(in)
	case confirmNo:
		m.pick.Close()
		m.status = "cancelled: the canary is still unconfirmed, and perch writes nothing until it is"
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
	if m.snap.Deployment == nil && pressed(msg, m.keys.Autopilot) {
		// Steering the autopilot moves no traffic: the engine (or what
		// wraps it) answers even while an action is in flight.
		return m.toggleAutopilot()
	}
	if why := m.writeBlocked(); why != "" {
		m.status = why
		return nil
	}
	if d := m.snap.Deployment; d != nil && d.ECS != nil {
		return m.ecsWriteKey(msg, d)
	}
	if d := m.snap.Deployment; d != nil {
		// CodeDeploy moves the traffic: only r (and c) mean something.
		switch {
		case key.Matches(msg, m.keys.Rollback):
			m.confirm.Open(model.Rollback, m.snap)
			m.status = fmt.Sprintf("y sends StopDeployment %s with autoRollbackEnabled: CodeDeploy moves all traffic back to %s", d.ID, m.snap.Target.StableName)
		case key.Matches(msg, m.keys.Autopilot):
			m.status = "no autopilot here: CodeDeploy runs its own configuration (" + d.Routing.String() + ")"
		default:
			m.status = "CodeDeploy shifts traffic itself and has no API to set weights: + - P do nothing (r stops it with rollback, c continues it when it waits)"
		}
		return nil
	}
	if m.snap.Target.CanaryUnconfirmed != "" {
		m.pick.Open(m.snap)
		m.status = "perch does not know which side is the canary as a fact: say which before the first write"
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.StepUp):
		return m.step(model.StepUp)
	case key.Matches(msg, m.keys.StepDown):
		return m.step(model.StepDown)
	case key.Matches(msg, m.keys.Rollback):
		m.confirm.Open(model.Rollback, m.snap)
	case key.Matches(msg, m.keys.Promote):
		m.confirm.Open(model.Promote, m.snap)
	}
	return nil
}

// continueKey asks before it sends ContinueDeployment (or continues an
// ECS hook) when the deployment waits, and says why not otherwise.
func (m *Model) continueKey() tea.Cmd {
	if why := m.writeBlocked(); why != "" {
		m.status = why
		return nil
	}
	d := m.snap.Deployment
	if d.Waiting == "" && d.ECS != nil {
		m.status = fmt.Sprintf("service deployment %s is %s (%s) with no lifecycle hook awaiting action: nothing to continue (ECS has no API to skip a bake)", ecsShortID(d.ID), d.Status, d.Step)
		return nil
	}
	if d.Waiting == "" {
		m.status = fmt.Sprintf("deployment %s is %s, not waiting: nothing to continue (CodeDeploy has no API to skip an interval)", d.ID, d.Status)
		return nil
	}
	m.confirm.Open(model.Continue, m.snap)
	m.status = "y continues it: the deployment then moves traffic by itself"
	return nil
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
	} else if in.Kind == model.ConfirmCanary {
		desc = "marking the canary on AWS"
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
	eng, ctx := m.eng, m.ctx
	return func() tea.Msg { return resultMsg{eng.Execute(ctx, in)} }
}

// resultStatus is the status line after an action comes back; the verdict
// line carries the detail.
func resultStatus(r model.Result) string {
	act := r.Intent.Kind.Action()
	if r.Intent.Kind == model.ConfirmCanary && r.Outcome == model.OutcomeOK {
		return "canary confirmed and marked on AWS: writes are open (press the key again)"
	}
	switch r.Outcome {
	case model.OutcomeOK:
		if r.Verified {
			return act + " finished: ok, verified (canary " + pct(r.To.CanaryPercent()) + ")"
		}
		return act + " finished: ok, NOT verified (canary " + pct(r.To.CanaryPercent()) + ")"
	case model.OutcomeRefused:
		// The reason first: a narrow screen must not cut it off.
		return act + " refused (" + string(r.Reason) + "): " + r.Err
	}
	if r.Reason == model.ReasonOutcomeUnlogged {
		return act + " NOT DONE: " + r.Err
	}
	return act + " FAILED: traffic now canary " + pct(r.To.CanaryPercent())
}

// ecsWriteKey is writeKey on an ECS deployment: ECS owns the rule, so only
// r (and c) mean something.
func (m *Model) ecsWriteKey(msg tea.KeyMsg, d *model.DeploymentStatus) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Rollback):
		m.confirm.Open(model.Rollback, m.snap)
		call := "StopServiceDeployment " + ecsShortID(d.ID) + " ROLLBACK"
		if d.ECS.Hook != nil {
			call = "ContinueServiceDeployment " + ecsShortID(d.ID) + " hook " + d.ECS.Hook.ID + " ROLLBACK"
		}
		m.status = fmt.Sprintf("y sends %s: ECS moves all traffic back to %s", call, m.snap.Target.StableName)
	case key.Matches(msg, m.keys.Autopilot):
		m.status = "no autopilot here: ECS runs its own strategy (" + d.ECS.Strategy.String() + ")"
	default:
		m.status = "ECS shifts this service's traffic itself and owns its listener rule: + - P do nothing (r rolls back, c continues a hook awaiting action)"
	}
	return nil
}
