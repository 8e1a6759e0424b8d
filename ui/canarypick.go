package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/perch-dev/perch/model"
)

// canaryPick is the dialog in front of the first write when perch does
// not know which side is the canary as a fact: the operator names it, and
// the engine audits the answer and writes it to AWS as the rollout marker.
type canaryPick struct {
	stale
	st     *Styles
	keys   *KeyMap
	open   bool
	snap   model.Snapshot
	choice model.Side // the side the operator is about to name the canary
	width  int
	height int
	view   string
}

func (c *canaryPick) SetSize(w, h int) {
	set(&c.stale, &c.width, w)
	set(&c.stale, &c.height, h)
}

// Open shows the dialog as of s, on perch's guess.
func (c *canaryPick) Open(s model.Snapshot) {
	c.open, c.snap, c.choice = true, s, model.Canary
	c.invalidate()
}

func (c *canaryPick) Close() { c.open = false }

// Intent names the chosen side the canary.
func (c *canaryPick) Intent(actor model.Actor) model.Intent {
	id := c.snap.Target.CanaryARN
	if c.choice == model.Stable {
		id = c.snap.Target.StableARN
	}
	return model.Intent{Kind: model.ConfirmCanary, Canary: id, Actor: actor}
}

func (c *canaryPick) Update(msg tea.KeyMsg) confirmOutcome {
	switch {
	case key.Matches(msg, c.keys.FirstSide):
		set(&c.stale, &c.choice, model.Stable)
	case key.Matches(msg, c.keys.SecondSide):
		set(&c.stale, &c.choice, model.Canary)
	case key.Matches(msg, c.keys.Confirm):
		return confirmYes
	case key.Matches(msg, c.keys.Cancel):
		return confirmNo
	}
	return confirmPending
}

func (c *canaryPick) View() string { return c.view }

// flush draws the dialog when it is open and something changed.
func (c *canaryPick) flush() {
	if c.open && c.due() {
		c.view = c.render()
	}
}

func (c *canaryPick) render() string {
	st, s := c.st, c.snap
	t := s.Target
	lines := []string{
		st.Bad.Render("⚠ WHICH SIDE IS THE CANARY? " + t.Name),
		t.CanaryUnconfirmed + ".",
		"perch writes nothing until you say. Your answer goes into the audit log and onto AWS as the rollout marker, so every perch and every pair agrees.",
		"",
	}
	row := func(n string, side model.Side, name string, share float64) string {
		mark := "  "
		if c.choice == side {
			mark = "▸ "
		}
		l := fmt.Sprintf("%s%s  %s  now %s", mark, n, name, pct(share))
		if side == model.Canary {
			l += "  (perch's guess)"
		}
		if c.choice == side {
			return st.Bold.Render(l + "  ← the canary")
		}
		return l
	}
	lines = append(lines,
		row(c.keys.FirstSide.Help().Key, model.Stable, t.StableName, s.Split.StablePercent()),
		row(c.keys.SecondSide.Help().Key, model.Canary, t.CanaryName, s.Split.CanaryPercent()),
		"",
		st.Dim.Render(hints(c.keys.FirstSide, c.keys.SecondSide, c.keys.Confirm, c.keys.Cancel)))
	inner := max(20, min(c.width-4, 90))
	var wrapped []string
	for _, l := range lines {
		wrapped = append(wrapped, strings.Split(ansi.Wordwrap(l, inner, ""), "\n")...)
	}
	box := st.Dialog.Width(inner + 2).Render(strings.Join(wrapped, "\n"))
	return lipgloss.Place(c.width, c.height, lipgloss.Center, lipgloss.Center, box, lipgloss.WithWhitespaceChars(" "))
}

// canaryPickHelp is the help shown while the dialog is open.
type canaryPickHelp struct{ k KeyMap }

func (c canaryPickHelp) ShortHelp() []key.Binding {
	return []key.Binding{c.k.FirstSide, c.k.SecondSide, c.k.Confirm, c.k.Cancel}
}

func (c canaryPickHelp) FullHelp() [][]key.Binding { return [][]key.Binding{c.ShortHelp()} }
