package model

import (
	"strings"
	"testing"
	"time"
)

func TestResolveCanaryNeverReadsTheLowerWeight(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	base := CanaryFacts{IDs: [2]string{"A", "B"}, Names: [2]string{"blue", "green"}}
	with := func(w [2]int, f func(*CanaryFacts)) CanaryFacts {
		c := base
		c.Weights = w
		if f != nil {
			f(&c)
		}
		return c
	}
	cases := []struct {
		name    string
		facts   CanaryFacts
		canary  int
		source  CanarySource
		settled bool
		says    string
	}{
		{"flag at 25/75", with([2]int{25, 75}, func(c *CanaryFacts) { c.Flag = "B" }), 1, CanaryFromFlag, true, ""},
		{"marker at 25/75", with([2]int{25, 75}, func(c *CanaryFacts) { c.Marker = &RolloutMarker{Canary: "B", Started: t0} }), 1, CanaryFromMarker, true, ""},
		{"audit at 50/50", with([2]int{50, 50}, func(c *CanaryFacts) { c.Audit = &AuditCanary{Canary: "B", At: t0, Active: true} }), 1, CanaryFromAudit, true, ""},
		{"ended audit at 50/50", with([2]int{50, 50}, func(c *CanaryFacts) { c.Audit = &AuditCanary{Canary: "B", At: t0} }), 0, CanaryGuessed, false, "guess"},
		{"at rest 100/0", with([2]int{100, 0}, nil), 1, CanaryAtRest, true, ""},
		{"at rest 0/100", with([2]int{0, 100}, nil), 0, CanaryAtRest, true, ""},
		{"at rest ignores an old rollout's log", with([2]int{0, 100}, func(c *CanaryFacts) { c.Audit = &AuditCanary{Canary: "B", At: t0, Active: true} }), 0, CanaryAtRest, true, ""},
		{"nothing at 70/30", with([2]int{70, 30}, nil), 1, CanaryGuessed, false, "guess"},
		{"nothing at 50/50", with([2]int{50, 50}, nil), 0, CanaryGuessed, false, "same weight"},
		{"unreadable marker at rest", with([2]int{100, 0}, func(c *CanaryFacts) { c.MarkerErr = "AccessDenied" }), 1, CanaryGuessed, false, "AccessDenied"},
		{"flag against marker", with([2]int{25, 75}, func(c *CanaryFacts) {
			c.Flag, c.Marker = "A", &RolloutMarker{Canary: "B", Started: t0}
		}), 0, CanaryFromFlag, false, "the marker says green"},
		{"marker naming a stranger", with([2]int{25, 75}, func(c *CanaryFacts) { c.Marker = &RolloutMarker{Canary: "C", Started: t0} }), 0, CanaryGuessed, false, "not one of"},
		{"log older than the marker", with([2]int{25, 75}, func(c *CanaryFacts) {
			c.Marker, c.Audit = &RolloutMarker{Canary: "B", Started: t0}, &AuditCanary{Canary: "A", At: t0.Add(-time.Hour), Active: true}
		}), 1, CanaryFromMarker, true, ""},
		{"log newer than the marker", with([2]int{25, 75}, func(c *CanaryFacts) {
			c.Marker, c.Audit = &RolloutMarker{Canary: "B", Started: t0}, &AuditCanary{Canary: "A", At: t0.Add(time.Hour), Active: true}
		}), 1, CanaryFromMarker, false, "audit log says blue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ResolveCanary(c.facts)
			if got.Canary != c.canary || got.Source != c.source || (got.Unconfirmed == "") != c.settled || !strings.Contains(got.Unconfirmed, c.says) {
				t.Fatalf("got %+v; want canary %d from %s, settled %v, saying %q", got, c.canary, c.source, c.settled, c.says)
			}
		})
	}
}

func TestAuditCanaryOfReadsTheNewestEntryForTheTarget(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	entries := []AuditEntry{
		{Target: "R", Canary: "B", Phase: PhaseOutcome, Outcome: OutcomeOK, From: Pct(10), To: Pct(25), Time: t0},
		{Target: "other", Canary: "X", Phase: PhaseOutcome, Outcome: OutcomeOK, To: Pct(50), Time: t0.Add(time.Minute)},
		{Target: "R", Canary: "B", Phase: PhaseIntent, From: Pct(25), To: Pct(100), Time: t0.Add(2 * time.Minute)},
	}
	// An intent alone is not where traffic is: it was at 25%.
	if got := AuditCanaryOf(entries, "R"); got == nil || got.Canary != "B" || !got.Active {
		t.Fatalf("after an intent: %+v", got)
	}
	entries = append(entries, AuditEntry{Target: "R", Canary: "B", Phase: PhaseOutcome, Outcome: OutcomeOK, From: Pct(25), To: Pct(100), Time: t0.Add(3 * time.Minute)})
	if got := AuditCanaryOf(entries, "R"); got == nil || got.Active {
		t.Fatalf("after a verified promote the rollout has ended: %+v", got)
	}
	if AuditCanaryOf(entries, "none") != nil {
		t.Fatal("a target with no entries has no history")
	}
}
