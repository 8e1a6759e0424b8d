package ui

import (
	"slices"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// KeyMap is every key the cockpit answers to; the help bar is built from the
// same bindings, so what help shows is what works.
type KeyMap struct {
	StepUp    key.Binding
	StepDown  key.Binding
	Step      key.Binding // StepUp and StepDown as one entry in the short help
	Rollback  key.Binding
	Promote   key.Binding
	Autopilot key.Binding
	Focus     key.Binding
	Narrower  key.Binding
	Wider     key.Binding
	Window    key.Binding // Narrower and Wider as one entry in the short help
	ScrollUp  key.Binding
	ScrollDn  key.Binding
	Help      key.Binding
	Quit      key.Binding
	// Wheel asks for (watcher) or hands over (driver) the wheel of a shared
	// session; enabled only in one.
	Wheel key.Binding
	// Continue ends a CodeDeploy deployment's wait; enabled only while one
	// waits.
	Continue key.Binding

	// Inside the confirm dialog.
	Confirm key.Binding
	Cancel  key.Binding
	Reason  key.Binding
}

// DefaultKeyMap is the DESIGN.md key set.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		StepUp:    key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "step up")),
		StepDown:  key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "step down")),
		Step:      key.NewBinding(key.WithKeys("+", "=", "-"), key.WithHelp("+/-", "step")),
		Rollback:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "roll back")),
		Promote:   key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "promote")),
		Autopilot: key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "autopilot: no plan")),
		Focus:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "focus")),
		Narrower:  key.NewBinding(key.WithKeys("["), key.WithHelp("[", "shorter window")),
		Wider:     key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "longer window")),
		Window:    key.NewBinding(key.WithKeys("[", "]"), key.WithHelp("[ ]", "window")),
		ScrollUp:  key.NewBinding(key.WithKeys("up", "k", "pgup"), key.WithHelp("↑/k", "audit newer")),
		ScrollDn:  key.NewBinding(key.WithKeys("down", "j", "pgdown"), key.WithHelp("↓/j", "audit older")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Wheel:     key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "ask for the wheel"), key.WithDisabled()),
		Continue:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "continue deployment"), key.WithDisabled()),

		Confirm: key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "confirm")),
		Cancel:  key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
		Reason:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "type a reason")),
	}
}

// writeBindings are the keys that move traffic (or would, for the autopilot).
func (k *KeyMap) writeBindings() []*key.Binding {
	return []*key.Binding{&k.StepUp, &k.StepDown, &k.Step, &k.Rollback, &k.Promote, &k.Autopilot}
}

// SetReadOnly disables the write keys, which also drops them from help.
func (k *KeyMap) SetReadOnly(ro bool) {
	for _, b := range k.writeBindings() {
		b.SetEnabled(!ro)
	}
}

// isWriteKey reports whether msg is one of the write keys even when they are
// disabled, so a read-only cockpit can say why the key did nothing.
func (k *KeyMap) isWriteKey(msg tea.KeyMsg) bool {
	s := msg.String()
	for _, b := range k.writeBindings() {
		if slices.Contains(b.Keys(), s) {
			return true
		}
	}
	return false
}

// SetCodeDeploy says what the write keys do on a CodeDeploy deployment:
// CodeDeploy moves the traffic, so + - and P stay in the help with the
// reason they do nothing, r stops the deployment with rollback, and c
// continues it while it waits. SetReadOnly still hides them all.
func (k *KeyMap) SetCodeDeploy(on, canContinue bool) {
	d := DefaultKeyMap()
	k.StepUp.SetHelp(d.StepUp.Help().Key, d.StepUp.Help().Desc)
	k.StepDown.SetHelp(d.StepDown.Help().Key, d.StepDown.Help().Desc)
	k.Step.SetHelp(d.Step.Help().Key, d.Step.Help().Desc)
	k.Promote.SetHelp(d.Promote.Help().Key, d.Promote.Help().Desc)
	k.Rollback.SetHelp(d.Rollback.Help().Key, d.Rollback.Help().Desc)
	k.Continue.SetEnabled(on && canContinue)
	if !on {
		return
	}
	const off = "off: CodeDeploy shifts traffic itself"
	k.StepUp.SetHelp("+", "step up "+off)
	k.StepDown.SetHelp("-", "step down "+off)
	k.Step.SetHelp("+/-", "step off")
	k.Promote.SetHelp("P", "promote off (CodeDeploy)")
	k.Rollback.SetHelp("r", "stop + roll back")
}

// ShortHelp is the one-line help bar, most important first: a narrow
// screen drops entries from the end.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Wheel, k.Continue, k.Step, k.Rollback, k.Promote, k.Autopilot, k.Help, k.Quit, k.Focus, k.Window}
}

// FullHelp is the `?` view, grouped in columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Wheel, k.StepUp, k.StepDown, k.Rollback, k.Promote, k.Autopilot, k.Continue},
		{k.Focus, k.ScrollUp, k.ScrollDn, k.Narrower, k.Wider},
		{k.Help, k.Quit},
	}
}

// confirmHelp is the help shown while the confirm dialog is open.
type confirmHelp struct{ k KeyMap }

func (c confirmHelp) ShortHelp() []key.Binding {
	return []key.Binding{c.k.Confirm, c.k.Cancel, c.k.Reason}
}

func (c confirmHelp) FullHelp() [][]key.Binding { return [][]key.Binding{c.ShortHelp()} }
