package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/perch-dev/perch/model"
)

// alarms is the strip of watched CloudWatch alarms, worst first.
type alarms struct {
	stale
	st       *Styles
	width    int
	maxLines int
	snap     model.Snapshot
	view     string
	lines    int
}

func (a *alarms) SetSize(w, h int) {
	set(&a.stale, &a.width, w)
	set(&a.stale, &a.maxLines, max(1, h))
}

func (a *alarms) SetSnapshot(s model.Snapshot) { a.snap = s; a.invalidate() }

func (a *alarms) View() string { return a.view }

// Height is the lines the strip uses now (at most its size), as of its
// last drawing: the layout draws the strip before it asks.
func (a *alarms) Height() int { return a.lines }

func severity(s model.AlarmState) int {
	switch s {
	case model.AlarmAlarm:
		return 0
	case model.AlarmMissing:
		return 1
	case model.AlarmInsufficientData:
		return 2
	case model.AlarmOK:
		return 3
	}
	return 1
}

func (a *alarms) render() {
	st := a.st
	prefix := st.Title.Render("alarms ")
	var items []string
	if a.snap.AlarmsErr != "" {
		items = append(items, st.Bad.Render("✗ read failed: "+shorten(a.snap.AlarmsErr, 60)))
	}
	list := slices.Clone(a.snap.Alarms)
	slices.SortStableFunc(list, func(x, y model.Alarm) int { return cmp.Compare(severity(x.State), severity(y.State)) })
	for _, al := range list {
		items = append(items, a.item(al))
	}
	if len(items) == 0 {
		items = append(items, st.Dim.Render("none configured"))
	}
	// Pack items into at most maxLines lines; never cut an item in half
	// except when it alone is wider than the line.
	var lines []string
	cur, curW := prefix, len("alarms ")
	indent := strings.Repeat(" ", curW)
	for i, it := range items {
		w := visibleWidth(it)
		if curW > len(indent) && curW+2+w > a.width {
			if len(lines)+1 == a.maxLines {
				cur += st.Dim.Render(fmt.Sprintf("  +%d more", len(items)-i))
				break
			}
			lines = append(lines, cur)
			cur, curW = indent, len(indent)
		}
		if curW > len(indent) {
			cur += "  "
			curW += 2
		}
		cur += it
		curW += w
	}
	lines = append(lines, cur)
	for i := range lines {
		lines[i] = trunc(lines[i], a.width)
	}
	a.lines = len(lines)
	a.view = strings.Join(lines, "\n")
}

func (a *alarms) item(al model.Alarm) string {
	st := a.st
	switch al.State {
	case model.AlarmOK:
		return st.OK.Render("● OK") + " " + shorten(al.Name, nameWidth)
	case model.AlarmAlarm:
		out := st.Bad.Render("✗ ALARM") + " " + st.Bold.Render(shorten(al.Name, nameWidth))
		if al.Reason != "" {
			out += ": " + shorten(al.Reason, 50)
		}
		return out
	case model.AlarmInsufficientData:
		return st.Unknown.Render("? INSUFFICIENT_DATA") + " " + shorten(al.Name, nameWidth)
	case model.AlarmMissing:
		return st.Warn.Render("⊘ MISSING") + " " + shorten(al.Name, nameWidth)
	}
	return st.Unknown.Render("? "+string(al.State)) + " " + shorten(al.Name, nameWidth)
}
