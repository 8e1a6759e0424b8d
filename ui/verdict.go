package ui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/perch-dev/perch/model"
)

// verdict is the one line that answers "how is it going": the judge's
// verdict first, then what the autopilot is doing, then the newest
// action's result. A narrow screen keeps the front of the line. With the
// evidence open (the Evidence key) two lines per metric follow: what the
// metric says and which test and window decided it, then every test's
// evidence against its bar: why it passed or failed.
type verdict struct {
	stale
	st       *Styles
	width    int
	last     *model.Result
	judge    *model.Verdict
	auto     *model.AutopilotStatus
	expanded bool
	view     string
}

func (v *verdict) SetSize(w, _ int) { set(&v.stale, &v.width, w) }

// Height is one line, and two per metric with the evidence open.
func (v *verdict) Height() int {
	if !v.expanded {
		return 1
	}
	if v.judge == nil || len(v.judge.Metrics) == 0 {
		return 2
	}
	return 1 + 2*len(v.judge.Metrics)
}

// toggleEvidence opens or closes the judge's evidence under the verdict
// line. It only changes what is drawn: nothing to wait for.
func (m *Model) toggleEvidence() {
	m.verdict.expanded = !m.verdict.expanded
	m.verdict.invalidate() // flush lays out again: the charts give up the rows
}

// SetResult shows r (nil: no action yet).
func (v *verdict) SetResult(r *model.Result) { v.last = r; v.invalidate() }

// SetJudgement shows the judge's verdict and the autopilot's state (nil:
// not computed yet / no plan).
func (v *verdict) SetJudgement(j *model.Verdict, a *model.AutopilotStatus) {
	v.judge, v.auto = j, a
	v.invalidate()
}

func (v *verdict) View() string { return v.view }

func (v *verdict) render() {
	st := v.st
	out := judgeLine(st, v.judge)
	if v.auto != nil {
		out += st.Sep + autopilotLine(st, *v.auto)
	}
	out += st.Dim.Render(" · last action: ")
	if v.last == nil {
		out += st.Dim.Render("none")
	} else {
		out += resultLine(st, *v.last)
	}
	lines := []string{trunc(out, v.width)}
	if v.expanded {
		lines = append(lines, evidenceLines(st, v.judge, v.width)...)
	}
	v.view = strings.Join(lines, "\n")
}

// evidenceLines explain the verdict per metric.
func evidenceLines(st *Styles, j *model.Verdict, w int) []string {
	if j == nil || len(j.Metrics) == 0 {
		return []string{trunc(st.Dim.Render("  evidence: no verdict yet"), w)}
	}
	name := 0
	for _, m := range j.Metrics {
		name = max(name, len([]rune(m.Signal.Label())))
	}
	var out []string
	for _, m := range j.Metrics {
		label := m.Signal.Label() + strings.Repeat(" ", name-len([]rune(m.Signal.Label())))
		var kind string
		switch m.Kind {
		case model.VerdictPass:
			kind = st.OK.Render("✓ PASS")
		case model.VerdictFail:
			kind = st.Bad.Render("✗ FAIL")
		default:
			kind = st.Warn.Render("… INSUF")
		}
		line := "  " + st.Bold.Render(label) + " " + kind + " " + decidedBy(m)
		if m.Effect != "" {
			line += st.Dim.Render(" · ") + m.Effect
		}
		if m.Invalid != "" {
			line += st.Warn.Render(" ⚠ refused: " + m.Invalid)
		}
		out = append(out, trunc(line, w))
		tests := make([]string, 0, len(m.Tests))
		for _, te := range m.Tests {
			t := fmt.Sprintf("%s %s of %s", te.Test, number(te.Evidence), number(te.Threshold))
			if te.Test != model.TestFromStart {
				t += " from " + hhmm(te.From)
			}
			tests = append(tests, t)
		}
		if len(tests) == 0 {
			tests = append(tests, "no periods with both sides' data yet")
		}
		out = append(out, trunc(st.Dim.Render("  "+strings.Repeat(" ", name)+" tests: "+strings.Join(tests, " · ")), w))
	}
	return out
}

// decidedBy says which test and window produced a metric's verdict.
func decidedBy(m model.MetricVerdict) string {
	if m.Test == "" {
		return ""
	}
	span := ""
	if !m.From.IsZero() && !m.To.IsZero() {
		span = fmt.Sprintf(" %s–%s", hhmm(m.From), hhmm(m.To))
	}
	switch m.Kind {
	case model.VerdictFail:
		return fmt.Sprintf("by the %s%s", m.Test, span)
	case model.VerdictPass:
		return fmt.Sprintf("on the %s's power%s", m.Test, span)
	}
	return fmt.Sprintf("%s%s: %s more canary requests needed", m.Test, span, number(m.MoreRequests()))
}

func hhmm(t time.Time) string { return t.UTC().Format("15:04") }

// number prints an e-value or a count compactly: 0.31, 12, 4.2e+05.
func number(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "∞"
	case x >= 1e4:
		return fmt.Sprintf("%.1e", x)
	case x >= 10:
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.2g", x)
}

// judgeLine puts the verdict in a word and a glyph, never colour alone.
func judgeLine(st *Styles, j *model.Verdict) string {
	if j == nil {
		return st.Dim.Render("verdict: waiting for metrics")
	}
	summary := j.Summary
	for _, prefix := range []string{string(j.Overall) + ": ", string(j.Overall) + " "} {
		summary = strings.TrimPrefix(summary, prefix)
	}
	switch j.Overall {
	case model.VerdictPass:
		return st.OK.Render("✓ PASS") + " " + summary
	case model.VerdictFail:
		return st.Bad.Render("✗ FAIL") + " " + summary
	default:
		return st.Warn.Render("… INSUFFICIENT") + " " + summary
	}
}

// autopilotLine says where the plan is and what it decided last.
func autopilotLine(st *Styles, a model.AutopilotStatus) string {
	n := len(a.Plan.Steps)
	step := ""
	if a.State.Step >= 0 && a.State.Step < n {
		step = fmt.Sprintf(" %d/%d", a.State.Step+1, n)
	}
	switch {
	case a.State.Done:
		return st.Bold.Render("■ autopilot done") + ": " + a.Decision.Reason
	case a.State.Paused:
		return st.Warn.Render("⏸ autopilot paused") + step
	default:
		return st.OK.Render("▶ autopilot") + step + ": " + a.Decision.Reason
	}
}

// resultLine says what an action did, and for a failure what state traffic
// is in now, since that is what the operator has to act on.
func resultLine(st *Styles, r model.Result) string {
	act := r.Intent.Kind.Action()
	move := pct(r.From.CanaryPercent()) + " → "
	switch r.Outcome {
	case model.OutcomeOK:
		move += pct(r.To.CanaryPercent())
		out := st.OK.Render("✓ " + act + " " + move)
		if r.Verified {
			out += st.OK.Render(" verified")
		} else {
			out += st.Warn.Render(" not verified")
		}
		return out + warnings(st, r.Warnings)
	case model.OutcomeRefused:
		return st.Bad.Render("✗ refused: "+shorten(r.Err, 100)) + st.Dim.Render(" ("+act+")") + warnings(st, r.Warnings)
	default:
		return st.Bad.Render("✗ failed: "+shorten(r.Err, 100)) +
			st.Dim.Render(" ("+act+") · traffic now: ") + "canary " + pct(r.To.CanaryPercent()) + warnings(st, r.Warnings)
	}
}

func warnings(st *Styles, ws []string) string {
	if len(ws) == 0 {
		return ""
	}
	return " " + st.Warn.Render("⚠ "+strings.Join(ws, "; "))
}
