package ui

import (
	"fmt"
	"strings"

	"github.com/perch-dev/perch/model"
)

// verdict is the one line that answers "how is it going": the judge's
// verdict first, then what the autopilot is doing, then the newest
// action's result. A narrow screen keeps the front of the line.
type verdict struct {
	stale
	st    *Styles
	width int
	last  *model.Result
	judge *model.Verdict
	auto  *model.AutopilotStatus
	view  string
}

func (v *verdict) SetSize(w, _ int) { set(&v.stale, &v.width, w) }

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
	v.view = trunc(out, v.width)
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
