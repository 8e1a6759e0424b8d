package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/perch-dev/perch/model"
)

// renderChrome draws the header, column titles and status line.
func (m *FleetModel) renderChrome() {
	if m.width <= 0 {
		return
	}
	st := m.st
	var fail, pass, insuf, alarm, unknown, running int
	for _, s := range m.snaps {
		switch {
		case s.Verdict == nil:
		case s.Verdict.Overall == model.VerdictFail:
			fail++
		case s.Verdict.Overall == model.VerdictPass:
			pass++
		default:
			insuf++
		}
		for _, a := range s.Alarms {
			if a.State == model.AlarmAlarm {
				alarm++
				break
			}
		}
		if !s.SplitKnown {
			unknown++
		}
		if s.Autopilot != nil && s.Autopilot.Running {
			running++
		}
	}
	brand := brandLine(&st, "perch fleet", m.opts.Title, m.opts.ReadOnly)
	if m.production() {
		brand += " " + st.Bad.Render("[PROD]")
	}
	now := clock(&st, m.now)
	// Counts in words when they fit, as glyphs and numbers when not, and
	// the title goes before the counts do: failures must stay on screen
	// however narrow it is.
	plain := st.Brand.Render("perch fleet")
	for _, v := range []struct{ long, title bool }{{true, true}, {false, true}, {false, false}} {
		word := func(w string) string {
			if v.long {
				return " " + w
			}
			return ""
		}
		counts := []string{st.Bold.Render(fmt.Sprintf("%d targets", len(m.engines)))}
		if !v.long {
			counts[0] = st.Bold.Render(fmt.Sprintf("%d:", len(m.engines)))
		}
		if fail > 0 {
			counts = append(counts, st.Bad.Render(fmt.Sprintf("✗ %d", fail)+word("FAIL")))
		}
		if alarm > 0 {
			counts = append(counts, st.Bad.Render(fmt.Sprintf("● %d", alarm)+word("ALARM")))
		}
		if unknown > 0 {
			counts = append(counts, st.Banner.Render(fmt.Sprintf("? %d", unknown)+word("UNKNOWN")))
		}
		counts = append(counts, st.OK.Render(fmt.Sprintf("✓ %d", pass)+word("PASS")), st.Warn.Render(fmt.Sprintf("… %d", insuf)+word("INSUF")))
		if running > 0 && v.long {
			counts = append(counts, fmt.Sprintf("%d on autopilot", running))
		}
		b := brand
		if !v.title {
			b = plain
		}
		m.head = strings.Join([]string{b, strings.Join(counts, "  "), now}, st.Sep)
		if visibleWidth(m.head) <= m.width {
			break
		}
	}
	m.head = trunc(m.head, m.width)
	m.colHead = m.layout.header(&st)
	m.statusLine = trunc(m.costLine(), m.width)
}

// costLine is the poller's figure: calls per poll against the 500-query
// limit, and what it costs. A narrow screen gets the short form.
func (m *FleetModel) costLine() string {
	s, st := m.status, m.st
	if s.Polls == 0 {
		return st.Dim.Render("metrics: first poll…")
	}
	failed := ""
	if s.Failed > 0 {
		failed = st.Bad.Render(fmt.Sprintf("✗ %d failed", s.Failed))
	}
	long := []string{
		fmt.Sprintf("GetMetricData %d call%s/poll (%s metrics, %s datapoints)", s.Last.Calls, plural(s.Last.Calls), num(float64(s.Last.Metrics)), num(float64(s.Last.Datapoints))),
		fmt.Sprintf("CloudWatch ≈$%.2f/h", s.CostPerHour),
	}
	short := []string{
		fmt.Sprintf("GMD %d call%s/poll, %s metrics", s.Last.Calls, plural(s.Last.Calls), num(float64(s.Last.Metrics))),
		fmt.Sprintf("≈$%.2f/h", s.CostPerHour),
	}
	if failed != "" {
		long, short = append(long, failed), append(short, failed)
	}
	if s.APICallsPerHour > 0 {
		long = append(long, fmt.Sprintf("AWS %s calls/min%s", num(s.APICallsPerHour/60), byService(s.CallsPerMinute)))
		short = append(short, fmt.Sprintf("AWS %s/min", num(s.APICallsPerHour/60)))
	}
	long = append(long, "metrics "+hms(s.LastPoll)+st.Dim.Render(" next "+hms(s.NextPoll)))
	short = append(short, st.Dim.Render("next "+hms(s.NextPoll)))
	if line := strings.Join(long, st.Sep); visibleWidth(line) <= m.width {
		return line
	}
	return joinFit(short, st.Sep, m.width)
}

// byService is " (elbv2 2 · cloudwatch 15)": each service's calls a
// minute, busiest first, so the one nearest its limit is in sight.
func byService(per map[string]float64) string {
	if len(per) == 0 {
		return ""
	}
	names := make([]string, 0, len(per))
	for k, v := range per {
		if v > 0 {
			names = append(names, k)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		if per[names[i]] != per[names[j]] {
			return per[names[i]] > per[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + " " + num(per[n])
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, " · ") + ")"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// production reports whether any target's account is production by the
// options' pattern (which the caller also matches against profiles).
func (m *FleetModel) production() bool {
	p := m.opts.Production
	if p == nil {
		return false
	}
	for _, s := range m.snaps {
		if p(s.Identity.Account) {
			return true
		}
	}
	return false
}
