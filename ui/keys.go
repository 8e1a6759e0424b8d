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
	AuditPage key.Binding // makes ScrollUp and ScrollDn move a page
	// Evidence opens the judge's evidence per metric under the verdict:
	// which test and window decided, every test's evidence against its bar.
	Evidence key.Binding
	// Logs shows or hides the log patterns pane.
	Logs      key.Binding
	Help      key.Binding
	Quit      key.Binding // warns once while the autopilot runs
	ForceQuit key.Binding // quits at once, from anywhere, even a dialog
	// Wheel asks for (watcher) or hands over (driver) the wheel of a shared
	// session; enabled only in one.
	Wheel key.Binding
	// KeepWheel declines a request for the wheel; enabled only while one
	// is pending and this cockpit drives.
	KeepWheel key.Binding
	// Continue ends a CodeDeploy deployment's wait, or an ECS lifecycle
	// hook's; enabled only while one waits.
	Continue key.Binding
	// Back leaves a cockpit the fleet view opened; enabled only there.
	Back key.Binding

	// Inside the confirm dialog.
	Confirm key.Binding
	Cancel  key.Binding
	Reason  key.Binding
	// While the reason is typed y and n are letters: these stand in.
	TypedConfirm key.Binding
	TypedCancel  key.Binding
	DoneTyping   key.Binding

	// Inside the "which side is the canary?" dialog.
	FirstSide  key.Binding
	SecondSide key.Binding
}

// helpKey, quitKey and forceQuitKey are the same in the cockpit and the
// fleet view.
func helpKey() key.Binding {
	return key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help"))
}

func quitKey() key.Binding {
	return key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit"))
}

func forceQuitKey() key.Binding {
	return key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit now"))
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
		AuditPage: key.NewBinding(key.WithKeys("pgup", "pgdown"), key.WithHelp("pgup/pgdn", "audit by page")),
		Evidence:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "judge's evidence")),
		Logs:      key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "log patterns")),
		Help:      helpKey(),
		Quit:      quitKey(),
		ForceQuit: forceQuitKey(),
		Wheel:     key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "ask for the wheel"), key.WithDisabled()),
		KeepWheel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "keep the wheel"), key.WithDisabled()),
		Continue:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "continue deployment"), key.WithDisabled()),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "fleet"), key.WithDisabled()),

		Confirm: key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "confirm")),
		Cancel:  key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
		Reason:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "type a reason")),

		TypedConfirm: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
		TypedCancel:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		DoneTyping:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "done typing")),

		FirstSide:  key.NewBinding(key.WithKeys("1", "up", "k"), key.WithHelp("1", "first side")),
		SecondSide: key.NewBinding(key.WithKeys("2", "down", "j"), key.WithHelp("2", "second side")),
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

// ShortHelp is the one-line help bar, most important first: a narrow
// screen drops entries from the end.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Back, k.Wheel, k.Continue, k.Step, k.Rollback, k.Promote, k.Autopilot, k.Help, k.Quit, k.Focus, k.Window}
}

// FullHelp is the `?` view, grouped in columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Wheel, k.KeepWheel, k.StepUp, k.StepDown, k.Rollback, k.Promote, k.Autopilot, k.Continue},
		{k.Focus, k.ScrollUp, k.ScrollDn, k.AuditPage, k.Narrower, k.Wider, k.Evidence, k.Logs},
		{k.Help, k.Quit, k.ForceQuit},
	}
}

// confirmHelp is the help shown while the confirm dialog is open, and
// while its reason is typed.
type confirmHelp struct {
	k      KeyMap
	typing bool
}

func (c confirmHelp) ShortHelp() []key.Binding {
	if c.typing {
		return []key.Binding{c.k.TypedConfirm, c.k.TypedCancel, c.k.DoneTyping}
	}
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
		{h.k.Focus, h.k.ScrollUp, h.k.ScrollDn, h.k.AuditPage, h.k.Narrower, h.k.Wider, h.k.Evidence, h.k.Logs},
		{h.k.Help, h.k.Quit, h.k.ForceQuit},
	}
}

// fleetKeyMap is the fleet view's keys; enter opens a cockpit, which has
// its own.
type fleetKeyMap struct {
	Up, Down, Move, PageUp, PageDown, Top, Bottom key.Binding
	Open, Filter, Clear, Help, Quit, ForceQuit    key.Binding
	// Apply ends typing the filter and keeps it (Clear drops it).
	Apply key.Binding
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

		ForceQuit: forceQuitKey(),
		Apply:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply filter")),
	}
}

func (k fleetKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Filter, k.Quit, k.Move, k.Clear, k.Help}
}

func (k fleetKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Open, k.Filter, k.Clear}, {k.Help, k.Quit, k.ForceQuit}}
}

// fleetFilterHelp is the fleet view's help while the filter is typed:
// every other key is a letter of the filter then.
type fleetFilterHelp struct{ k fleetKeyMap }

func (f fleetFilterHelp) ShortHelp() []key.Binding {
	return []key.Binding{f.k.Apply, f.k.Clear, f.k.ForceQuit}
}

func (f fleetFilterHelp) FullHelp() [][]key.Binding { return [][]key.Binding{f.ShortHelp()} }

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

// discoverKeyMap is the list of an account's canaries, and its command
// line (which the cockpits it opens share).
type discoverKeyMap struct {
	Open, Rescan, Command, Filter, Help, Quit, ForceQuit key.Binding
	// Inside the command line.
	Submit, CancelLine, Complete key.Binding
}

func defaultDiscoverKeys() discoverKeyMap {
	return discoverKeyMap{
		Open:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "cockpit")),
		Rescan:     key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "rescan")),
		Command:    key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command")),
		Filter:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Help:       helpKey(),
		Quit:       key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit:  forceQuitKey(),
		Submit:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
		CancelLine: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Complete:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete")),
	}
}

func (k discoverKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Filter, k.Rescan, k.Command, k.Help, k.Quit}
}

func (k discoverKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Open, k.Filter, k.Rescan, k.Command}, {k.Help, k.Quit, k.ForceQuit}}
}

// cmdlineHelp is the help while the command line is open.
type cmdlineHelp struct{ k discoverKeyMap }

func (h cmdlineHelp) ShortHelp() []key.Binding {
	return []key.Binding{h.k.Submit, h.k.Complete, h.k.CancelLine}
}

func (h cmdlineHelp) FullHelp() [][]key.Binding { return [][]key.Binding{h.ShortHelp()} }
