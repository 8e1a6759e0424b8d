package audit

import "github.com/perch-dev/perch/model"

// PendingIntents returns the intents in entries that no outcome answers: the
// engine was stopped between deciding to move traffic and recording what
// happened, so the live state must be checked before anything else is done.
func PendingIntents(entries []model.AuditEntry) []model.AuditEntry {
	answered := make(map[int64]bool)
	for _, e := range entries {
		if e.Phase == model.PhaseOutcome && e.IntentSeq != 0 {
			answered[e.IntentSeq] = true
		}
	}
	var pending []model.AuditEntry
	for _, e := range entries {
		if e.Phase == model.PhaseIntent && !answered[e.Seq] {
			pending = append(pending, e)
		}
	}
	return pending
}
