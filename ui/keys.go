package ui

import (
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Every key binding of the cockpit, the fleet view and a replay is here,
// and every help text is built from them.

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
	// Evidence opens the judge's evidence per metric under the verdict:
	// which test and window decided, every test's evidence against its bar.
	Evidence key.Binding
	Help     key.Binding
	Quit     key.Binding
	// Wheel asks for (watcher) or hands over (driver) the wheel of a shared
	// session; enabled only in one.
	Wheel key.Binding
	// Continue ends a CodeDeploy deployment's wait; enabled only while one
	// waits.
	Continue key.Binding
	// Back leaves a cockpit the fleet view opened; enabled only there.
	Back key.Binding

	// Inside the confirm dialog.
	Confirm key.Binding
	Cancel  key.Binding
	Reason  key.Binding
}

// helpKey and quitKey are the same in the cockpit and the fleet view.
func helpKey() key.Binding {
	return key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help"))
}

func quitKey() key.Binding {
	return key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit"))
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
		Evidence:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "judge's evidence")),
		Help:      helpKey(),
		Quit:      quitKey(),
		Wheel:     key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "ask for the wheel"), key.WithDisabled()),
		Continue:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "continue deployment"), key.WithDisabled()),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "fleet"), key.WithDisabled()),

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

// pressed reports whether msg is one of b's keys, enabled or not, so that a
// key that does nothing now can still say why.
func pressed(msg tea.KeyMsg, b key.Binding) bool { return slices.Contains(b.Keys(), msg.String()) }

// isWriteKey reports whether msg is one of the write keys even when they are
// disabled, so a read-only cockpit can say why the key did nothing.
func (k *KeyMap) isWriteKey(msg tea.KeyMsg) bool {
	for _, b := range k.writeBindings() {
		if pressed(msg, *b) {
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
	return []key.Binding{k.Back, k.Wheel, k.Continue, k.Step, k.Rollback, k.Promote, k.Autopilot, k.Help, k.Quit, k.Focus, k.Window}
}

// FullHelp is the `?` view, grouped in columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Wheel, k.StepUp, k.StepDown, k.Rollback, k.Promote, k.Autopilot, k.Continue},
		{k.Focus, k.ScrollUp, k.ScrollDn, k.Narrower, k.Wider, k.Evidence},
		{k.Help, k.Quit},
	}
}

// confirmHelp is the help shown while the confirm dialog is open.
type confirmHelp struct{ k KeyMap }

func (c confirmHelp) ShortHelp() []key.Binding {
	return []key.Binding{c.k.Confirm, c.k.Cancel, c.k.Reason}
}

func (c confirmHelp) FullHelp() [][]key.Binding { return [][]key.Binding{c.ShortHelp()} }

// replayKeys are bound only in replay mode.
type replayKeys struct {
	Pause    key.Binding
	Back     key.Binding
	Forward  key.Binding
	Start    key.Binding
	End      key.Binding
	Slower   key.Binding
	Faster   key.Binding
	Seek     key.Binding // Back and Forward as one entry in the short help
	SpeedKey key.Binding // Slower and Faster as one entry in the short help
}

func newReplayKeys() replayKeys {
	return replayKeys{
		Pause:    key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "pause/play")),
		Back:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←", "back 1 min")),
		Forward:  key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→", "forward 1 min")),
		Start:    key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home", "start")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end", "end")),
		Slower:   key.NewBinding(key.WithKeys("<", ","), key.WithHelp("<", "slower")),
		Faster:   key.NewBinding(key.WithKeys(">", "."), key.WithHelp(">", "faster")),
		Seek:     key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "seek 1 min")),
		SpeedKey: key.NewBinding(key.WithKeys("<", ">"), key.WithHelp("</>", "speed")),
	}
}

// replayHelp is the help bar of a replay: its own keys, then the cockpit's
// read-only ones.
type replayHelp struct {
	r replayKeys
	k KeyMap
}

func (h replayHelp) ShortHelp() []key.Binding {
	return []key.Binding{h.k.Back, h.r.Pause, h.r.Seek, h.r.SpeedKey, h.r.Start, h.r.End, h.k.Help, h.k.Quit, h.k.Focus, h.k.Window}
}

func (h replayHelp) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{h.r.Pause, h.r.Back, h.r.Forward, h.r.Start, h.r.End, h.r.Slower, h.r.Faster},
		{h.k.Focus, h.k.ScrollUp, h.k.ScrollDn, h.k.Narrower, h.k.Wider, h.k.Evidence},
		{h.k.Help, h.k.Quit},
	}
}

// fleetKeyMap is the fleet view's keys; enter opens a cockpit, which has
// its own.
type fleetKeyMap struct {
	Up, Down, Move, PageUp, PageDown, Top, Bottom key.Binding
	Open, Filter, Clear, Help, Quit               key.Binding
}

func defaultFleetKeys() fleetKeyMap {
	return fleetKeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Move:     key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "move")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "cockpit")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Clear:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Help:     helpKey(),
		Quit:     quitKey(),
	}
}

func (k fleetKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Filter, k.Quit, k.Move, k.Clear, k.Help}
}

func (k fleetKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Open, k.Filter, k.Clear}, {k.Help, k.Quit}}
}

// shortHelp renders the enabled bindings of bs that fit in w cells, most
// important first. It is given only those that fit because bubbles/help
// v1.0.0 keeps adding items past the width when its ellipsis does not fit
// either.
func shortHelp(h help.Model, bs []key.Binding, w int) string {
	var on []key.Binding
	for _, b := range bs {
		if b.Enabled() {
			on = append(on, b)
		}
	}
	for len(on) > 1 && visibleWidth(h.ShortHelpView(on)) > w {
		on = on[:len(on)-1]
	}
	return trunc(h.ShortHelpView(on), w)
}

// hints says what bs do in one line, for a dialog's own footer.
func hints(bs ...key.Binding) string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Help().Key + " " + b.Help().Desc
	}
	return strings.Join(out, " · ")
}
