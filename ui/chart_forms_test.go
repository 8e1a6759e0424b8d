package ui

import "testing"

// The thresholds between the chart forms, for the three-chart (ALB) and
// four-chart (Lambda) sets.
func TestChartModeFor(t *testing.T) {
	for _, c := range []struct {
		w, h, n int
		want    chartMode
	}{
		{200, 50, 3, chartsWide},
		{120, 9, 3, chartsWide},
		{119, 9, 3, chartsCompact},
		{80, 10, 3, chartsCompact}, // the charts' area in an 80x24 cockpit
		{100, 40, 3, chartsStacked},
		{100, 19, 3, chartsStacked},
		{100, 19, 4, chartsCompact}, // three rows each is too few for axes
		{100, 25, 4, chartsStacked},
	} {
		if got := chartModeFor(c.w, c.h, c.n); got != c.want {
			t.Errorf("%d charts in %dx%d: %v, want %v", c.n, c.w, c.h, got, c.want)
		}
	}
}
