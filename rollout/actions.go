package rollout

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/perch-dev/perch/model"
)

// Execute carries out one intent and says how it ended, with a typed
// reason when it was refused or failed. Moving traffic is: re-read the
// split (and the rollout marker), refuse on drift or an unsettled canary,
// check the receiving side, audit the intent, write, read back, audit the
// outcome. It blocks until done; viewers call it from a background task.
func (e *Engine) Execute(ctx context.Context, in model.Intent) model.Result {
	if in.Kind == model.Pause || in.Kind == model.Resume {
		// Not an action on AWS: it must not wait behind one in flight.
		return e.steerAutopilot(in)
	}
	e.actMu.Lock()
	defer e.actMu.Unlock()

	if in.Actor.ARN == "" {
		in.Actor.ARN = e.Snapshot().Identity.ARN
	}
	res := model.Result{Intent: in}
	switch {
	case e.stopped:
		return e.finish(model.Refused(in, model.ReasonUnsupported, "perch is stopping: nothing sent"))
	case in.Kind == model.ConfirmCanary:
		return e.finish(e.confirmCanary(ctx, in, res))
	}
	return e.finish(e.strategy.execute(ctx, in, res))
}

// move changes the split as in asks.
func (e *Engine) move(ctx context.Context, in model.Intent, res model.Result) model.Result {
	action := in.Kind.Action()
	if why := e.cfg.Router.Target().CanaryUnconfirmed; why != "" {
		return e.refuse(res, model.ReasonCanaryUnconfirmed,
			why+": nothing written until the canary is confirmed (in the cockpit, or with --canary-target-group)")
	}
	e.publish(func(s *model.Snapshot) { s.Busy = fmt.Sprintf("%s: reading the current split", action) })
	fresh, err := e.readFresh(ctx)
	if err != nil {
		return e.refuse(res, model.ReasonUnknownState, "traffic state unknown, nothing written: "+e.cfg.DescribeError(err))
	}
	res.From, res.To = fresh, fresh
	marker, marked, err := e.readMarker(ctx)
	if err != nil {
		return e.refuse(res, model.ReasonMarker, "nothing written: "+e.cfg.DescribeError(err))
	}
	if marked && marker.Canary != fresh.CanaryID {
		return e.refuse(res, model.ReasonCanaryUnconfirmed, fmt.Sprintf(
			"the rollout marker on AWS names %s as the canary (set by %s at %s), but this session has %s: nothing written until the canary is confirmed",
			marker.Canary, orUnknown(marker.By), marker.Started.UTC().Format("15:04:05"), fresh.CanaryID))
	}
	if in.Expected != nil && !in.Expected.SameRouting(fresh) {
		return e.refuse(res, model.ReasonDrift, fmt.Sprintf("split changed since you looked: you saw %s, it is now %s", in.Expected, fresh))
	}
	target, err := in.Target(fresh, e.cfg.Ladder)
	if err != nil {
		// Nothing asked of AWS: not an audited action.
		why := model.ReasonBadRequest
		if in.Kind == model.StepUp || in.Kind == model.StepDown {
			why = model.ReasonLadder
		}
		return model.Refused(res.Intent, why, err.Error())
	}
	if math.Abs(target-fresh.CanaryPercent()) < 0.05 {
		res.Outcome, res.Verified = model.OutcomeOK, true
		res.Warnings = append(res.Warnings, e.nothingToDo(in, fresh, marked))
		return res
	}
	want := fresh.WithCanaryPercent(target)
	res.Warnings = e.capacityWarnings(fresh, want)
	e.publish(func(s *model.Snapshot) {
		s.Busy = fmt.Sprintf("%s: canary %s → %s", action, model.FormatPercent(fresh.CanaryPercent()), model.FormatPercent(target))
	})
	return e.writeSplit(ctx, in, res, fresh, want, e.markerChange(marked, want))
}

// markerStep is what a move does to the rollout marker.
type markerStep int

const (
	markerKeep  markerStep = iota
	markerBegin            // the split leaves rest: a rollout begins
	markerEnd              // the split comes to rest: the rollout ends
)

func (e *Engine) markerChange(marked bool, want model.Split) markerStep {
	switch {
	case e.cfg.Sides == nil:
		return markerKeep
	case !marked && !atRest(want):
		return markerBegin
	case marked && atRest(want):
		return markerEnd
	}
	return markerKeep
}

// writeSplit audits the intent, marks the rollout when one begins,
// writes, reads back, ends the marker when the rollout ends, and audits
// the outcome.
func (e *Engine) writeSplit(ctx context.Context, in model.Intent, res model.Result, fresh, want model.Split, step markerStep) model.Result {
	now := e.cfg.Clock.Now()
	detail := res.Warnings
	switch step {
	case markerBegin:
		detail = append(detail, "a rollout begins: perch marks "+e.cfg.Router.Target().CanaryName+" as its canary on AWS")
	case markerEnd:
		detail = append(detail, "the rollout ends: perch removes its marker")
	}
	intent, err := e.appendAudit(model.AuditEntry{
		Time: now, Actor: in.Actor, Action: in.Kind.Action(), Phase: model.PhaseIntent,
		From: model.Pct(fresh.CanaryPercent()), To: model.Pct(want.CanaryPercent()),
		Reason: in.Reason, Detail: strings.Join(detail, "; "),
	})
	if err != nil {
		// Never move traffic that the log cannot account for.
		return model.Refused(res.Intent, model.ReasonAuditUnavailable, "nothing written: the audit log could not record the intent: "+err.Error())
	}
	outcome := model.AuditEntry{
		Actor: in.Actor, Action: in.Kind.Action(), Phase: model.PhaseOutcome,
		From: model.Pct(fresh.CanaryPercent()), To: model.Pct(want.CanaryPercent()),
		Reason: in.Reason, IntentSeq: intent.Seq,
	}
	if step == markerBegin {
		if err := e.writeMarker(ctx, fresh, in.Actor, now); err != nil {
			res.Outcome, res.Reason = model.OutcomeRefused, model.ReasonMarker
			res.Err = "nothing written: " + e.cfg.DescribeError(err)
			return e.recordOutcome(res, outcome)
		}
	}
	_, writeErr := call(ctx, e.cfg.CallTimeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, e.cfg.Router.WriteSplit(ctx, want)
	})
	back, readErr := call(ctx, e.cfg.CallTimeout, e.cfg.Router.ReadSplit)
	res = e.judgeWrite(res, want, back, writeErr, readErr)
	e.noteWritten(fresh, back, readErr)
	if readErr == nil {
		outcome.To = model.Pct(back.CanaryPercent())
	}
	if res.Verified && step == markerEnd {
		if err := call0(ctx, e.cfg.CallTimeout, e.cfg.Sides.ClearMarker); err != nil {
			res.Warnings = append(res.Warnings, "the rollout ended but its marker could not be removed: "+e.cfg.DescribeError(err))
		}
	}
	return e.recordOutcome(res, outcome)
}

// judgeWrite says how a write ended from its error and the read-back.
func (e *Engine) judgeWrite(res model.Result, want, back model.Split, writeErr, readErr error) model.Result {
	switch {
	case readErr != nil:
		res.Outcome, res.Reason = model.OutcomeFailed, model.ReasonReadBackFailed
		res.Err = "could not read the split back: " + e.cfg.DescribeError(readErr)
		if writeErr != nil {
			res.Reason = model.ReasonWriteFailed
			res.Err = "write failed: " + e.cfg.DescribeError(writeErr) + "; " + res.Err
		}
		res.Err += ": traffic state unknown"
	case writeErr != nil:
		res.Outcome, res.Reason, res.To = model.OutcomeFailed, model.ReasonWriteFailed, back
		res.Err = fmt.Sprintf("write failed: %s; traffic is at %s", e.cfg.DescribeError(writeErr), back)
	case !back.SameRouting(want):
		res.Outcome, res.Reason, res.To = model.OutcomeFailed, model.ReasonReadBackMismatch, back
		res.Err = fmt.Sprintf("read back %s, not the %s asked for", back, want)
	default:
		res.Outcome, res.To, res.Verified = model.OutcomeOK, back, true
	}
	return res
}

// noteWritten records what the read-back after a write showed.
func (e *Engine) noteWritten(fresh, back model.Split, readErr error) {
	done := e.cfg.Clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if readErr != nil {
		e.snap.SplitKnown, e.snap.SplitErr = false, e.cfg.DescribeError(readErr)
		return
	}
	if !back.SameRouting(fresh) {
		e.splitSince = done
	}
	e.lastSeen, e.haveSeen = back, true
	e.snap.Split, e.snap.SplitKnown, e.snap.SplitErr, e.snap.SplitAt = back, true, "", done
	e.snap.Drift = nil
}

// recordOutcome writes the outcome entry for res. An action whose outcome
// the log cannot hold is not done: it fails, saying where traffic is.
func (e *Engine) recordOutcome(res model.Result, entry model.AuditEntry) model.Result {
	entry.Time = e.cfg.Clock.Now()
	entry.Outcome, entry.Verified = res.Outcome, res.Verified
	if res.Err != "" {
		entry.Detail = res.Err
	}
	if _, err := e.appendAudit(entry); err != nil {
		where := "traffic state unknown"
		if res.To.StableID != "" || res.To.CanaryID != "" {
			where = "traffic is at " + res.To.String()
		}
		res.Outcome, res.Reason = model.OutcomeFailed, model.ReasonOutcomeUnlogged
		res.Err = fmt.Sprintf("the outcome could not be written to the audit log (%v); %s", err, where)
		if entry.Outcome == model.OutcomeOK && res.Verified {
			res.Err += " (verified)"
		}
	}
	return res
}

// readFresh reads the split for an action and notes any drift.
func (e *Engine) readFresh(ctx context.Context) (model.Split, error) {
	fresh, err := call(ctx, e.cfg.CallTimeout, e.cfg.Router.ReadSplit)
	now := e.cfg.Clock.Now()
	if err != nil {
		msg := e.cfg.DescribeError(err)
		e.publish(func(s *model.Snapshot) { s.SplitKnown, s.SplitErr = false, msg })
		return model.Split{}, err
	}
	e.mu.Lock()
	drift := e.noticeSplitLocked(fresh, now)
	e.snap.Split, e.snap.SplitKnown, e.snap.SplitErr, e.snap.SplitAt = fresh, true, "", now
	if drift != nil {
		e.snap.Drift = drift
	}
	e.mu.Unlock()
	if drift != nil {
		e.recordDrift(*drift)
	}
	return fresh, nil
}

// nothingToDo explains an intent that asks for the split as it is.
func (e *Engine) nothingToDo(in model.Intent, fresh model.Split, marked bool) string {
	msg := fmt.Sprintf("canary already at %s: nothing to do", model.FormatPercent(fresh.CanaryPercent()))
	t := e.cfg.Router.Target()
	if in.Kind == model.Rollback && !marked && atRest(fresh) && t.CanarySource == model.CanaryAtRest {
		msg += fmt.Sprintf(" (no rollout is under way: all traffic is on %s, and with no rollout marker the side at 0%%, %s, is the next rollout's canary)",
			t.StableName, t.CanaryName)
	}
	return msg
}

func (e *Engine) refuse(res model.Result, why model.Reason, msg string) model.Result {
	res.Outcome, res.Reason, res.Err = model.OutcomeRefused, why, msg
	e.appendAudit(model.AuditEntry{
		Actor:   res.Intent.Actor,
		Action:  res.Intent.Kind.Action(),
		Phase:   model.PhaseOutcome,
		Outcome: model.OutcomeRefused,
		From:    pctOf(res.From),
		Reason:  res.Intent.Reason,
		Detail:  msg,
	})
	return res
}

func (e *Engine) finish(res model.Result) model.Result {
	e.publish(func(s *model.Snapshot) {
		s.Busy = ""
		r := res
		s.Last = &r
	})
	return res
}

// capacityWarnings looks at the side about to receive more traffic: with
// no healthy targets, or with more load per healthy target than any side
// carries now, it says so. Rollbacks onto an unscaled stable have caused
// outages elsewhere.
func (e *Engine) capacityWarnings(from, to model.Split) []string {
	var warn []string
	if secs := e.cfg.Router.Target().StickinessSeconds; secs > 0 {
		warn = append(warn, fmt.Sprintf("stickiness is on: clients pinned by their cookie stay where they are for up to %ds", secs))
	}
	if e.cfg.Health == nil {
		return warn
	}
	health := e.Snapshot().Health
	recv, newShare := model.Canary, to.CanaryPercent()
	if to.CanaryPercent() < from.CanaryPercent() {
		recv, newShare = model.Stable, to.StablePercent()
	}
	h := health[recv]
	// The heaviest per-target load either side carries now is known to be
	// served; more than half again above it is a guess worth a warning.
	var busiest float64
	for side, share := range map[model.Side]float64{model.Stable: from.StablePercent(), model.Canary: from.CanaryPercent()} {
		if n := health[side].Healthy; n > 0 && share/float64(n) > busiest {
			busiest = share / float64(n)
		}
	}
	switch {
	case health[model.Stable].Total() == 0 && health[model.Canary].Total() == 0:
		// Health unknown: say nothing rather than guess.
	case h.Healthy == 0:
		what := "no healthy targets"
		if e.cfg.Router.Target().Kind == model.KindLambda {
			what = "a version that is not Active"
		}
		warn = append(warn, fmt.Sprintf("%s has %s and is about to get %s of traffic", recv, what, model.FormatPercent(newShare)))
	case e.cfg.Router.Target().Kind != model.KindALB:
		// A Lambda version's health is its state, not a count of hosts:
		// per-host load means nothing there.
	case busiest > 0 && newShare/float64(h.Healthy) > 1.5*busiest:
		warn = append(warn, fmt.Sprintf("%s may be too small: %d healthy targets for %s of traffic, %.1fx the busiest per-target load now",
			recv, h.Healthy, model.FormatPercent(newShare), newShare/float64(h.Healthy)/busiest))
	}
	return warn
}

func pctOf(s model.Split) *float64 {
	if s.StableID == "" && s.CanaryID == "" {
		return nil
	}
	return model.Pct(s.CanaryPercent())
}

// atRest reports whether all of a split's traffic is on one side.
func atRest(s model.Split) bool {
	return (s.StableWeight == 0) != (s.CanaryWeight == 0)
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown operator"
	}
	return s
}

func call0(ctx context.Context, timeout time.Duration, f func(context.Context) error) error {
	_, err := call(ctx, timeout, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}
