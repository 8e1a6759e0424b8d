package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/perch-dev/perch/model"
)

// confirm is the dialog in front of the actions that move all traffic at
// once: promote, roll back, and continuing a deployment that waits. It shows what will happen and the health of the side that is
// about to take the traffic, and takes an optional reason for the audit log.
type confirm struct {
	stale
	st     *Styles
	keys   *KeyMap
	open   bool
	kind   model.IntentKind
	snap   model.Snapshot // as the operator saw it when the dialog opened
	reason textinput.Model
	typing bool // the reason field has the keys
	width  int
	height int
	view   string
}

// confirmOutcome is what a key did to the dialog.
type confirmOutcome int

const (
	confirmPending confirmOutcome = iota
	confirmYes
	confirmNo
)

func newConfirm(st *Styles, keys *KeyMap) confirm {
	ti := textinput.New()
	ti.Prompt = "reason: "
	ti.Placeholder = "optional, goes into the audit log (tab to type)"
	ti.CharLimit = 200
	ti.PromptStyle = st.Bold
	ti.TextStyle = st.Input
	ti.PlaceholderStyle = st.Dim
	ti.Cursor.Style = st.Cursor
	ti.Cursor.TextStyle = st.Input
	// A static cursor keeps the screen (and golden files) still.
	ti.Cursor.SetMode(cursor.CursorStatic)
	return confirm{st: st, keys: keys, reason: ti}
}

func (c *confirm) SetSize(w, h int) {
	set(&c.stale, &c.width, w)
	set(&c.stale, &c.height, h)
	c.reason.Width = max(10, min(70, w-16)-len(c.reason.Prompt))
}

// Open shows the dialog for kind as of snapshot s.
func (c *confirm) Open(kind model.IntentKind, s model.Snapshot) {
	c.open, c.kind, c.snap, c.typing = true, kind, s, false
	c.reason.Reset()
	c.reason.Blur()
	c.invalidate()
}

func (c *confirm) Close() { c.open, c.typing = false, false; c.reason.Blur() }

// Intent is the intent the dialog confirms.
func (c *confirm) Intent(actor model.Actor) model.Intent {
	if c.kind == model.Continue {
		// The deployment, not a split, is what a continue rests on: the
		// engine re-reads what it waits for before it sends.
		return model.Intent{Kind: model.Continue, Reason: strings.TrimSpace(c.reason.Value()), Actor: actor}
	}
	exp := c.snap.Split
	return model.Intent{Kind: c.kind, Expected: &exp, Reason: strings.TrimSpace(c.reason.Value()), Actor: actor}
}

func (c *confirm) Update(msg tea.Msg) (confirmOutcome, tea.Cmd) {
	// Whatever reaches the open dialog may change it: the reason, the mode.
	c.invalidate()
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		if c.typing {
			var cmd tea.Cmd
			c.reason, cmd = c.reason.Update(msg)
			return confirmPending, cmd
		}
		return confirmPending, nil
	}
	if c.typing {
		// While typing, y and n are letters; enter confirms, esc cancels,
		// tab hands the keys back to the dialog.
		switch {
		case key.Matches(km, c.keys.TypedConfirm):
			return confirmYes, nil
		case key.Matches(km, c.keys.TypedCancel):
			return confirmNo, nil
		case key.Matches(km, c.keys.DoneTyping):
			c.typing = false
			c.reason.Blur()
			return confirmPending, nil
		}
		var cmd tea.Cmd
		c.reason, cmd = c.reason.Update(msg)
		return confirmPending, cmd
	}
	switch {
	case key.Matches(km, c.keys.Confirm):
		return confirmYes, nil
	case key.Matches(km, c.keys.Cancel):
		return confirmNo, nil
	case key.Matches(km, c.keys.Reason):
		c.typing = true
		return confirmPending, c.reason.Focus()
	}
	return confirmPending, nil
}

func (c *confirm) View() string { return c.view }

// flush draws the dialog when it is open and something changed.
func (c *confirm) flush() {
	if c.open && c.due() {
		c.view = c.render()
	}
}

// render draws the dialog box centred in its area.
func (c *confirm) render() string {
	st := c.st
	s := c.snap
	cur := s.Split.CanaryPercent()
	var title, what string
	var onto, from model.Side
	switch c.kind {
	case model.Continue:
		title, what = "CONTINUE "+s.Target.Name, continueWhat(s)
		onto, from = model.Canary, model.Stable
	case model.Promote:
		title = "PROMOTE " + s.Target.Name
		what = fmt.Sprintf("Promote: canary %s → 100%%, stable gets 0%%", pct(cur))
		onto, from = model.Canary, model.Stable
	default:
		title = "ROLL BACK " + s.Target.Name
		what = fmt.Sprintf("Roll back: canary %s → 0%%, stable gets 100%%", pct(cur))
		onto, from = model.Stable, model.Canary
	}
	lines := []string{st.Bad.Render("⚠ " + title), what}
	g := gauge{st: st, snap: s}
	lines = append(lines, g.health("■ stable", s.Health[model.Stable], false)+st.Sep+
		g.health("▲ canary", s.Health[model.Canary], true))
	if c.kind == model.Continue && s.Deployment != nil && s.Deployment.Waiting == model.WaitTermination {
		// The traffic has moved already: nothing takes more of it.
	} else if w := capacityWarning(s.Target.Kind, s.Health, onto, from); w != "" {
		lines = append(lines, st.Bad.Render("⚠ "+w))
	}
	if sec := s.Target.StickinessSeconds; sec > 0 {
		lines = append(lines, st.Warn.Render(fmt.Sprintf("⚠ stickiness is on (%s): pinned clients stay where they are until their cookie expires",
			age(time.Duration(sec)*time.Second))))
	}
	lines = append(lines, "", c.reason.View(), "")
	hint := hints(c.keys.Confirm, c.keys.Cancel, c.keys.Reason)
	if c.typing {
		hint = hints(c.keys.TypedConfirm, c.keys.TypedCancel, c.keys.DoneTyping)
	}
	lines = append(lines, st.Dim.Render(hint))
	inner := max(20, min(c.width-4, 90))
	var wrapped []string
	for _, l := range lines {
		// Wrap rather than cut: every warning here is meant to be read.
		wrapped = append(wrapped, strings.Split(ansi.Wordwrap(l, inner, ""), "\n")...)
	}
	lines = wrapped
	box := st.Dialog.Width(inner + 2).Render(strings.Join(lines, "\n"))
	return lipgloss.Place(c.width, c.height, lipgloss.Center, lipgloss.Center, box,
		lipgloss.WithWhitespaceChars(" "))
}

// capacityWarning says when the side about to take all traffic looks too
// small for it: rollbacks onto an unscaled stable have caused outages.
func capacityWarning(kind model.TargetKind, h [2]model.Health, onto, from model.Side) string {
	to, fr := h[onto], h[from]
	if kind == model.KindLambda {
		// A version is Active or not; there is no host count to compare.
		if to.Healthy == 0 && to.Total() > 0 {
			return fmt.Sprintf("the %s version is not Active", onto)
		}
		return ""
	}
	switch {
	case to.Healthy == 0 && to.Total()+fr.Total() > 0:
		return fmt.Sprintf("%s has 0 healthy targets", onto)
	case to.Healthy < fr.Healthy:
		return fmt.Sprintf("%s has fewer healthy targets (%d) than the %s (%d)", onto, to.Healthy, from, fr.Healthy)
	}
	return ""
}

// continueWhat says what continuing the waiting deployment will do.
func continueWhat(s model.Snapshot) string {
	d := s.Deployment
	if d == nil {
		return "Continue"
	}
	switch {
	case d.ECS != nil && d.ECS.Hook != nil:
		return fmt.Sprintf("Continue hook %s at %s: ECS goes on by itself (%s), the canary at %s now", d.ECS.Hook.ID, d.ECS.Stage, d.ECS.Strategy, pct(s.Split.CanaryPercent()))
	case d.Waiting == model.WaitTermination:
		return fmt.Sprintf("Continue %s: CodeDeploy ends its termination wait and removes the original (the traffic has moved already)", d.ID)
	default:
		return fmt.Sprintf("Continue %s (%s): CodeDeploy goes on with %s by itself, moving traffic from canary %s", d.ID, d.Waiting, d.Config, pct(s.Split.CanaryPercent()))
	}
}
