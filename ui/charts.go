package ui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/perch-dev/perch/model"
)

// chartWindows are the selectable time windows, shortest first.
var chartWindows = []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour}

const defaultWindow = 1 // 30m

// charts is the grid of canary-versus-stable charts. Drawing a chart costs
// milliseconds, so it happens only when the data, the size or the window
// changes (stale), and at most once per message; a focus change only
// composes the drawn pieces again (recompose). View only joins cached
// strings.
type charts struct {
	stale
	recompose bool

	st      *Styles
	width   int
	height  int
	window  int
	focused bool
	snap    model.Snapshot

	metrics []metric           // the chart set for the target's kind
	data    [][2][]model.Point // per metric, per side, within the window
	titles  []string           // metric name and latest values in words
	bodies  []string           // drawn charts (or sparklines)
	canvas  []chartCanvas      // reused between redraws
	mode    chartMode
	view    string

	redraws int // how many times the expensive part ran; tests watch it
}

func (c *charts) SetSize(w, h int) {
	set(&c.stale, &c.width, w)
	set(&c.stale, &c.height, h)
}

// SetSnapshot takes new data: the charts are drawn again.
func (c *charts) SetSnapshot(s model.Snapshot) { c.snap = s; c.invalidate() }

func (c *charts) SetFocused(f bool) {
	if f != c.focused {
		c.focused = f
		c.recompose = true
	}
}

func (c *charts) Window() time.Duration { return chartWindows[c.window] }

// ShiftWindow moves along chartWindows, redrawing only when it moved.
func (c *charts) ShiftWindow(delta int) {
	n := min(max(c.window+delta, 0), len(chartWindows)-1)
	set(&c.stale, &c.window, n)
}

func (c *charts) View() string { return c.view }

// flush draws the charts when their data, size or window changed, and
// only composes them again when their focus did.
func (c *charts) flush() {
	switch {
	case c.due():
		c.redraw()
	case c.recompose:
		c.compose()
	}
	c.recompose = false
}

// period guesses the metric period from the spacing of request points.
func period(s model.Snapshot) time.Duration {
	best := time.Duration(0)
	for _, side := range model.Sides {
		if s.Signals[side] == nil {
			continue
		}
		pts := s.Signals[side][model.Requests]
		for i := 1; i < len(pts); i++ {
			if d := pts[i].T.Sub(pts[i-1].T); d > 0 && (best == 0 || d < best) {
				best = d
			}
		}
	}
	if best == 0 {
		return time.Minute
	}
	return best
}

func inWindow(pts []model.Point, from, to time.Time) []model.Point {
	var out []model.Point
	for _, p := range pts {
		if !p.T.Before(from) && !p.T.After(to) {
			out = append(out, p)
		}
	}
	return out
}

func (c *charts) redraw() {
	if c.width <= 0 || c.height <= 0 {
		c.view = ""
		return
	}
	c.redraws++
	s := c.snap
	c.setMetrics(metricsFor(s.Target.Kind))
	metrics := c.metrics
	n := len(metrics)
	to := s.Now
	from := to.Add(-c.Window())
	per := period(s)
	for i, m := range metrics {
		for _, side := range model.Sides {
			c.data[i][side] = inWindow(m.series(s, side, per), from, to)
		}
		c.titles[i] = c.title(i)
	}

	hp := c.height - 1 // below the grid's own title line
	gap := per*5/2 + time.Second
	c.mode = chartModeFor(c.width, c.height, n)
	switch c.mode {
	case chartsWide:
		pw := (c.width - 2*(n-1)) / n
		for i, m := range metrics {
			c.bodies[i] = drawChart(c.st, &c.canvas[i], chartSpec{w: pw, h: hp - 1, from: from, to: to, floor: m.floor, gap: gap,
				stable: c.data[i][model.Stable], canary: c.data[i][model.Canary]})
		}
	case chartsStacked:
		ph := hp / n
		for i, m := range metrics {
			c.bodies[i] = drawChart(c.st, &c.canvas[i], chartSpec{w: c.width, h: ph - 1, from: from, to: to, floor: m.floor, gap: gap,
				stable: c.data[i][model.Stable], canary: c.data[i][model.Canary]})
		}
	default:
		room := c.width - 26
		if compactLines(hp, n) == 2 {
			// Each line then starts with the metric's short name.
			room -= c.shortWidth()
		}
		cols := min(max(room, 4), int(c.Window()/per))
		for i, m := range metrics {
			c.bodies[i] = c.sparks(i, m, from, to, cols)
		}
	}
	c.compose()
}

// setMetrics switches the chart set, keeping canvases when it is the same
// size (the kind of a session's target never changes).
func (c *charts) setMetrics(ms []metric) {
	c.metrics = ms
	if len(c.canvas) != len(ms) {
		c.data = make([][2][]model.Point, len(ms))
		c.titles = make([]string, len(ms))
		c.bodies = make([]string, len(ms))
		c.canvas = make([]chartCanvas, len(ms))
	}
}

// title names a metric and gives both sides' newest values in words.
func (c *charts) title(i int) string {
	st := c.st
	m := c.metrics[i]
	side := func(sd model.Side) string {
		name := "■ stable"
		if sd == model.Canary {
			name = "▲ canary"
		}
		pts := c.data[i][sd]
		if len(pts) == 0 {
			return st.side(sd == model.Canary).Render(name) + st.Dim.Render(" no data")
		}
		return st.side(sd == model.Canary).Render(name + " " + m.format(pts[len(pts)-1].V))
	}
	return st.Title.Render(m.title) + "  " + side(model.Canary) + st.Sep + side(model.Stable)
}

// sparks is the compact form: one sparkline per side on a shared scale, so
// the two heights compare.
func (c *charts) sparks(i int, m metric, from, to time.Time, cols int) string {
	st := c.st
	top := m.floor
	for _, sd := range model.Sides {
		for _, p := range c.data[i][sd] {
			top = math.Max(top, p.V)
		}
	}
	line := func(sd model.Side) string {
		name := "  ■ stable "
		if sd == model.Canary {
			name = "  ▲ canary "
		}
		val := "no data"
		if pts := c.data[i][sd]; len(pts) > 0 {
			val = m.format(pts[len(pts)-1].V)
		}
		sty := st.side(sd == model.Canary)
		return sty.Render(name) + sty.Render(sparkline(c.data[i][sd], from, to, cols, top)) + " " + sty.Render(val)
	}
	return line(model.Canary) + "\n" + line(model.Stable)
}

// compose lays out the cached pieces; cheap, so focus changes use it alone.
func (c *charts) compose() {
	if c.width <= 0 || c.height <= 0 {
		c.view = ""
		return
	}
	st := c.st
	name := "  charts"
	if c.focused {
		name = st.Focused.Render("▸ charts")
	} else {
		name = st.Title.Render(name)
	}
	canary, stable := "canary", "stable"
	if t := c.snap.Target; t.Kind == model.KindLambda && t.CanaryName != "" {
		// Which version is which is not said anywhere else on screen.
		canary, stable = "canary "+t.CanaryName, "stable "+t.StableName
	}
	legend := st.Canary.Render("⣀⠤ "+canary+" (dotted)") + st.Sep + st.Stable.Render("── "+stable+" (line)")
	if c.mode == chartsCompact {
		legend = st.Canary.Render("▲ "+canary) + st.Sep + st.Stable.Render("■ "+stable) + st.Dim.Render(" · same scale per metric")
	}
	head := name + st.Dim.Render(fmt.Sprintf("  window %s ([ ]) · ", fmtWindow(c.Window()))) + legend
	lines := []string{trunc(head, c.width)}

	hp := c.height - 1
	switch c.mode {
	case chartsWide:
		n := len(c.metrics)
		pw := (c.width - 2*(n-1)) / n
		cols := make([]string, n)
		for i := range c.metrics {
			cols[i] = trunc(c.titles[i], pw) + "\n" + c.bodies[i]
		}
		lines = append(lines, joinColumns(cols, pw, "  "))
	case chartsStacked:
		for i := range c.metrics {
			lines = append(lines, trunc(c.titles[i], c.width), c.bodies[i])
		}
	default:
		per := compactLines(hp, len(c.metrics))
		longest := c.shortWidth()
		for i := range c.metrics {
			block := []string{trunc(c.titles[i], c.width)}
			block = append(block, strings.Split(c.bodies[i], "\n")...)
			switch per {
			case 1:
				block = block[:1]
			case 2:
				block = block[1:]
				for j := range block {
					// Padded so the sparklines of all metrics line up.
					block[j] = trunc(st.Title.Render(fmt.Sprintf("%-*s", longest, short(c.metrics[i].title)))+block[j], c.width)
				}
			}
			for j := range block {
				block[j] = trunc(block[j], c.width)
			}
			lines = append(lines, block...)
		}
	}
	c.view = padLines(strings.Join(lines, "\n"), c.height)
}

func fmtWindow(d time.Duration) string {
	if d >= time.Hour {
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dm", int(d.Minutes()))
}
