package ui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// BenchmarkFleetView100_200x50 is the fleet view's per-frame cost with 100
// targets: View only joins cached rows.
func BenchmarkFleetView100_200x50(b *testing.B) {
	m, _ := newTestFleetView(100)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkFleetRedraw100_200x50 is the cost of a poll that changed every
// one of 100 targets: each row is drawn again (split gauge, two
// sparklines over 30 minutes, verdict, alarms), then the frame.
func BenchmarkFleetRedraw100_200x50(b *testing.B) {
	m, f := newTestFleetView(100)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range f.engines {
			s := e.Snapshot()
			s.Seq++
			e.publish(s)
		}
		m.Update(fleetStatusMsg{f.Status()})
		_ = m.View()
	}
}

// BenchmarkFleetCockpitView200x50 is a frame of a cockpit opened from the
// fleet view: the fleet adds nothing to the cockpit's own View.
func BenchmarkFleetCockpitView200x50(b *testing.B) {
	m, _ := newTestFleetView(100)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	m.Update(keyMsg("enter"))
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkFleetRedraw500_200x50 is a poll that changed every one of 500
// targets: only the rows on screen (45 at 200x50) are drawn again, the
// rest when they scroll into view.
func BenchmarkFleetRedraw500_200x50(b *testing.B) {
	m, f := newTestFleetView(500)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range f.engines {
			s := e.Snapshot()
			s.Seq++
			e.publish(s)
		}
		m.Update(fleetStatusMsg{f.Status()})
		_ = m.View()
	}
}

// BenchmarkFleetView500_200x50 is a frame with 500 targets.
func BenchmarkFleetView500_200x50(b *testing.B) {
	m, _ := newTestFleetView(500)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}
