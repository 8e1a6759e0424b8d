package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/perch-dev/perch/model"
)

// auditPane lists the newest audit entries, newest first, one line each.
// When focused it scrolls back through older ones.
type auditPane struct {
	stale
	st      *Styles
	keys    *KeyMap
	width   int
	height  int // including the title line
	focused bool
	offset  int // entries skipped from the newest
	entries []model.AuditEntry
	headSeq int64
	head    string // the log's newest entry's hash, "" when unknown
	view    string
}

func (a *auditPane) SetSize(w, h int) {
	set(&a.stale, &a.width, w)
	set(&a.stale, &a.height, h)
	a.clamp()
}

func (a *auditPane) SetSnapshot(s model.Snapshot) {
	// Keep the operator's place when scrolled back and new entries arrive.
	if a.offset > 0 && len(s.Audit) > len(a.entries) {
		a.offset += len(s.Audit) - len(a.entries)
	}
	a.entries = s.Audit
	a.headSeq, a.head = logHead(s)
	a.clamp()
	a.invalidate()
}

func (a *auditPane) SetFocused(f bool) { set(&a.stale, &a.focused, f) }

func (a *auditPane) View() string { return a.view }

func (a *auditPane) rows() int { return max(0, a.height-1) }

func (a *auditPane) clamp() {
	a.offset = min(a.offset, max(0, len(a.entries)-a.rows()))
	a.offset = max(a.offset, 0)
}

// Update scrolls when focused.
func (a *auditPane) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok || !a.focused {
		return nil
	}
	step := 1
	if key.Matches(km, a.keys.AuditPage) {
		step = max(1, a.rows()-1)
	}
	// The offset moves only as far as clamp lets it: a key that scrolls
	// nothing draws nothing.
	off := a.offset
	switch {
	case key.Matches(km, a.keys.ScrollUp):
		a.offset -= step
	case key.Matches(km, a.keys.ScrollDn):
		a.offset += step
	default:
		return nil
	}
	a.clamp()
	if a.offset != off {
		a.invalidate()
	}
	return nil
}

func (a *auditPane) render() {
	if a.height <= 0 {
		a.view = ""
		return
	}
	st := a.st
	title := "audit log"
	if a.focused {
		title = st.Focused.Render("▸ " + title)
	} else {
		title = st.Title.Render("  " + title)
	}
	n := len(a.entries)
	info := "newest first"
	if n > a.rows() && a.rows() > 0 {
		info = fmt.Sprintf("newest first · %d-%d of %d", a.offset+1, min(n, a.offset+a.rows()), n)
		if a.focused {
			info += " · ↑/↓ scroll"
		} else {
			info += " · tab to scroll"
		}
	}
	if a.head != "" && a.headSeq > 0 {
		// What perch audit verify --head takes: a copy of the log that
		// no longer reaches this entry has lost its end.
		h := []rune(a.head)
		title += st.Dim.Render(fmt.Sprintf("  head #%d ", a.headSeq)) + string(h[:min(len(h), headDigits)])
	}
	lines := []string{title + st.Dim.Render("  "+info)}
	if n == 0 {
		lines = append(lines, st.Dim.Render("  no entries yet"))
	}
	for i := 0; i < a.rows() && a.offset+i < n; i++ {
		e := a.entries[n-1-a.offset-i]
		lines = append(lines, "  "+auditLine(st, e))
	}
	for i := range lines {
		lines[i] = trunc(lines[i], a.width)
	}
	a.view = padLines(strings.Join(lines, "\n"), a.height)
}

// headDigits is how much of the head hash the pane shows: enough for
// verify --head (audit.MinHeadLen) to tell any two entries apart.
const headDigits = 12

// logHead is the audit log's newest entry as far as s knows: the head
// the engine read at its last poll, or an entry it wrote since.
func logHead(s model.Snapshot) (int64, string) {
	seq, head := s.AuditSeq, s.AuditHead
	for _, e := range s.Audit {
		if e.Hash != "" && e.Seq > seq {
			seq, head = e.Seq, e.Hash
		}
	}
	return seq, head
}

// auditLine renders one entry: time, who, action, from → to, outcome,
// verified, reason.
func auditLine(st *Styles, e model.AuditEntry) string {
	var b strings.Builder
	b.WriteString(st.Dim.Render(hms(e.Time)) + " ")
	who := shorten(e.Actor.OSUser, shortWidth)
	if who == "" {
		who = "?"
	}
	if e.Actor.ARN != "" {
		who += " (" + shorten(shortARN(e.Actor.ARN), shortWidth) + ")"
	}
	switch {
	case e.Actor.Via == "autopilot" || e.Actor.Via == "reconcile":
		// What the machine did must never read as what the operator did.
		who = e.Actor.Via + " for " + who
	case e.Actor.Via == "codedeploy":
		// CodeDeploy shifted or rolled back by itself, not the operator.
		who = "CodeDeploy"
	case e.Actor.Via == "ecs":
		// ECS shifted or rolled back by itself, not the operator.
		who = "ECS"
	case e.Phase == model.PhaseEvent && e.Actor.OSUser == "": // drift: nobody perch knows
		who = "—"
	}
	b.WriteString(who + " ")
	b.WriteString(st.Bold.Render(shorten(e.Action, shortWidth)))
	if e.From != nil || e.To != nil {
		b.WriteString(" " + optPct(e.From) + " → " + optPct(e.To))
	}
	switch e.Phase {
	case model.PhaseIntent:
		b.WriteString(st.Dim.Render(" · intent"))
	case model.PhaseEvent:
		b.WriteString(st.Warn.Render(" · ⚠ observed, not done by perch"))
	default:
		switch e.Outcome {
		case model.OutcomeOK:
			b.WriteString(st.OK.Render(" · ✓ ok"))
		case model.OutcomeRefused:
			b.WriteString(st.Bad.Render(" · ✗ refused"))
		case model.OutcomeFailed:
			b.WriteString(st.Bad.Render(" · ✗ FAILED"))
		default:
			b.WriteString(" · " + string(e.Outcome))
		}
		if e.Verified {
			b.WriteString(st.OK.Render(" verified"))
		}
	}
	if e.Reason != "" {
		b.WriteString(" · “" + shorten(e.Reason, 60) + "”")
	}
	if e.Detail != "" {
		b.WriteString(st.Dim.Render(" · " + shorten(e.Detail, 80)))
	}
	return b.String()
}

func optPct(p *float64) string {
	if p == nil {
		return "?"
	}
	return pct(*p)
}
