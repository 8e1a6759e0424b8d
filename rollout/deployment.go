package rollout

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/perch-dev/perch/model"
)

// DeploymentReader reads a deployment that moves traffic by itself
// (CodeDeploy). With one configured, the engine shows the deployment,
// records the shifts, stops and rollbacks it sees as CodeDeploy's doing
// rather than as drift, and carries out rollback and continue intents
// through the DeploymentController instead of writing weights.
type DeploymentReader interface {
	Deployment(ctx context.Context) (model.DeploymentStatus, error)
}

// DeploymentController stops or continues such a deployment.
type DeploymentController interface {
	// Stop stops the deployment; rollback asks CodeDeploy to roll it back.
	Stop(ctx context.Context, rollback bool) error
	// Continue ends the wait the deployment is in (model.WaitReady or
	// model.WaitTermination).
	Continue(ctx context.Context, wait string) error
}

// viaCodeDeploy is the actor of what CodeDeploy did by itself.
var viaCodeDeploy = model.Actor{Via: "codedeploy"}

// readDeployment reads the deployment when the target has one.
func (e *Engine) readDeployment(ctx context.Context) (*model.DeploymentStatus, error) {
	if e.cfg.Deployment == nil {
		return nil, nil
	}
	ds, err := call(ctx, e.cfg.CallTimeout, e.cfg.Deployment.Deployment)
	if err != nil {
		return nil, err
	}
	return &ds, nil
}

// noticeDeploymentSwitch starts afresh when the router has moved on to
// another deployment (following a group): the old deployment's series and
// split say nothing about the new one, whose sides may even be swapped.
// It returns the entry announcing the switch.
func (e *Engine) noticeDeploymentSwitch(ds *model.DeploymentStatus) *model.AuditEntry {
	if ds == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	prev := e.snap.Deployment
	if prev == nil || prev.ID == ds.ID {
		return nil
	}
	for _, side := range model.Sides {
		e.series[side] = map[model.Signal]*model.Series{}
	}
	e.metricsFrom, e.haveSeen, e.splitSince = time.Time{}, false, time.Time{}
	e.snap.Deployment = nil
	return &model.AuditEntry{
		Actor: model.Actor{Via: "observed"}, Action: "follow", Phase: model.PhaseEvent, Target: ds.ID,
		Detail: fmt.Sprintf("deployment %s finished; now watching %s in %s/%s (%s, created by %s)",
			prev.ID, ds.ID, ds.Application, ds.Group, ds.Config, ds.Creator),
	}
}

// deploymentEventsLocked folds a deployment read into s, and returns the
// audit entries for what CodeDeploy did since the last poll: the end of
// the deployment (a rollback after an alarm, a stop, a success) or, when
// it is still running, a traffic shift.
func (e *Engine) deploymentEventsLocked(s *model.Snapshot, ds *model.DeploymentStatus, err error, shift *model.Drift, now time.Time) []model.AuditEntry {
	s.Target = e.cfg.Router.Target()
	prev := s.Deployment
	if err != nil {
		if prev != nil {
			keep := *prev
			keep.ReadErr = e.cfg.DescribeError(err)
			s.Deployment = &keep
		} else {
			s.Deployment = &model.DeploymentStatus{Status: "?", ReadErr: e.cfg.DescribeError(err)}
		}
		return shiftEvent(shift, prev)
	}
	ds.ReadAt, ds.ReadErr = now, ""
	ds.Plan(now)
	s.Deployment = ds
	if prev == nil || prev.ID != ds.ID || prev.Terminal() || !ds.Terminal() {
		return shiftEvent(shift, ds)
	}
	if e.ownStop == ds.ID {
		// perch stopped it and recorded intent and outcome itself.
		return nil
	}
	entry := model.AuditEntry{
		Time: now, Actor: viaCodeDeploy, Phase: model.PhaseEvent, Target: ds.ID,
		From: model.Pct(prev.CanaryPercent), To: model.Pct(ds.CanaryPercent),
		Detail: endDetail(*ds),
	}
	switch {
	case ds.RolledBack():
		entry.Action = "rollback"
	case ds.Status == "Succeeded":
		entry.Action = "complete"
	default:
		entry.Action = strings.ToLower(strings.TrimSuffix(ds.Status, "ed"))
		if ds.Status == "Stopped" {
			entry.Action = "stop"
		}
	}
	return []model.AuditEntry{entry}
}

// endDetail says how CodeDeploy ended the deployment, in its own words.
func endDetail(ds model.DeploymentStatus) string {
	var b strings.Builder
	switch {
	case ds.Status == "Succeeded":
		fmt.Fprintf(&b, "CodeDeploy completed deployment %s (%s)", ds.ID, ds.Config)
	case ds.Error != nil && ds.Error.Code == "MANUAL_STOP":
		fmt.Fprintf(&b, "deployment %s was stopped outside perch (MANUAL_STOP)", ds.ID)
	case ds.Error != nil:
		fmt.Fprintf(&b, "CodeDeploy %s deployment %s (%s", strings.ToLower(ds.Status), ds.ID, ds.Error.Code)
		if names := ds.EndedBy(); strings.Contains(names, "alarm ") {
			_, after, _ := strings.Cut(names, "alarm ")
			fmt.Fprintf(&b, ": alarm %s", strings.TrimSuffix(after, ")"))
		}
		b.WriteString(")")
	default:
		fmt.Fprintf(&b, "deployment %s %s", ds.ID, strings.ToLower(ds.Status))
	}
	if ds.RolledBack() {
		fmt.Fprintf(&b, " and rolled it back (rollback deployment %s)", ds.Rollback.DeploymentID)
		if ds.Rollback.Message != "" {
			b.WriteString(": " + ds.Rollback.Message)
		}
	}
	return b.String()
}

// shiftEvent records a split change CodeDeploy made while running its
// configuration.
func shiftEvent(shift *model.Drift, ds *model.DeploymentStatus) []model.AuditEntry {
	if shift == nil {
		return nil
	}
	detail := fmt.Sprintf("CodeDeploy shifted traffic: %s → %s", shift.From, shift.To)
	target := ""
	if ds != nil {
		target = ds.ID
		if ds.Config != "" {
			detail += " (" + ds.Config + ")"
		}
	}
	return []model.AuditEntry{{
		Time: shift.At, Actor: viaCodeDeploy, Action: "shift", Phase: model.PhaseEvent, Target: target,
		From: model.Pct(shift.From.CanaryPercent()), To: model.Pct(shift.To.CanaryPercent()), Detail: detail,
	}}
}

// executeDeployment carries out an intent on a CodeDeploy target: roll
// back is StopDeployment with autoRollbackEnabled, continue is
// ContinueDeployment for the wait the deployment is in. Like a shift it
// is never blind: read the deployment, refuse what cannot apply, audit the
// intent, act, read back, audit the outcome.
func (e *Engine) executeDeployment(ctx context.Context, in model.Intent, res model.Result) model.Result {
	action := in.Kind.Action()
	if in.Kind != model.Rollback && in.Kind != model.Continue {
		// Nothing is asked of AWS: not an audited action.
		return model.Refused(in, model.ReasonUnsupported,
			"CodeDeploy shifts traffic itself: perch can stop the deployment with rollback (r) or continue it when it waits (c), not set weights")
	}
	snap := e.Snapshot()
	if e.cfg.ReadOnly || e.cfg.Controller == nil {
		why := "read-only mode: perch will not stop or continue the deployment"
		if d := snap.Deployment; d != nil && d.Terminal() {
			why = fmt.Sprintf("deployment %s has finished (%s, %s): it is open read-only, there is nothing to %s", d.ID, d.Status, d.EndedBy(), action)
		}
		return e.refuse(res, model.ReasonReadOnly, why)
	}

	e.publish(func(s *model.Snapshot) { s.Busy = action + ": reading the deployment" })
	ds, err := call(ctx, e.cfg.CallTimeout, e.cfg.Deployment.Deployment)
	now := e.cfg.Clock.Now()
	if err != nil {
		return e.refuse(res, model.ReasonUnknownState, "deployment state unknown, nothing sent: "+e.cfg.DescribeError(err))
	}
	split, splitErr := call(ctx, e.cfg.CallTimeout, e.cfg.Router.ReadSplit)
	if splitErr == nil {
		res.From, res.To = split, split
	}
	e.mu.Lock()
	ds.ReadAt = now
	ds.Plan(now)
	e.snap.Deployment = &ds
	if splitErr == nil {
		e.lastSeen, e.haveSeen = split, true
		e.snap.Split, e.snap.SplitKnown, e.snap.SplitErr, e.snap.SplitAt = split, true, "", now
	}
	e.mu.Unlock()

	var verb, to string
	var toPct *float64
	switch {
	case ds.Terminal():
		return e.refuse(res, model.ReasonReadOnly, fmt.Sprintf("deployment %s has already finished (%s, %s): nothing to %s", ds.ID, ds.Status, ds.EndedBy(), action))
	case in.Kind == model.Continue && ds.Waiting == "":
		return e.refuse(res, model.ReasonBusy, fmt.Sprintf("deployment %s is %s (%s), not waiting: CodeDeploy moves on by its configuration and has no API to skip an interval",
			ds.ID, ds.Status, ds.Step))
	case in.Kind == model.Continue:
		verb = fmt.Sprintf("ContinueDeployment %s (%s)", ds.ID, ds.Waiting)
		to = "the deployment goes on"
	default:
		verb = fmt.Sprintf("StopDeployment %s with autoRollbackEnabled", ds.ID)
		to = "CodeDeploy moves all traffic back to " + snap.Target.StableName
		toPct = model.Pct(0)
	}
	e.publish(func(s *model.Snapshot) { s.Busy = action + ": " + verb })
	intent, err := e.appendAudit(model.AuditEntry{
		Time: now, Actor: in.Actor, Action: action, Phase: model.PhaseIntent,
		From: pctIf(splitErr == nil, split), To: toPct, Reason: in.Reason,
		Detail: fmt.Sprintf("%s (%s, %s): %s", verb, ds.Status, ds.Step, to),
	})
	if err != nil {
		return model.Refused(in, model.ReasonAuditUnavailable, "nothing sent: the audit log could not record the intent: "+err.Error())
	}
	if in.Kind == model.Rollback {
		e.mu.Lock()
		e.ownStop = ds.ID
		e.mu.Unlock()
	}

	_, actErr := call(ctx, e.cfg.CallTimeout, func(ctx context.Context) (struct{}, error) {
		if in.Kind == model.Continue {
			return struct{}{}, e.cfg.Controller.Continue(ctx, ds.Waiting)
		}
		return struct{}{}, e.cfg.Controller.Stop(ctx, true)
	})
	back, readErr := call(ctx, e.cfg.CallTimeout, e.cfg.Deployment.Deployment)
	backSplit, backSplitErr := call(ctx, e.cfg.CallTimeout, e.cfg.Router.ReadSplit)
	done := e.cfg.Clock.Now()
	if backSplitErr == nil {
		res.To = backSplit
	}

	outcome := model.AuditEntry{Time: done, Actor: in.Actor, Action: action, Phase: model.PhaseOutcome,
		From: pctIf(splitErr == nil, split), To: pctIf(backSplitErr == nil, backSplit), Reason: in.Reason, IntentSeq: intent.Seq}
	switch {
	case actErr != nil:
		res.Outcome, res.Reason, res.Err = model.OutcomeFailed, model.ReasonWriteFailed, fmt.Sprintf("%s failed: %s", verb, e.cfg.DescribeError(actErr))
		if readErr == nil {
			res.Err += fmt.Sprintf("; the deployment is %s", back.Status)
		}
	case readErr != nil:
		res.Outcome, res.Reason, res.Err = model.OutcomeFailed, model.ReasonReadBackFailed, fmt.Sprintf("%s was accepted but the deployment could not be read back: %s", verb, e.cfg.DescribeError(readErr))
	case in.Kind == model.Rollback && back.Terminal() && back.RolledBack():
		res.Outcome, res.Verified = model.OutcomeOK, true
		outcome.Detail = fmt.Sprintf("deployment %s %s; rollback deployment %s", back.ID, back.Status, back.Rollback.DeploymentID)
	case in.Kind == model.Rollback && back.Terminal():
		res.Outcome, res.Reason = model.OutcomeFailed, model.ReasonReadBackMismatch
		res.Err = fmt.Sprintf("deployment %s is %s but CodeDeploy reports no rollback deployment", back.ID, back.Status)
	case in.Kind == model.Rollback:
		// StopDeployment is asynchronous in AWS: accepted, not yet done.
		res.Outcome = model.OutcomeOK
		res.Warnings = append(res.Warnings, fmt.Sprintf("CodeDeploy accepted the stop; deployment %s still reads %s", back.ID, back.Status))
	case back.Waiting != ds.Waiting || back.Status != ds.Status:
		res.Outcome, res.Verified = model.OutcomeOK, true
		outcome.Detail = fmt.Sprintf("deployment %s is %s", back.ID, back.Status)
	default:
		res.Outcome, res.Reason = model.OutcomeFailed, model.ReasonReadBackMismatch
		res.Err = fmt.Sprintf("ContinueDeployment was accepted but deployment %s still waits (%s)", back.ID, back.Waiting)
	}

	e.mu.Lock()
	if readErr == nil {
		back.ReadAt = done
		back.Plan(done)
		e.snap.Deployment = &back
	}
	if backSplitErr == nil {
		if !backSplit.SameRouting(split) {
			e.splitSince = done
		}
		e.lastSeen, e.haveSeen = backSplit, true
		e.snap.Split, e.snap.SplitKnown, e.snap.SplitErr, e.snap.SplitAt = backSplit, true, "", done
	} else {
		e.snap.SplitKnown, e.snap.SplitErr = false, e.cfg.DescribeError(backSplitErr)
	}
	e.mu.Unlock()
	return e.recordOutcome(res, outcome)
}

func pctIf(ok bool, s model.Split) *float64 {
	if !ok {
		return nil
	}
	return model.Pct(s.CanaryPercent())
}
