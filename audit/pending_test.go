package audit

import (
	"slices"
	"testing"

	"github.com/perch-dev/perch/model"
)

func TestPendingIntents(t *testing.T) {
	entries := []model.AuditEntry{
		{Seq: 1, Phase: model.PhaseIntent},
		{Seq: 2, Phase: model.PhaseOutcome, IntentSeq: 1, Outcome: model.OutcomeOK},
		{Seq: 3, Phase: model.PhaseIntent},
		{Seq: 4, Phase: model.PhaseEvent},
		{Seq: 5, Phase: model.PhaseIntent},
		{Seq: 6, Phase: model.PhaseOutcome, IntentSeq: 5, Outcome: model.OutcomeFailed},
		{Seq: 7, Phase: model.PhaseOutcome, IntentSeq: 0}, // answers nothing
		{Seq: 8, Phase: model.PhaseIntent},
		{Seq: 9, Phase: model.PhaseEvent, IntentSeq: 8}, // an event is no outcome
	}
	var got []int64
	for _, e := range PendingIntents(entries) {
		got = append(got, e.Seq)
	}
	if want := []int64{3, 8}; !slices.Equal(got, want) {
		t.Fatalf("pending %v, want %v", got, want)
	}
	if PendingIntents(nil) != nil {
		t.Fatal("pending of nothing is not empty")
	}
}
