package rollout

import (
	"context"
	"fmt"
	"time"

	"github.com/perch-dev/perch/model"
)

// readMarker reads the rollout marker; a target without a keeper has none.
func (e *Engine) readMarker(ctx context.Context) (model.RolloutMarker, bool, error) {
	if e.cfg.Sides == nil {
		return model.RolloutMarker{}, false, nil
	}
	var m model.RolloutMarker
	var ok bool
	err := call0(ctx, e.cfg.CallTimeout, func(ctx context.Context) error {
		var err error
		m, ok, err = e.cfg.Sides.ReadMarker(ctx)
		return err
	})
	return m, ok, err
}

// writeMarker marks the rollout that begins now on split's sides.
func (e *Engine) writeMarker(ctx context.Context, split model.Split, actor model.Actor, now time.Time) error {
	m := model.RolloutMarker{Canary: split.CanaryID, Stable: split.StableID, Started: now, By: actor.ARN}
	if m.By == "" {
		m.By = actor.OSUser
	}
	return call0(ctx, e.cfg.CallTimeout, func(ctx context.Context) error { return e.cfg.Sides.WriteMarker(ctx, m) })
}

// confirmCanary is the operator naming the canary when perch could only
// guess or its sources disagreed: audited, written to AWS as the rollout
// marker, read back, and only then believed.
func (e *Engine) confirmCanary(ctx context.Context, in model.Intent, res model.Result) model.Result {
	t := e.cfg.Router.Target()
	switch {
	case e.cfg.ReadOnly:
		return model.Refused(in, model.ReasonReadOnly, "read-only mode: perch will not mark the rollout")
	case e.cfg.Sides == nil:
		return model.Refused(in, model.ReasonUnsupported, fmt.Sprintf("%s's sides are stated by AWS (%s): there is nothing to confirm", t.Name, t.CanarySource))
	case in.Canary != t.CanaryARN && in.Canary != t.StableARN:
		return model.Refused(in, model.ReasonBadRequest, fmt.Sprintf("%s is not one of %s's sides (%s, %s)", in.Canary, t.Name, t.StableARN, t.CanaryARN))
	}
	canaryName, stable := t.CanaryName, t.StableARN
	if in.Canary == t.StableARN {
		canaryName, stable = t.StableName, t.CanaryARN
	}
	fresh, err := e.readFresh(ctx)
	if err != nil {
		return e.refuse(res, model.ReasonUnknownState, "traffic state unknown, nothing written: "+e.cfg.DescribeError(err))
	}
	res.From, res.To = fresh, fresh
	now := e.cfg.Clock.Now()
	intent, err := e.appendAudit(model.AuditEntry{
		Time: now, Actor: in.Actor, Action: in.Kind.Action(), Phase: model.PhaseIntent,
		From: pctOf(sidesAs(fresh, in.Canary)), Reason: in.Reason, Canary: in.Canary, Stable: stable,
		Detail: fmt.Sprintf("the operator names %s as the canary (perch had: %s); perch marks it on AWS", canaryName, t.CanaryUnconfirmed),
	})
	if err != nil {
		return model.Refused(in, model.ReasonAuditUnavailable, "nothing written: the audit log could not record the intent: "+err.Error())
	}
	outcome := model.AuditEntry{Actor: in.Actor, Action: in.Kind.Action(), Phase: model.PhaseOutcome,
		Reason: in.Reason, IntentSeq: intent.Seq, Canary: in.Canary, Stable: stable}
	m := model.RolloutMarker{Canary: in.Canary, Stable: stable, Started: now, By: in.Actor.ARN}
	if m.By == "" {
		m.By = in.Actor.OSUser
	}
	writeErr := call0(ctx, e.cfg.CallTimeout, func(ctx context.Context) error { return e.cfg.Sides.WriteMarker(ctx, m) })
	back, ok, readErr := e.readMarker(ctx)
	switch {
	case writeErr != nil:
		res.Outcome, res.Reason, res.Err = model.OutcomeFailed, model.ReasonMarker, "could not mark the rollout: "+e.cfg.DescribeError(writeErr)
	case readErr != nil:
		res.Outcome, res.Reason, res.Err = model.OutcomeFailed, model.ReasonMarker, "marked, but the marker could not be read back: "+e.cfg.DescribeError(readErr)
	case !ok || back.Canary != in.Canary:
		res.Outcome, res.Reason, res.Err = model.OutcomeFailed, model.ReasonMarker, fmt.Sprintf("read the marker back naming %q, not %s", back.Canary, in.Canary)
	default:
		if err := e.chooseCanary(in.Canary); err != nil {
			res.Outcome, res.Reason, res.Err = model.OutcomeFailed, model.ReasonBadRequest, err.Error()
			break
		}
		res.Outcome, res.Verified = model.OutcomeOK, true
		res.From, res.To = sidesAs(fresh, in.Canary), sidesAs(fresh, in.Canary)
	}
	outcome.From, outcome.To = pctOf(res.From), pctOf(res.To)
	return e.recordOutcome(res, outcome)
}

// chooseCanary turns the router round when id is its stable side, and the
// engine with it: the series, the split it last saw, and the metrics
// reader's sides, which stay as they were built.
func (e *Engine) chooseCanary(id string) error {
	before := e.cfg.Router.Target()
	if err := e.cfg.Sides.ChooseCanary(id); err != nil {
		return err
	}
	after := e.cfg.Router.Target()
	e.mu.Lock()
	defer e.mu.Unlock()
	if before.CanaryARN != after.CanaryARN {
		e.flipped = !e.flipped
		e.series[model.Stable], e.series[model.Canary] = e.series[model.Canary], e.series[model.Stable]
		e.lastSeen = e.lastSeen.Swapped()
		e.snap.Split = e.snap.Split.Swapped()
		e.snap.Signals = e.signalsLocked(e.snap.MetricsAt)
		e.snap.Health[0], e.snap.Health[1] = e.snap.Health[1], e.snap.Health[0]
		e.snap.Verdict = nil // judged again at the next poll, the right way round
		if e.auto != nil {
			e.auto.aligned = false
		}
	}
	e.snap.Target = after
	return nil
}

// sidesAs is s seen with canaryID as the canary.
func sidesAs(s model.Split, canaryID string) model.Split {
	if s.StableID == canaryID && s.CanaryID != canaryID {
		return s.Swapped()
	}
	return s
}

// steerAutopilot pauses or resumes the plan.
func (e *Engine) steerAutopilot(in model.Intent) model.Result {
	e.mu.Lock()
	ap := e.auto
	var done bool
	var why string
	if ap != nil {
		done, why = ap.state.Done, ap.decision.Reason
	}
	e.mu.Unlock()
	switch {
	case ap == nil:
		return model.Refused(in, model.ReasonNoPlan, "autopilot: no plan loaded (start perch with --plan): nothing to pause or resume")
	case done:
		return model.Refused(in, model.ReasonNoPlan, "autopilot: the plan has finished: "+why)
	}
	e.SetPaused(in.Kind == model.Pause, in.Actor)
	return model.Result{Intent: in, Outcome: model.OutcomeOK, Verified: true}
}

// sideOfLocked is the engine's side for data the metrics reader labelled
// side.
func (e *Engine) sideOfLocked(side model.Side) model.Side {
	if e.flipped {
		return 1 - side
	}
	return side
}
