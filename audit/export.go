package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/perch-dev/perch/internal/termtext"
	"github.com/perch-dev/perch/model"
)

// ExportFilter selects the entries of a timeline.
type ExportFilter struct {
	Since  time.Time // entries at or after; zero: all
	Target string    // the target's ID (ARN) exactly; "": every target
}

// Row is one line of a post-incident timeline: an action with its
// outcome folded in, or an event (drift, autopilot pause, plan complete).
type Row struct {
	Time   time.Time `json:"time"`
	Target string    `json:"target"`
	Who    string    `json:"who"`           // user (principal)
	Via    string    `json:"via,omitempty"` // cockpit, headless, ssh:<user> <key>, autopilot, observed
	Action string    `json:"action"`
	// From and To are the canary's percentages (for an action, as asked;
	// To is what was read back when the outcome says so).
	From *float64 `json:"from_percent,omitempty"`
	To   *float64 `json:"to_percent,omitempty"`
	// Outcome is ok, failed, refused, event, or "no outcome" for an intent
	// whose outcome was never written (perch stopped mid-action).
	Outcome  string `json:"outcome"`
	Verified bool   `json:"verified,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Detail   string `json:"detail,omitempty"`
	// Done is when the outcome was written, for an action.
	Done *time.Time `json:"done,omitempty"`
	// Seqs are the log entries this row was built from.
	Seqs []int64 `json:"seqs"`
}

// Outcome values of a Row besides the model's.
const (
	RowEvent     = "event"
	RowNoOutcome = "no outcome"
)

// Timeline folds a log's entries into rows, oldest first: each intent
// with the outcome that names it, refusals and events on their own.
func Timeline(entries []model.AuditEntry, f ExportFilter) []Row {
	keep := func(e model.AuditEntry) bool {
		return (f.Target == "" || e.Target == f.Target) && (f.Since.IsZero() || !e.Time.Before(f.Since))
	}
	outcomes := map[int64]model.AuditEntry{}
	for _, e := range entries {
		if e.Phase == model.PhaseOutcome && e.IntentSeq != 0 {
			outcomes[e.IntentSeq] = e
		}
	}
	intents := map[int64]bool{}
	for _, e := range entries {
		if e.Phase == model.PhaseIntent {
			intents[e.Seq] = true
		}
	}
	var rows []Row
	for _, e := range entries {
		if !keep(e) {
			continue
		}
		r := Row{Time: e.Time, Target: e.Target, Who: e.Actor.String(), Via: e.Actor.Via, Action: e.Action,
			From: e.From, To: e.To, Reason: e.Reason, Detail: e.Detail, Seqs: []int64{e.Seq}}
		switch e.Phase {
		case model.PhaseIntent:
			out, ok := outcomes[e.Seq]
			if !ok {
				r.Outcome = RowNoOutcome
				break
			}
			r.Outcome, r.Verified = string(out.Outcome), out.Verified
			if out.To != nil {
				r.To = out.To
			}
			if out.Detail != "" {
				r.Detail = joinNonEmpty("; ", r.Detail, out.Detail)
			}
			done := out.Time
			r.Done = &done
			r.Seqs = append(r.Seqs, out.Seq)
		case model.PhaseOutcome:
			if e.IntentSeq != 0 && intents[e.IntentSeq] {
				continue // folded into its intent's row
			}
			r.Outcome, r.Verified = string(e.Outcome), e.Verified
		default:
			r.Outcome = RowEvent
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Time.Before(rows[j].Time) })
	return rows
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// ExportMeta is what a timeline says about where it came from.
type ExportMeta struct {
	Log      string `json:"log"`
	Entries  int    `json:"entries"` // in the log, before filtering
	Verified bool   `json:"chain_verified"`
	// VerifyError says where the hash chain breaks, when it does.
	VerifyError string    `json:"chain_error,omitempty"`
	Filter      string    `json:"filter,omitempty"`
	Generated   time.Time `json:"generated"`
}

// WriteJSON writes the timeline as one JSON document.
func WriteJSON(w io.Writer, meta ExportMeta, rows []Row) error {
	if rows == nil {
		rows = []Row{}
	}
	b, err := json.MarshalIndent(struct {
		ExportMeta
		Rows []Row `json:"timeline"`
	}{meta, rows}, "", "  ")
	if err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	// Often read on a terminal: C1 controls and DEL written as escapes,
	// which decode to the same strings.
	if _, err := w.Write(append(termtext.JSON(b), '\n')); err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	return nil
}

// WriteMarkdown writes the timeline as a Markdown section ready to paste
// into an incident document: provenance, the canary's path, then a table.
func WriteMarkdown(w io.Writer, meta ExportMeta, rows []Row) error {
	var b strings.Builder
	b.WriteString("## perch audit timeline\n\n")
	fmt.Fprintf(&b, "- Log: `%s`, %d entries; ", termtext.Clean(meta.Log, 0), meta.Entries)
	if meta.Verified {
		b.WriteString("hash chain verified\n")
	} else {
		fmt.Fprintf(&b, "**hash chain NOT verified: %s**\n", cell(meta.VerifyError))
	}
	if meta.Filter != "" {
		fmt.Fprintf(&b, "- Filter: %s\n", cell(meta.Filter))
	}
	targets := distinctTargets(rows)
	if len(targets) == 1 {
		fmt.Fprintf(&b, "- Target: `%s`\n", termtext.Clean(targets[0], 0))
	}
	if len(rows) > 0 {
		fmt.Fprintf(&b, "- Window: %s to %s UTC\n", stamp(rows[0].Time), stamp(rows[len(rows)-1].Time))
		if path := canaryPath(rows); path != "" {
			fmt.Fprintf(&b, "- Canary: %s\n", path)
		}
		fmt.Fprintf(&b, "- %s\n", tally(rows))
	}
	b.WriteString("\n")
	if len(rows) == 0 {
		b.WriteString("_No entries match._\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	multi := len(targets) > 1
	b.WriteString("| Time (UTC) |")
	if multi {
		b.WriteString(" Target |")
	}
	b.WriteString(" Who | Action | Canary | Outcome | Reason / detail |\n|---|")
	if multi {
		b.WriteString("---|")
	}
	b.WriteString("---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s |", stamp(r.Time))
		if multi {
			fmt.Fprintf(&b, " %s |", cell(shortTarget(r.Target)))
		}
		who := r.Who
		if r.Via != "" {
			who += " via " + r.Via
		}
		fmt.Fprintf(&b, " %s | %s | %s | %s | %s |\n",
			cell(who), cell(r.Action), cell(percents(r.From, r.To)), cell(outcomeText(r)),
			cell(joinNonEmpty(" — ", quoteReason(r.Reason), r.Detail)))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

func percents(from, to *float64) string {
	switch {
	case from != nil && to != nil:
		return model.FormatPercent(*from) + " → " + model.FormatPercent(*to)
	case to != nil:
		return "→ " + model.FormatPercent(*to)
	case from != nil:
		return "at " + model.FormatPercent(*from)
	}
	return ""
}

func outcomeText(r Row) string {
	switch r.Outcome {
	case string(model.OutcomeOK):
		if r.Verified {
			return "✓ ok, verified"
		}
		return "ok, not verified"
	case string(model.OutcomeFailed):
		return "✗ FAILED"
	case string(model.OutcomeRefused):
		return "refused"
	case RowNoOutcome:
		return "⚠ no outcome recorded"
	}
	return r.Outcome
}

func quoteReason(s string) string {
	if s == "" {
		return ""
	}
	return "“" + s + "”"
}

// cell makes text safe inside a Markdown table cell, and on the terminal
// the timeline is often printed to first: reasons are typed by anyone who
// can run perch, details quote AWS.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n", " ")
	s = termtext.Clean(s, 0)
	return strings.ReplaceAll(s, "|", `\|`)
}

func distinctTargets(rows []Row) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		if !seen[r.Target] {
			seen[r.Target] = true
			out = append(out, r.Target)
		}
	}
	return out
}

// shortTarget keeps the tail of an ARN, which names the rule or alias.
func shortTarget(id string) string {
	if i := strings.LastIndex(id, ":"); i >= 0 && strings.HasPrefix(id, "arn:") {
		id = id[i+1:]
	}
	if len(id) > 48 {
		id = "…" + id[len(id)-47:]
	}
	return id
}

// canaryPath lists where the canary went, one target only: the percents
// after each action that moved traffic or each drift.
func canaryPath(rows []Row) string {
	if len(distinctTargets(rows)) != 1 {
		return ""
	}
	var steps []string
	last := ""
	add := func(p *float64) {
		if p == nil {
			return
		}
		s := model.FormatPercent(*p)
		if s != last {
			steps = append(steps, s)
			last = s
		}
	}
	for _, r := range rows {
		moved := r.Outcome == string(model.OutcomeOK) || r.Outcome == string(model.OutcomeFailed) || r.Action == "drift"
		if !moved {
			continue
		}
		if len(steps) == 0 {
			add(r.From)
		}
		add(r.To)
	}
	if len(steps) < 2 {
		return ""
	}
	return strings.Join(steps, " → ")
}

func tally(rows []Row) string {
	var acts, failed, refused, open, events int
	for _, r := range rows {
		switch r.Outcome {
		case string(model.OutcomeOK):
			acts++
		case string(model.OutcomeFailed):
			acts++
			failed++
		case string(model.OutcomeRefused):
			refused++
		case RowNoOutcome:
			open++
		default:
			events++
		}
	}
	s := fmt.Sprintf("%d actions (%d failed), %d refused, %d events", acts, failed, refused, events)
	if open > 0 {
		s += fmt.Sprintf(", **%d without an outcome**", open)
	}
	return s
}
