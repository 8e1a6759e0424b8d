package ui

import "strings"

// The forms the charts take in their area: side by side with axes (wide),
// one under the other (stacked), or sparklines (compact) when there is no
// room for axes. charts.go draws them; the layout asks which one fits.

// compactHeight is all the compact form can use: a title line and three
// lines per metric of the three-chart (ALB) set. A four-chart set fits in
// it with two lines per metric.
const compactHeight = 10

// chartMode is the form the charts take in their area.
type chartMode int

const (
	chartsCompact chartMode = iota // sparklines, no axes: the fallback
	chartsStacked                  // one chart under the other
	chartsWide                     // side by side
)

func (m chartMode) String() string {
	switch m {
	case chartsStacked:
		return "stacked"
	case chartsWide:
		return "wide"
	}
	return "compact"
}

// chartModeFor picks the form for n charts in a w x h area: side by side,
// stacked, or sparklines when there is no room for axes. Stacked charts
// need four rows each besides their title.
func chartModeFor(w, h, n int) chartMode {
	switch hp := h - 1; {
	case w >= 120 && hp >= 8:
		return chartsWide
	case hp >= 18 && hp/n-1 >= 4:
		return chartsStacked
	}
	return chartsCompact
}

// compactLines is how many lines each metric gets in the compact form: a
// title and both sparklines (3), the sparklines alone (2), or the title (1).
func compactLines(hp, n int) int { return min(3, max(1, hp/n)) }

// short is a metric's first word, which names it where the compact form
// has no room for its title.
func short(title string) string { return strings.Fields(title)[0] }

// shortWidth is the longest short name, which the compact form pads to so
// that the sparklines of all metrics line up.
func (c *charts) shortWidth() int {
	w := 0
	for _, m := range c.metrics {
		w = max(w, len(short(m.title)))
	}
	return w
}

// joinColumns puts blocks side by side, padding each line to w cells. It
// avoids lipgloss.JoinHorizontal, which measures every line again.
func joinColumns(blocks []string, w int, sep string) string {
	split := make([][]string, len(blocks))
	rows := 0
	for i, b := range blocks {
		split[i] = strings.Split(b, "\n")
		rows = max(rows, len(split[i]))
	}
	var sb strings.Builder
	for r := range rows {
		if r > 0 {
			sb.WriteByte('\n')
		}
		for i := range blocks {
			if i > 0 {
				sb.WriteString(sep)
			}
			l := ""
			if r < len(split[i]) {
				l = split[i][r]
			}
			sb.WriteString(l)
			if pad := w - visibleWidth(l); pad > 0 && i < len(blocks)-1 {
				sb.WriteString(strings.Repeat(" ", pad))
			}
		}
	}
	return sb.String()
}
