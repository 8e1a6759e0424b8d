package ui

import (
	"strings"

	"github.com/perch-dev/perch/model"
)

// verdict is the one line that answers "how is it going". Until the judge
// exists it reports the newest action's result; the judge's verdict will
// take the left of the line.
type verdict struct {
	st    *Styles
	width int
	last  *model.Result
	view  string
}

func (v *verdict) SetSize(w, _ int) { v.width = w; v.render() }

// SetResult shows r (nil: no action yet).
func (v *verdict) SetResult(r *model.Result) { v.last = r; v.render() }

func (v *verdict) View() string { return v.view }

func (v *verdict) render() {
	st := v.st
	out := st.Dim.Render("verdict: no judge yet · last action: ")
	if v.last == nil {
		out += st.Dim.Render("none")
	} else {
		out += resultLine(st, *v.last)
	}
	v.view = trunc(out, v.width)
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
