package ui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// BenchmarkViewCockpit200x50 is the per-frame cost: View only joins cached
// strings.
func BenchmarkViewCockpit200x50(b *testing.B) {
	m, _ := newTestModel(errorSpikeSnapshot(), Options{})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkRedrawAfterSnapshot200x50 is the cost of a new snapshot: every
// component re-renders and the three charts are drawn again.
func BenchmarkRedrawAfterSnapshot200x50(b *testing.B) {
	m, _ := newTestModel(errorSpikeSnapshot(), Options{})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	s := errorSpikeSnapshot()
	b.ReportAllocs()
	for b.Loop() {
		s.Seq++
		m.Update(snapshotMsg{s})
		_ = m.View()
	}
}
