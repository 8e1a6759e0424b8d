package ui

import (
	"maps"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/perch-dev/perch/model"
)

// renderCounts is how many times each component has drawn itself (for the
// charts, the expensive part: the charts themselves).
func renderCounts(m *Model) map[string]int {
	return map[string]int{
		"header": m.header.renders, "gauge": m.gauge.renders, "verdict": m.verdict.renders,
		"alarms": m.alarms.renders, "audit": m.audit.renders, "charts": m.charts.redraws,
	}
}

// TestOneRenderPerUpdate: however many setters one message runs, each
// component draws at most once, and only the components the message
// changed draw at all. A snapshot used to draw the verdict line three
// times, and one that changed the gauge's height drew the charts twice.
func TestOneRenderPerUpdate(t *testing.T) {
	m, _ := newTestModel(errorSpikeSnapshot(), Options{})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	all := map[string]int{"header": 1, "gauge": 1, "verdict": 1, "alarms": 1, "audit": 1, "charts": 1}
	next := errorSpikeSnapshot()
	next.Seq++
	drift := errorSpikeSnapshot() // a banner more: the gauge grows, the charts shrink
	drift.Seq = next.Seq + 1
	drift.Drift = driftSnapshot().Drift
	refused := model.Result{Intent: model.Intent{Kind: model.StepUp}, Outcome: model.OutcomeRefused, Err: "no"}
	steps := []struct {
		name string
		msg  tea.Msg
		want map[string]int // components not named draw nothing
	}{
		{"resize", tea.WindowSizeMsg{Width: 120, Height: 40}, all},
		{"snapshot", snapshotMsg{next}, all},
		{"snapshot that moves the layout", snapshotMsg{drift}, all},
		{"result", resultMsg{refused}, map[string]int{"verdict": 1}},
		{"clock", clockMsg{fixNow.Add(3e9)}, map[string]int{"header": 1}},
		{"focus", keyMsg("tab"), map[string]int{"audit": 1}},
		{"audit scroll", keyMsg("down"), nil}, // four entries fit: nothing scrolls
		{"window", keyMsg("]"), map[string]int{"charts": 1}},
		{"a frame", nil, nil},
	}
	for _, s := range steps {
		before := renderCounts(m)
		if s.msg != nil {
			m.Update(s.msg)
		}
		_ = m.View()
		got := renderCounts(m)
		for k := range got {
			got[k] -= before[k]
		}
		want := map[string]int{"header": 0, "gauge": 0, "verdict": 0, "alarms": 0, "audit": 0, "charts": 0}
		maps.Copy(want, s.want)
		if !maps.Equal(got, want) {
			t.Errorf("%s: renders %v, want %v", s.name, got, want)
		}
	}
}
