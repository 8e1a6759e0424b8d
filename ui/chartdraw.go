package ui

import (
	"math"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/graph"
	"github.com/NimbleMarkets/ntcharts/canvas/runes"
	tslc "github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
	"github.com/charmbracelet/lipgloss"

	"github.com/perch-dev/perch/model"
)

// chartSpec is everything one chart drawing depends on; the result is a
// pure function of it, which is what makes caching and golden files safe.
type chartSpec struct {
	w, h           int
	from, to       time.Time
	floor          float64       // the smallest top of the Y axis
	gap            time.Duration // points further apart than this are not joined
	stable, canary []model.Point
}

// drawChart draws both sides on one ntcharts time-series chart. The stable
// side is a box-drawing line and the canary a braille (dotted) line, so the
// two differ by shape as well as colour.
//
// It does not use the chart's own data sets: their column sequence fills
// columns without data with the bottom value, so a window that starts
// before the data (or ends after the newest, still-incomplete period) would
// show a fall to zero that never happened. Drawing segments only between
// neighbouring points leaves gaps as gaps.
func drawChart(st *Styles, cc *chartCanvas, sp chartSpec) string {
	if sp.w < 8 || sp.h < 4 {
		return ""
	}
	if w, h := sp.w, sp.h; w > maxChartW || h > maxChartH {
		sp.w, sp.h = min(w, maxChartW), min(h, maxChartH)
		return padBlock(drawChart(st, cc, sp), w, h)
	}
	gh := sp.h - 2 // rows above the X axis and its labels
	dataMax := 0.0
	for _, set := range [][]model.Point{sp.stable, sp.canary} {
		for _, p := range set {
			dataMax = math.Max(dataMax, p.V)
		}
	}
	yMax, yStep := yScale(dataMax, sp.floor, gh)

	from, to := sp.from.Truncate(time.Second), sp.to.Truncate(time.Second)
	minX, maxX := float64(from.Unix()), float64(to.Unix())
	c := cc.prepare(st, sp.w, sp.h)
	// Ranges are set explicitly, never from the clock or the data.
	c.SetXYRange(minX, maxX, 0, yMax)
	c.SetViewXYRange(minX, maxX, 0, yMax)
	c.SetXStep(10)
	c.SetYStep(yStep)
	// Fill, not Clear: Clear allocates every row again, and a chart's
	// cells are a few hundred bytes each.
	c.Canvas.Fill(canvas.Cell{})
	c.DrawXYAxisAndLabel()

	org := c.Origin()
	gw := c.GraphWidth()
	colF := func(t time.Time) float64 { return (float64(t.Unix()) - minX) / (maxX - minX) * float64(gw) }
	rowF := func(v float64) float64 { return math.Min(v, yMax) / yMax * float64(gh) }

	// Stable: line runes, with the value 0 on the axis row as ntcharts does.
	for _, run := range runs(sp.stable, sp.gap) {
		pts := make([]canvas.Point, len(run))
		for i, p := range run {
			pts[i] = canvas.Point{X: org.X + int(math.Round(colF(p.T))), Y: org.Y - int(math.Round(rowF(p.V)))}
		}
		if len(pts) == 1 {
			graph.DrawLineRune(&c.Canvas, pts[0], runes.LineHorizontal, runes.ArcLineStyle, st.Stable)
			continue
		}
		for i := 1; i < len(pts); i++ {
			graph.DrawLinePoints(&c.Canvas, graph.GetLinePoints(pts[i-1], pts[i]), runes.ArcLineStyle, st.Stable)
		}
	}

	// Canary: a braille grid over the plot area plus the axis row, so 0 sits
	// on the axis like the stable line; dots are 2 per column, 4 per row.
	if len(sp.canary) > 0 {
		grid := runes.NewPatternDotsGrid(gw*2, (gh+1)*4)
		dot := func(p model.Point) canvas.Point {
			x := int(math.Round(2*(colF(p.T)-1) + 0.5))
			y := (gh+1)*4 - 1 - int(math.Round(4*rowF(p.V)+1.5))
			return canvas.Point{X: max(0, x), Y: y}
		}
		for _, run := range runs(sp.canary, sp.gap) {
			prev := dot(run[0])
			grid.Set(prev.X, prev.Y)
			for _, p := range run[1:] {
				cur := dot(p)
				for _, q := range graph.GetLinePoints(prev, cur) {
					grid.Set(q.X, q.Y)
				}
				prev = cur
			}
		}
		graph.DrawBraillePatterns(&c.Canvas, canvas.Point{X: org.X + 1, Y: 0}, grid.BraillePatterns(), st.Canary)
	}

	if len(sp.stable) == 0 && len(sp.canary) == 0 {
		note := "no data in this window"
		if x := org.X + 1 + (gw-len(note))/2; x > org.X && gh > 0 {
			c.Canvas.SetStringWithStyle(canvas.Point{X: x, Y: gh / 2}, note, st.Dim)
		}
	}
	return renderCanvas(&c.Canvas)
}

// maxChartW and maxChartH bound one chart's canvas. Each of its cells
// costs about 600 bytes in ntcharts, and a terminal, or an SSH client, can
// claim any size: at 1000x500 the charts took 260 MB per viewer. A bigger
// chart is drawn at the bound and padded; three hours of one-minute
// points need fewer than 100 columns of braille.
const (
	maxChartW = 240
	maxChartH = 60
)

// padBlock pads s, drawn smaller, to w cells by h lines.
func padBlock(s string, w, h int) string {
	lines := strings.Split(padLines(s, h), "\n")
	for i, l := range lines {
		if n := visibleWidth(l); n < w {
			lines[i] = l + strings.Repeat(" ", w-n)
		}
	}
	return strings.Join(lines, "\n")
}

// renderCanvas is canvas.View without its cost: ntcharts renders every
// cell through lipgloss, blanks included (about two thirds of the redraw
// time at 200x50). Blanks here are plain spaces, and a run of cells that
// share a style is rendered once.
func renderCanvas(cv *canvas.Model) string {
	w, h := cv.Width(), cv.Height()
	var sb strings.Builder
	sb.Grow(w * h * 2)
	var run []rune
	var runStyle lipgloss.Style
	flush := func() {
		if len(run) > 0 {
			sb.WriteString(runStyle.Render(string(run)))
			run = run[:0]
		}
	}
	for y := range h {
		if y > 0 {
			sb.WriteByte('\n')
		}
		for x := range w {
			cell := cv.Cell(canvas.Point{X: x, Y: y})
			if cell.Rune == 0 {
				flush()
				sb.WriteByte(' ')
				continue
			}
			if len(run) > 0 && !sameLook(runStyle, cell.Style) {
				flush()
			}
			if len(run) == 0 {
				runStyle = cell.Style
			}
			run = append(run, cell.Rune)
		}
		flush()
	}
	return sb.String()
}

// sameLook compares the properties the chart styles set.
func sameLook(a, b lipgloss.Style) bool {
	return a.GetForeground() == b.GetForeground() && a.GetBold() == b.GetBold()
}

// yScale picks the top of the Y axis and the rows between labels so that
// the labels are round numbers and the data fills as much height as it can.
func yScale(dataMax, floor float64, gh int) (float64, int) {
	target := math.Max(dataMax*1.05, floor)
	best, bestStep := math.Inf(1), 0
	for k := 6; k >= 2; k-- { // labelled intervals; on a tie, more labels
		ys := gh / k
		if ys < 2 {
			continue
		}
		top := niceCeil(target*float64(ys)/float64(gh)) * float64(gh) / float64(ys)
		if top < best-1e-9 {
			best, bestStep = top, ys
		}
	}
	if bestStep == 0 {
		return niceCeil(target), max(1, gh)
	}
	return best, bestStep
}

// chartCanvas keeps one ntcharts model between redraws so a new snapshot
// reuses its canvas instead of allocating one.
type chartCanvas struct {
	m    tslc.Model
	w, h int
	ok   bool
}

func (cc *chartCanvas) prepare(st *Styles, w, h int) *tslc.Model {
	if !cc.ok || cc.w != w || cc.h != h {
		cc.m = tslc.New(w, h,
			tslc.WithXLabelFormatter(func(_ int, v float64) string {
				return time.Unix(int64(v), 0).UTC().Format("15:04")
			}),
			tslc.WithYLabelFormatter(func(_ int, v float64) string { return num(v) }),
			tslc.WithAxesStyles(st.Axis, st.Label),
		)
		// Fixed ranges: nothing drawn may stretch the axes.
		cc.m.AutoMinX, cc.m.AutoMaxX, cc.m.AutoMinY, cc.m.AutoMaxY = false, false, false, false
		cc.w, cc.h, cc.ok = w, h, true
	}
	return &cc.m
}

// runs splits points into runs whose neighbours are at most gap apart.
func runs(pts []model.Point, gap time.Duration) [][]model.Point {
	var out [][]model.Point
	start := 0
	for i := 1; i <= len(pts); i++ {
		if i == len(pts) || pts[i].T.Sub(pts[i-1].T) > gap {
			if i > start {
				out = append(out, pts[start:i])
			}
			start = i
		}
	}
	return out
}

var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// sparkline draws pts over [from, to) in n columns scaled to 0..top; a
// column without data is a blank, not a zero.
func sparkline(pts []model.Point, from, to time.Time, n int, top float64) string {
	if n <= 0 {
		return ""
	}
	sum := make([]float64, n)
	cnt := make([]int, n)
	span := to.Sub(from)
	for _, p := range pts {
		if p.T.Before(from) || !p.T.Before(to) {
			continue
		}
		i := int(float64(p.T.Sub(from)) / float64(span) * float64(n))
		i = min(max(i, 0), n-1)
		sum[i] += p.V
		cnt[i]++
	}
	var b strings.Builder
	for i := range n {
		if cnt[i] == 0 {
			b.WriteByte(' ')
			continue
		}
		v := sum[i] / float64(cnt[i])
		j := 0
		if top > 0 {
			j = int(math.Round(v / top * float64(len(sparkRunes)-1)))
		}
		b.WriteRune(sparkRunes[min(max(j, 0), len(sparkRunes)-1)])
	}
	return b.String()
}
