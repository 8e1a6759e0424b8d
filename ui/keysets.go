package ui

import (
	"github.com/charmbracelet/bubbles/key"

	"github.com/perch-dev/perch/model"
)

// Which keys work, and what help says they do, depends on who moves the
// traffic (perch, or CodeDeploy), on whether this cockpit may write
// (read-only, a watcher, a replay), and on the autopilot and the wheel.
// The variants are built once per cockpit by copying bindings; a snapshot
// or a change of seat only picks one into Model.keys. Copying a
// key.Binding allocates nothing (its keys slice is shared and never
// written), so a snapshot allocates no key map.

// keySets are one cockpit's key maps and its per-state bindings.
type keySets struct {
	weights    KeyMap // writes on; perch moves the weights
	codeDeploy KeyMap // writes on; CodeDeploy moves them: + - P off, r stops it
	waiting    KeyMap // codeDeploy while the deployment waits: c continues it
	ecs        KeyMap // writes on; ECS moves them: + - P off, r rolls back
	ecsHook    KeyMap // ecs while a lifecycle hook awaits action: c continues it
	readOnly   KeyMap // no write key at all

	// The space key, for each state of the autopilot.
	noPlan, planDone, resume, pause key.Binding

	// D in a shared session: nothing to do, ask for the wheel, hand it over.
	wheelOff, askWheel, handOver key.Binding
	handOverTo                   string // whom handOver's help names
}

// newKeySets builds the variants from DefaultKeyMap; backTo, when set,
// enables esc back to the view that opened the cockpit, named so.
func newKeySets(backTo string) *keySets {
	base := DefaultKeyMap()
	base.Back.SetEnabled(backTo != "")
	if backTo != "" {
		base.Back.SetHelp("esc", backTo)
	}
	k := &keySets{weights: base, codeDeploy: base, readOnly: base}

	// CodeDeploy moves the traffic: + - and P stay in the help with the
	// reason they do nothing, and r stops the deployment with rollback.
	const off = "off: CodeDeploy shifts traffic itself"
	k.codeDeploy.StepUp.SetHelp("+", "step up "+off)
	k.codeDeploy.StepDown.SetHelp("-", "step down "+off)
	k.codeDeploy.Step.SetHelp("+/-", "step off")
	k.codeDeploy.Promote.SetHelp("P", "promote off (CodeDeploy)")
	k.codeDeploy.Rollback.SetHelp("r", "stop + roll back")
	k.waiting = k.codeDeploy
	k.waiting.Continue.SetEnabled(true)

	// ECS owns the production listener rule the same way.
	const ecsOff = "off: ECS shifts traffic itself"
	k.ecs = base
	k.ecs.StepUp.SetHelp("+", "step up "+ecsOff)
	k.ecs.StepDown.SetHelp("-", "step down "+ecsOff)
	k.ecs.Step.SetHelp("+/-", "step off")
	k.ecs.Promote.SetHelp("P", "promote off (ECS)")
	k.ecs.Rollback.SetHelp("r", "roll back (ECS)")
	k.ecsHook = k.ecs
	k.ecsHook.Continue.SetEnabled(true)
	k.ecsHook.Continue.SetHelp("c", "continue the hook")

	// Disabled bindings drop out of the help; they still say why when
	// pressed (see pressed).
	k.readOnly.SetReadOnly(true)

	k.noPlan = base.Autopilot
	k.noPlan.SetHelp("space", "autopilot: no plan")
	k.planDone, k.resume, k.pause = k.noPlan, k.noPlan, k.noPlan
	k.planDone.SetHelp("space", "autopilot: done")
	k.resume.SetHelp("space", "resume autopilot")
	k.pause.SetHelp("space", "pause autopilot")

	k.wheelOff = base.Wheel
	k.wheelOff.SetEnabled(false)
	k.askWheel = base.Wheel
	k.askWheel.SetEnabled(true)
	k.askWheel.SetHelp("D", "ask for the wheel")
	k.handOver = k.askWheel
	return k
}

// autopilot is the space key's binding for a, saying what it will do.
func (k *keySets) autopilot(a *model.AutopilotStatus) key.Binding {
	switch {
	case a == nil:
		return k.noPlan
	case a.State.Done:
		return k.planDone
	case a.State.Paused:
		return k.resume
	}
	return k.pause
}

// handOverKey is the driver's D once asker asked; its help is rebuilt
// only when the asker changes.
func (k *keySets) handOverKey(asker string) key.Binding {
	if asker != k.handOverTo {
		k.handOver.SetHelp("D", "hand over to "+asker)
		k.handOverTo = asker
	}
	return k.handOver
}

// pickKeys sets m.keys to the variant for the cockpit's state: the
// snapshot (who moves the traffic, whether it waits, the autopilot) and
// the seat (read-only, watching, asked for the wheel).
func (m *Model) pickKeys() {
	k := m.keySets
	d := m.snap.Deployment
	switch {
	case m.readOnly() || m.watching():
		m.keys = k.readOnly
	case d == nil:
		m.keys = k.weights
	case d.ECS != nil && d.Waiting != "":
		m.keys = k.ecsHook
	case d.ECS != nil:
		m.keys = k.ecs
	case d.Waiting != "":
		m.keys = k.waiting
	default:
		m.keys = k.codeDeploy
	}
	if m.keys.Autopilot.Enabled() {
		m.keys.Autopilot = k.autopilot(m.snap.Autopilot)
	}
	m.keys.Wheel = m.wheelKey()
	m.keys.KeepWheel.SetEnabled(m.opts.Pairing != nil && m.pair.Driving && m.pair.Asker != "")
}

// wheelKey is D in a shared session: a watcher asks for the wheel (once),
// a driver hands it to whoever asked. A read-only session has no wheel.
func (m *Model) wheelKey() key.Binding {
	k, p := m.keySets, m.pair
	switch {
	case m.opts.Pairing == nil || m.readOnly():
	case p.Driving && p.Asker != "":
		return k.handOverKey(p.Asker)
	case !p.Driving && !p.asked():
		return k.askWheel
	}
	return k.wheelOff
}
