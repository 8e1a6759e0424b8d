package rollout

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/perch-dev/perch/model"
)

// Execute carries out one intent: re-read the split, refuse on drift,
// check the receiving side, audit the intent, write, read back, audit the
// outcome. It blocks until done; viewers call it from a background task.
func (e *Engine) Execute(ctx context.Context, in model.Intent) model.Result {
	e.actMu.Lock()
	defer e.actMu.Unlock()

	res := model.Result{Intent: in}
	if in.Actor.ARN == "" {
		in.Actor.ARN = e.Snapshot().Identity.ARN
		res.Intent = in
	}
	action := in.Kind.Action()

	if e.cfg.Deployment != nil {
		return e.finish(e.executeDeployment(ctx, in, res))
	}
	if in.Kind == model.Continue {
		res.Outcome, res.Err = model.OutcomeRefused, "continue is for CodeDeploy deployments that wait; this target has none"
		return e.finish(res)
	}
	if e.cfg.ReadOnly {
		return e.finish(e.refuse(res, "read-only mode: perch will not change traffic"))
	}

	e.publish(func(s *model.Snapshot) { s.Busy = fmt.Sprintf("%s: reading the current split", action) })

	fresh, err := call(ctx, e.cfg.CallTimeout, e.cfg.Router.ReadSplit)
	now := e.cfg.Clock.Now()
	if err != nil {
		msg := e.cfg.DescribeError(err)
		e.publish(func(s *model.Snapshot) { s.SplitKnown, s.SplitErr = false, msg })
		return e.finish(e.refuse(res, "traffic state unknown, nothing written: "+msg))
	}
	res.From, res.To = fresh, fresh

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

	if in.Expected != nil && !in.Expected.SameRouting(fresh) {
		return e.finish(e.refuse(res, fmt.Sprintf("split changed since you looked: you saw %s, it is now %s", in.Expected, fresh)))
	}

	target, err := in.Target(fresh, e.cfg.Ladder)
	if err != nil {
		res.Outcome, res.Err = model.OutcomeRefused, err.Error()
		return e.finish(res) // nothing asked of AWS: not an audited action
	}
	if math.Abs(target-fresh.CanaryPercent()) < 0.05 {
		res.Outcome, res.Verified = model.OutcomeOK, true
		res.Warnings = append(res.Warnings, fmt.Sprintf("canary already at %s: nothing to do", model.FormatPercent(target)))
		return e.finish(res)
	}
	want := fresh.WithCanaryPercent(target)
	res.Warnings = e.capacityWarnings(fresh, want)

	e.publish(func(s *model.Snapshot) {
		s.Busy = fmt.Sprintf("%s: canary %s → %s", action, model.FormatPercent(fresh.CanaryPercent()), model.FormatPercent(target))
	})

	intent, err := e.appendAudit(model.AuditEntry{
		Time:   now,
		Actor:  in.Actor,
		Action: action,
		Phase:  model.PhaseIntent,
		From:   model.Pct(fresh.CanaryPercent()),
		To:     model.Pct(target),
		Reason: in.Reason,
		Detail: strings.Join(res.Warnings, "; "),
	})
	if err != nil {
		// Never move traffic that the log cannot account for.
		res.Outcome, res.Err = model.OutcomeRefused, "nothing written: "+err.Error()
		return e.finish(res)
	}

	_, writeErr := call(ctx, e.cfg.CallTimeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, e.cfg.Router.WriteSplit(ctx, want)
	})
	back, readErr := call(ctx, e.cfg.CallTimeout, e.cfg.Router.ReadSplit)
	done := e.cfg.Clock.Now()

	outcome := model.AuditEntry{
		Time: done, Actor: in.Actor, Action: action, Phase: model.PhaseOutcome,
		From: model.Pct(fresh.CanaryPercent()), To: model.Pct(target),
		Reason: in.Reason, IntentSeq: intent.Seq,
	}
	switch {
	case readErr != nil:
		res.Outcome = model.OutcomeFailed
		res.Err = "could not read the split back: " + e.cfg.DescribeError(readErr)
		if writeErr != nil {
			res.Err = "write failed: " + e.cfg.DescribeError(writeErr) + "; " + res.Err
		}
		res.Err += ": traffic state unknown"
	case writeErr != nil:
		res.Outcome, res.To = model.OutcomeFailed, back
		res.Err = fmt.Sprintf("write failed: %s; traffic is at %s", e.cfg.DescribeError(writeErr), back)
	case !back.SameRouting(want):
		res.Outcome, res.To = model.OutcomeFailed, back
		res.Err = fmt.Sprintf("read back %s, not the %s asked for", back, want)
	default:
		res.Outcome, res.To, res.Verified = model.OutcomeOK, back, true
	}
	outcome.Outcome, outcome.Verified, outcome.Detail = res.Outcome, res.Verified, res.Err
	if readErr == nil {
		outcome.To = model.Pct(back.CanaryPercent())
	}

	e.mu.Lock()
	if readErr == nil {
		if !back.SameRouting(fresh) {
			e.splitSince = done
		}
		e.lastSeen, e.haveSeen = back, true
		e.snap.Split, e.snap.SplitKnown, e.snap.SplitErr, e.snap.SplitAt = back, true, "", done
		e.snap.Drift = nil
	} else {
		e.snap.SplitKnown, e.snap.SplitErr = false, e.cfg.DescribeError(readErr)
	}
	e.mu.Unlock()

	if _, err := e.appendAudit(outcome); err != nil {
		res.Warnings = append(res.Warnings, "the outcome could not be written to the audit log: "+err.Error())
	}
	return e.finish(res)
}

func (e *Engine) refuse(res model.Result, why string) model.Result {
	res.Outcome, res.Err = model.OutcomeRefused, why
	e.appendAudit(model.AuditEntry{
		Actor:   res.Intent.Actor,
		Action:  res.Intent.Kind.Action(),
		Phase:   model.PhaseOutcome,
		Outcome: model.OutcomeRefused,
		From:    pctOf(res.From),
		Reason:  res.Intent.Reason,
		Detail:  why,
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
