package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/perch-dev/perch/model"
)

func TestResultLine(t *testing.T) {
	st := NewStyles(asciiRenderer())
	s10 := model.Split{StableWeight: 90, CanaryWeight: 10}
	s25 := model.Split{StableWeight: 75, CanaryWeight: 25}
	cases := []struct {
		r    model.Result
		want string
	}{
		{model.Result{Intent: model.Intent{Kind: model.StepUp}, Outcome: model.OutcomeOK, From: s10, To: s25, Verified: true},
			"✓ shift 10% → 25% verified"},
		{model.Result{Intent: model.Intent{Kind: model.StepUp}, Outcome: model.OutcomeOK, From: s10, To: s25},
			"✓ shift 10% → 25% not verified"},
		{model.Result{Intent: model.Intent{Kind: model.Rollback}, Outcome: model.OutcomeRefused, From: s25, To: s25,
			Err: "split changed since you looked (10% → 25%)"},
			"✗ refused: split changed since you looked (10% → 25%) (rollback)"},
		{model.Result{Intent: model.Intent{Kind: model.Promote}, Outcome: model.OutcomeFailed, From: s25, To: s25,
			Err: "modify rule: throttled", Warnings: []string{"stable has 0 healthy targets"}},
			"✗ failed: modify rule: throttled (promote) · traffic now: canary 25% ⚠ stable has 0 healthy targets"},
	}
	for _, c := range cases {
		if got := ansi.Strip(resultLine(&st, c.r)); got != c.want {
			t.Errorf("resultLine = %q\n want %q", got, c.want)
		}
	}
}

func TestConfirmRechecksBeforeSending(t *testing.T) {
	m, eng := sized(healthySnapshot(), Options{})
	press(m, "r")
	u := unknownSnapshot()
	m.Update(snapshotMsg{u})
	if cmd := press(m, "y"); cmd != nil {
		run(t, m, cmd)
	}
	if len(eng.intents()) != 0 {
		t.Fatal("confirmed an intent after the traffic state became unknown")
	}
	if !strings.Contains(m.status, "nothing was sent") {
		t.Errorf("status = %q", m.status)
	}
}

func TestCapacityWarning(t *testing.T) {
	h := func(st, ca model.Health) [2]model.Health { return [2]model.Health{st, ca} }
	cases := []struct {
		h    [2]model.Health
		want string
	}{
		{h(model.Health{Healthy: 3}, model.Health{Healthy: 3}), ""},
		{h(model.Health{Unhealthy: 2}, model.Health{Healthy: 3}), "stable has 0 healthy targets"},
		{h(model.Health{}, model.Health{Healthy: 3}), "stable has 0 healthy targets"},
		{h(model.Health{Healthy: 1}, model.Health{Healthy: 3}), "stable has fewer healthy targets (1) than the canary (3)"},
		{h(model.Health{}, model.Health{}), ""}, // no health data (Lambda): nothing to say
	}
	for _, c := range cases {
		if got := capacityWarning(model.KindALB, c.h, model.Stable, model.Canary); got != c.want {
			t.Errorf("capacityWarning(%+v) = %q, want %q", c.h, got, c.want)
		}
	}
}

// A reused chart canvas must draw exactly what a fresh one draws, whatever
// it drew before (axis label widths and ranges change between snapshots).
func TestChartReuseMatchesFresh(t *testing.T) {
	reused, _ := newTestModel(errorSpikeSnapshot(), Options{})
	screen(t, reused, 200, 50)
	press(reused, "]", "[", "[")
	reused.Update(snapshotMsg{healthySnapshot()})
	fresh, _ := newTestModel(healthySnapshot(), Options{})
	press(fresh, "[")
	if a, b := screen(t, reused, 200, 50), screen(t, fresh, 200, 50); a != b {
		t.Errorf("reused canvas drew differently:\n%s\n--- fresh ---\n%s", a, b)
	}
}
