package rollout

import (
	"context"
	"fmt"
	"math"

	"github.com/perch-dev/perch/model"
)

// Reconcile closes intents that a crashed perch left without an outcome:
// it reads the real split and records, for each, whether the write took
// effect. It returns the entries it wrote. With the split unreadable it
// writes nothing and returns the error: the intents stay open for the
// next start.
func (e *Engine) Reconcile(ctx context.Context, pending []model.AuditEntry, actor model.Actor) ([]model.AuditEntry, error) {
	if len(pending) == 0 {
		return nil, nil
	}
	e.actMu.Lock()
	defer e.actMu.Unlock()
	split, err := call(ctx, e.cfg.CallTimeout, e.cfg.Router.ReadSplit)
	if err != nil {
		return nil, fmt.Errorf("reconcile %d open intents: read split: %w", len(pending), err)
	}
	actor.Via = "reconcile"
	var written []model.AuditEntry
	for _, in := range pending {
		// The intent's percentages are its canary's, which may be the
		// other side of the split as this perch sees it.
		now := sidesAs(split, in.Canary).CanaryPercent()
		out := model.AuditEntry{
			Time:      e.cfg.Clock.Now(),
			Actor:     actor,
			Target:    in.Target,
			Action:    in.Action,
			Phase:     model.PhaseOutcome,
			From:      in.From,
			To:        model.Pct(now),
			IntentSeq: in.Seq,
			Canary:    in.Canary,
			Stable:    in.Stable,
		}
		switch {
		case in.To != nil && math.Abs(*in.To-now) < 0.05:
			out.Outcome, out.Verified = model.OutcomeOK, true
			out.Detail = fmt.Sprintf("reconciled after a restart: intent %d took effect, canary is at %s", in.Seq, model.FormatPercent(now))
		case in.From != nil && math.Abs(*in.From-now) < 0.05:
			out.Outcome = model.OutcomeFailed
			out.Detail = fmt.Sprintf("reconciled after a restart: intent %d did not take effect, canary is still at %s", in.Seq, model.FormatPercent(now))
		default:
			out.Outcome = model.OutcomeFailed
			out.Detail = fmt.Sprintf("reconciled after a restart: intent %d's outcome is unknown, canary is now at %s", in.Seq, model.FormatPercent(now))
		}
		entry, err := e.appendAudit(out)
		if err != nil {
			return written, fmt.Errorf("reconcile intent %d: %w", in.Seq, err)
		}
		written = append(written, entry)
	}
	return written, nil
}
