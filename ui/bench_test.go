package ui

import (
	"io"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
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

// BenchmarkRedrawAfterSnapshot200x50TrueColor is the same with colour on,
// as a real terminal would have it.
func BenchmarkRedrawAfterSnapshot200x50TrueColor(b *testing.B) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	m, _ := newTestModel(errorSpikeSnapshot(), Options{Renderer: r})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	s := errorSpikeSnapshot()
	b.ReportAllocs()
	for b.Loop() {
		s.Seq++
		m.Update(snapshotMsg{s})
		_ = m.View()
	}
}

// BenchmarkRedrawAfterLayoutSnapshot200x50 alternates snapshots with and
// without a drift banner: the gauge's height changes with each, so the
// layout resizes the charts as well as giving them new data, and they
// must still be drawn once.
func BenchmarkRedrawAfterLayoutSnapshot200x50(b *testing.B) {
	m, _ := newTestModel(errorSpikeSnapshot(), Options{})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	plain, drift := errorSpikeSnapshot(), errorSpikeSnapshot()
	drift.Drift = driftSnapshot().Drift
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s := plain
		if i%2 == 0 {
			s = drift
		}
		s.Seq = uint64(i)
		m.Update(snapshotMsg{s})
		_ = m.View()
	}
}
