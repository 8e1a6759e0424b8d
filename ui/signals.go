package ui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/perch-dev/perch/model"
)

// The seed's other signals on the cockpit: a compact saturation row (one
// line per saturation signal with data, both sides' sparklines and newest
// values) under the charts, and the log patterns pane, which L shows or
// hides: each side's error-like patterns with counts, the NEW ones first
// and marked, each with one sample line.

// satLines is the most lines the saturation row takes.
const satLines = 3

type signalsPane struct {
	stale
	st       *Styles
	snap     model.Snapshot
	width    int
	patterns bool // the patterns pane is shown
	satH     int  // lines the layout gives the saturation row
	patH     int  // lines the layout gives the patterns pane
	satView  string
	patView  string
}

func (p *signalsPane) SetSnapshot(s model.Snapshot) {
	p.snap = s
	p.invalidate()
}

func (p *signalsPane) SetWidth(w int) { set(&p.stale, &p.width, w) }

func (p *signalsPane) SetHeights(sat, pat int) {
	set(&p.stale, &p.satH, sat)
	set(&p.stale, &p.patH, pat)
}

func (p *signalsPane) toggle() {
	p.patterns = !p.patterns
	p.invalidate()
}

// satSignals are the saturation signals with data on either side.
func (p *signalsPane) satSignals() []model.Signal {
	var out []model.Signal
	for _, s := range model.SaturationSignals {
		if len(p.snap.Signals[model.Stable][s]) > 0 || len(p.snap.Signals[model.Canary][s]) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// satHeight is the saturation row's lines (0 with no data).
func (p *signalsPane) satHeight() int { return min(len(p.satSignals()), satLines) }

// patternsWanted is how many lines the patterns pane would like: a title
// and two lines per pattern.
func (p *signalsPane) patternsWanted() int {
	if !p.patterns {
		return 0
	}
	if p.snap.Logs == nil {
		return 1
	}
	return 1 + 2*max(len(p.snap.Logs.Rows), 1)
}

func (p *signalsPane) flush() {
	if p.due() {
		p.satView = p.renderSaturation()
		p.patView = p.renderPatterns()
	}
}

func (p *signalsPane) renderSaturation() string {
	sigs := p.satSignals()
	if len(sigs) > p.satH {
		sigs = sigs[:p.satH]
	}
	var lines []string
	spark := max(min((p.width-40)/2, 30), 4)
	// One column a minute, both sides on one scale: utilisation from 0 to
	// 100%, anything else to the larger side's peak.
	to := p.snap.Now.Truncate(time.Minute).Add(time.Minute)
	from := to.Add(-time.Duration(spark) * time.Minute)
	for _, s := range sigs {
		top := 100.0
		if s != model.CPUUtilization && s != model.MemoryUtilization {
			top = 0
			for _, side := range model.Sides {
				for _, pt := range p.snap.Signals[side][s] {
					top = math.Max(top, pt.V)
				}
			}
		}
		seg := []string{p.st.Label.Render(fmt.Sprintf("%-12s", s.Label()))}
		for _, side := range model.Sides {
			pts := p.snap.Signals[side][s]
			seg = append(seg, p.st.side(side == model.Canary).Render(fmt.Sprintf("%s %s %s", side, sparkline(pts, from, to, spark, top), lastValue(s, pts))))
		}
		lines = append(lines, joinFit(seg, "  ", p.width))
	}
	return strings.Join(lines, "\n")
}

func lastValue(s model.Signal, pts []model.Point) string {
	if len(pts) == 0 {
		return "  –"
	}
	v := pts[len(pts)-1].V
	switch s {
	case model.CPUUtilization, model.MemoryUtilization:
		return fmt.Sprintf("%3.0f%%", v)
	case model.DurationAvg:
		return fmt.Sprintf("%sms", num(v))
	}
	return num(v)
}

func (p *signalsPane) renderPatterns() string {
	if !p.patterns || p.patH <= 0 {
		return ""
	}
	v := p.snap.Logs
	if v == nil {
		return p.st.Dim.Render(trunc("log patterns: not watched (perch alb --log-group G, perch lambda --logs, or logs: in perch.yaml)", p.width))
	}
	lines := []string{trunc(p.patternsTitle(v), p.width)}
	for _, r := range v.Rows {
		if len(lines)+2 > p.patH {
			break
		}
		lines = append(lines, trunc(p.patternRow(r, v), p.width), trunc(p.st.Dim.Render("      e.g. "+r.Sample), p.width))
	}
	if len(v.Rows) == 0 {
		lines = append(lines, p.st.Dim.Render("      no error-like lines yet"))
	}
	return strings.Join(lines, "\n")
}

func (p *signalsPane) patternsTitle(v *model.LogsView) string {
	parts := []string{p.st.Title.Render("log patterns")}
	if n := v.NewCount(); n > 0 {
		parts = append(parts, p.st.Bad.Render(fmt.Sprintf("%d NEW in canary", n)))
	}
	if !v.At[model.Canary].IsZero() {
		parts = append(parts, fmt.Sprintf("last %s", v.At[model.Canary].UTC().Format("15:04:05")),
			fmt.Sprintf("window %s", shortDur(v.To[model.Canary].Sub(v.From[model.Canary]))))
	} else {
		parts = append(parts, p.st.Dim.Render("first query running…"))
	}
	parts = append(parts, fmt.Sprintf("1 query/side/%s", shortDur(v.Every)))
	if v.Err != "" {
		parts = append(parts, p.st.Bad.Render("✗ "+firstLine(v.Err)))
	}
	return joinFit(parts, p.st.Sep, p.width)
}

func (p *signalsPane) patternRow(r model.PatternRow, v *model.LogsView) string {
	mark := "    "
	if r.New {
		mark = p.st.Bad.Render("NEW ")
	}
	count := func(side model.Side) string {
		c := fmt.Sprint(r.Counts[side])
		if v.Truncated[side] {
			c = "≥" + c
		}
		return p.st.side(side == model.Canary).Render(fmt.Sprintf("%s %6s", side.String()[:1], c))
	}
	return fmt.Sprintf("%s %s %s  %s", mark, count(model.Canary), count(model.Stable), r.Pattern)
}

// shortDur is 10m rather than 10m0s.
func shortDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// bytesLabel is bytes scanned in words, for the status bar.
func bytesLabel(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// logsStatus is the status bar's part about the log queries.
func logsStatus(v *model.LogsView) string {
	if v == nil {
		return ""
	}
	s := fmt.Sprintf("logs: %s scanned, %d quer%s", bytesLabel(v.BytesScanned), v.Queries, map[bool]string{true: "y", false: "ies"}[v.Queries == 1])
	if n := v.NewCount(); n > 0 {
		s += fmt.Sprintf(", %d NEW (L)", n)
	}
	return s
}
