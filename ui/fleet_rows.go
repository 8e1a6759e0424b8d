package ui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/perch-dev/perch/model"
)

// fleetWindow is how far back a row's sparklines reach.
const fleetWindow = 30 * time.Minute

// FleetSnapshotWindow is how much of each signal a fleet row needs of its
// target's snapshot: its sparklines' window and a margin for the time
// between a metrics poll and the row's clock.
const FleetSnapshotWindow = fleetWindow + 5*time.Minute

// fleetLayout is the width of each column of the fleet table. Columns that
// do not fit a narrow terminal are left out (width 0) rather than cut.
type fleetLayout struct {
	width                           int
	name, kind, region              int
	gauge                           int
	spark, errVal, latVal           int
	verdict, auto                   int
	alarms                          int
	sepW                            int // between columns
	markerW                         int
	showRegion, showAuto, bothSides bool
}

func newFleetLayout(w int) fleetLayout {
	l := fleetLayout{width: w, sepW: 1, markerW: 2, kind: 6, verdict: 7}
	l.bothSides = w >= 140
	l.showRegion = w >= 150
	l.showAuto = w >= 110
	l.name = 12
	l.gauge = 6
	l.errVal, l.latVal = 5, 6 // "12.3%", "1234ms"
	if l.bothSides {
		l.name = 20
		l.gauge = 12
		l.errVal, l.latVal = 13, 15 // "8.1% vs 0.6%", "480 vs 175 ms"
	} else if w >= 100 {
		l.name, l.gauge = 16, 10
	}
	if l.showRegion {
		l.region = 14
	}
	if l.showAuto {
		l.auto = 12
	}
	fixed := l.markerW + l.name + l.kind + l.region + l.gauge + 5 + l.errVal + l.latVal + l.verdict + l.auto
	cols := 7 // separators: name kind [region] gauge% 5xx p99 verdict [auto] alarms
	if l.showRegion {
		cols++
	}
	if l.showAuto {
		cols++
	}
	minAlarms := 8
	if l.bothSides {
		minAlarms = 30 // room to name the alarm that fires
	}
	room := w - fixed - cols*l.sepW - minAlarms
	// The two sparklines share what is left (each with a space before its
	// value), up to a minute per column over the window.
	l.spark = min(max((room-2)/2, 3), int(fleetWindow/time.Minute))
	l.alarms = max(w-fixed-cols*l.sepW-2*l.spark-2, 3)
	return l
}

// header is the column titles, aligned with the rows.
func (l fleetLayout) header(st *Styles) string {
	cells := []string{
		strings.Repeat(" ", l.markerW) + pad("TARGET", l.name),
		pad("KIND", l.kind),
	}
	if l.showRegion {
		cells = append(cells, pad("REGION", l.region))
	}
	split, errs, lat := "SPLIT (canary)", "5xx rate (canary)", "p99 latency (canary)"
	if !l.bothSides {
		split, errs, lat = "CANARY", "5xx", "p99"
	}
	cells = append(cells,
		pad(split, l.gauge+5),
		pad(errs, l.spark+1+l.errVal),
		pad(lat, l.spark+1+l.latVal),
		pad("VERDICT", l.verdict),
	)
	if l.showAuto {
		cells = append(cells, pad("AUTOPILOT", l.auto))
	}
	cells = append(cells, "ALARMS")
	return trunc(st.Dim.Render(strings.Join(cells, " ")), l.width)
}

// pad fits plain text to exactly w cells.
func pad(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if n := visibleWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return trunc(s, w)
}

// padStyled pads an already styled string to w cells.
func padStyled(s string, w int) string {
	s = trunc(s, w)
	if n := visibleWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// renderRow draws one target's row (without the cursor marker).
func renderRow(st *Styles, l fleetLayout, s model.Snapshot) string {
	t := s.Target
	kind := string(t.Kind)
	if t.Kind == model.KindCodeDeploy {
		kind = "cdeploy"
	}
	cells := []string{
		padStyled(st.Bold.Render(t.Name), l.name),
		pad(kind, l.kind),
	}
	if l.showRegion {
		cells = append(cells, pad(t.Region, l.region))
	}
	cells = append(cells, rowGauge(st, l, s), rowSignal(st, l, s, false), rowSignal(st, l, s, true),
		padStyled(rowVerdict(st, s), l.verdict))
	if l.showAuto {
		cells = append(cells, padStyled(rowAutopilot(st, s), l.auto))
	}
	cells = append(cells, trunc(rowAlarms(st, s), l.alarms))
	return strings.Join(cells, " ")
}

// rowGauge is a bar of the canary's share and its percentage; unknown
// routing says so in words.
func rowGauge(st *Styles, l fleetLayout, s model.Snapshot) string {
	w := l.gauge + 5
	switch {
	case s.Busy != "":
		return padStyled(st.Warn.Render("⟳ "+shorten(s.Busy, w-2)), w)
	case !s.SplitKnown:
		return padStyled(st.Banner.Render("? UNKNOWN"), w)
	case s.Drift != nil:
		return padStyled(st.Banner.Render("DRIFT → "+pct(s.Split.CanaryPercent())), w)
	}
	p := s.Split.CanaryPercent()
	filled := int(math.Round(p / 100 * float64(l.gauge)))
	if p > 0 && filled == 0 {
		filled = 1 // a canary with any traffic never looks like none
	}
	filled = min(filled, l.gauge)
	bar := st.Canary.Render(strings.Repeat("█", filled)) + st.Stable.Render(strings.Repeat("░", l.gauge-filled))
	return bar + " " + fmt.Sprintf("%4s", pct(p))
}

// rowSignal is the canary's sparkline of one signal over the window, on a
// scale shared with stable, and the newest values in words.
func rowSignal(st *Styles, l fleetLayout, s model.Snapshot, latency bool) string {
	valW := l.errVal
	if latency {
		valW = l.latVal
	}
	w := l.spark + 1 + valW
	if s.Signals[model.Canary] == nil && s.Signals[model.Stable] == nil {
		msg := "no data"
		if s.MetricsErr != "" {
			return padStyled(st.Bad.Render("✗ metrics"), w)
		}
		return padStyled(st.Dim.Render(msg), w)
	}
	from, to := s.Now.Add(-fleetWindow), s.Now
	series := func(side model.Side) []model.Point {
		sig := s.Signals[side]
		if sig == nil {
			return nil
		}
		if latency {
			return inWindow(sig[model.LatencyP99], from, to)
		}
		return inWindow(model.ErrorRate(sig[model.Requests], sig[model.Errors5xx]), from, to)
	}
	ca, stb := series(model.Canary), series(model.Stable)
	// Scaled so that a canary like stable sits mid-height and one twice as
	// bad fills the cell: a healthy row must not look alarming.
	top := 2.0
	if latency {
		top = 10
	}
	for _, p := range ca {
		top = math.Max(top, p.V)
	}
	for _, p := range stb {
		top = math.Max(top, 2*p.V)
	}
	line := st.Canary.Render(sparkline(ca, from, to, l.spark, top))
	last := func(pts []model.Point) (float64, bool) {
		if len(pts) == 0 {
			return 0, false
		}
		return pts[len(pts)-1].V, true
	}
	cv, cok := last(ca)
	sv, sok := last(stb)
	var val string
	switch {
	case !cok:
		val = st.Dim.Render("—")
	case latency && l.bothSides && sok:
		val = fmt.Sprintf("%.0f vs %.0f ms", cv, sv)
	case latency:
		val = fmt.Sprintf("%.0fms", cv)
	case l.bothSides && sok:
		val = fmt.Sprintf("%.1f%% vs %.1f%%", cv, sv)
	default:
		val = fmt.Sprintf("%.1f%%", cv)
	}
	if cok && sok && worse(cv, sv, latency) {
		val = st.Warn.Render(val)
	}
	return line + " " + padStyled(val, valW)
}

// worse flags a canary value well above stable's, so the eye finds it.
func worse(canary, stable float64, latency bool) bool {
	if latency {
		return canary > 1.5*stable && canary-stable > 20
	}
	return canary > 2*stable && canary-stable > 0.5
}

func rowVerdict(st *Styles, s model.Snapshot) string {
	v := s.Verdict
	switch {
	case v == nil:
		return st.Dim.Render("… wait")
	case v.Overall == model.VerdictFail:
		return st.Bad.Render("✗ FAIL")
	case v.Overall == model.VerdictPass:
		return st.OK.Render("✓ PASS")
	}
	return st.Warn.Render("… INSUF")
}

func rowAutopilot(st *Styles, s model.Snapshot) string {
	a := s.Autopilot
	if a == nil {
		return st.Dim.Render("no plan")
	}
	n := len(a.Plan.Steps)
	switch {
	case a.State.Done && a.Decision.Action == model.PlanRollback:
		return st.Bad.Render("rolled back")
	case a.State.Done:
		return st.OK.Render("done")
	case a.State.Paused:
		return st.Warn.Render(fmt.Sprintf("paused %d/%d", a.State.Step+1, n))
	case !a.State.Started():
		return fmt.Sprintf("auto 0/%d", n)
	}
	return fmt.Sprintf("auto %d/%d", a.State.Step+1, n)
}

// rowAlarms leads with the alarms that fire, by name; a quiet row says how
// many alarms are watched.
func rowAlarms(st *Styles, s model.Snapshot) string {
	if s.AlarmsErr != "" && len(s.Alarms) == 0 {
		return st.Bad.Render("✗ " + shorten(s.AlarmsErr, 30))
	}
	var firing, missing []string
	for _, a := range s.Alarms {
		switch a.State {
		case model.AlarmAlarm:
			firing = append(firing, a.Name)
		case model.AlarmMissing:
			missing = append(missing, a.Name)
		}
	}
	switch {
	case len(firing) > 0:
		return st.Bad.Render(fmt.Sprintf("● %d ALARM: %s", len(firing), strings.Join(firing, ", ")))
	case len(missing) > 0:
		return st.Warn.Render(fmt.Sprintf("? %d missing", len(missing)))
	case len(s.Alarms) == 0:
		return st.Dim.Render("—")
	}
	return st.OK.Render(fmt.Sprintf("ok %d", len(s.Alarms)))
}

// rowText is what / matches against: the words a row shows.
func rowText(s model.Snapshot) string {
	parts := []string{s.Target.Name, string(s.Target.Kind), s.Target.Region}
	if v := s.Verdict; v != nil {
		parts = append(parts, string(v.Overall))
	}
	for _, a := range s.Alarms {
		parts = append(parts, a.Name, string(a.State))
	}
	if !s.SplitKnown {
		parts = append(parts, "unknown")
	}
	if s.Drift != nil {
		parts = append(parts, "drift")
	}
	return strings.ToLower(strings.Join(parts, " "))
}
