package rollout

import (
	"context"
	"fmt"
	"strings"

	"github.com/perch-dev/perch/model"
)

// deploymentStep is what an intent asks of a deployment, decided from a
// fresh read of it.
type deploymentStep struct {
	verb  string   // the call, in words: "StopDeployment d-1 with autoRollbackEnabled"
	to    string   // what happens then
	toPct *float64 // the canary's share afterwards, when known
	ds    model.DeploymentStatus
}

// deploymentRead is the deployment and the split read for an action.
type deploymentRead struct {
	ds       model.DeploymentStatus
	split    model.Split
	splitErr error
}

// executeDeployment carries out an intent on a CodeDeploy target: roll
// back is StopDeployment with autoRollbackEnabled, continue is
// ContinueDeployment for the wait the deployment is in. Like a shift it
// is never blind: read the deployment, refuse what cannot apply, audit the
// intent, act, read back, audit the outcome.
func (e *Engine) executeDeployment(ctx context.Context, in model.Intent, res model.Result) model.Result {
	if in.Kind != model.Rollback && in.Kind != model.Continue {
		// Nothing is asked of AWS: not an audited action.
		if e.cfg.Router.Target().Kind == model.KindECS {
			return model.Refused(in, model.ReasonUnsupported,
				"ECS shifts this service's traffic itself and owns its listener rule: perch can roll the deployment back (r) or continue it at a lifecycle hook (c), never set weights")
		}
		return model.Refused(in, model.ReasonUnsupported,
			"CodeDeploy shifts traffic itself: perch can stop the deployment with rollback (r) or continue it when it waits (c), not set weights")
	}
	if why := e.deploymentReadOnly(in); why != "" {
		return e.refuse(res, model.ReasonReadOnly, why)
	}
	e.publish(func(s *model.Snapshot) { s.Busy = in.Kind.Action() + ": reading the deployment" })
	before, err := e.readForDeploymentAction(ctx)
	if err != nil {
		return e.refuse(res, model.ReasonUnknownState, "deployment state unknown, nothing sent: "+e.cfg.DescribeError(err))
	}
	if before.splitErr == nil {
		res.From, res.To = before.split, before.split
	}
	step, why, reason := e.decideDeployment(in, before.ds)
	if why != "" {
		return e.refuse(res, reason, why)
	}
	return e.actOnDeployment(ctx, in, res, before, step)
}

// deploymentReadOnly says why nothing may be sent to the deployment.
func (e *Engine) deploymentReadOnly(in model.Intent) string {
	if !e.cfg.ReadOnly && e.cfg.Controller != nil {
		return ""
	}
	if d := e.Snapshot().Deployment; d != nil && d.Terminal() {
		return fmt.Sprintf("deployment %s has finished (%s, %s): it is open read-only, there is nothing to %s", d.ID, d.Status, d.EndedBy(), in.Kind.Action())
	}
	return "read-only mode: perch will not stop or continue the deployment"
}

// readForDeploymentAction reads the deployment and the split, and shows
// them: the decision rests on this read, not on the last poll's.
func (e *Engine) readForDeploymentAction(ctx context.Context) (deploymentRead, error) {
	var r deploymentRead
	ds, err := call(ctx, e.cfg.CallTimeout, e.cfg.Deployment.Deployment)
	now := e.cfg.Clock.Now()
	if err != nil {
		return r, err
	}
	r.ds = ds
	r.split, r.splitErr = call(ctx, e.cfg.CallTimeout, e.cfg.Router.ReadSplit)
	e.mu.Lock()
	defer e.mu.Unlock()
	ds.ReadAt = now
	ds.Plan(now)
	e.snap.Deployment = &ds
	r.ds = ds
	if r.splitErr == nil {
		e.lastSeen, e.haveSeen = r.split, true
		e.snap.Split, e.snap.SplitKnown, e.snap.SplitErr, e.snap.SplitAt = r.split, true, "", now
	}
	return r, nil
}

// decideDeployment turns the intent into the call to make, or says why
// none can be made.
func (e *Engine) decideDeployment(in model.Intent, ds model.DeploymentStatus) (deploymentStep, string, model.Reason) {
	action := in.Kind.Action()
	switch {
	case ds.Terminal():
		return deploymentStep{}, fmt.Sprintf("deployment %s has already finished (%s, %s): nothing to %s", ds.ID, ds.Status, ds.EndedBy(), action), model.ReasonReadOnly
	case ds.RollingBack():
		return deploymentStep{}, fmt.Sprintf("deployment %s is already rolling back (%s, %s): nothing to %s", ds.ID, ds.Status, ds.EndedBy(), action), model.ReasonBusy
	case ds.Engine == model.EngineECS:
		return ecsStep(in, ds, e.cfg.Router.Target().StableName)
	case in.Kind == model.Continue && ds.Waiting == "":
		return deploymentStep{}, fmt.Sprintf("deployment %s is %s (%s), not waiting: CodeDeploy moves on by its configuration and has no API to skip an interval",
			ds.ID, ds.Status, ds.Step), model.ReasonBusy
	case in.Kind == model.Continue:
		return deploymentStep{verb: fmt.Sprintf("ContinueDeployment %s (%s)", ds.ID, ds.Waiting), to: "the deployment goes on", ds: ds}, "", ""
	}
	return deploymentStep{
		verb:  fmt.Sprintf("StopDeployment %s with autoRollbackEnabled", ds.ID),
		to:    "CodeDeploy moves all traffic back to " + e.cfg.Router.Target().StableName,
		toPct: model.Pct(0), ds: ds,
	}, "", ""
}

// actOnDeployment audits the intent, makes the call, reads the
// deployment back and audits the outcome.
func (e *Engine) actOnDeployment(ctx context.Context, in model.Intent, res model.Result, before deploymentRead, step deploymentStep) model.Result {
	action, ds := in.Kind.Action(), step.ds
	e.publish(func(s *model.Snapshot) { s.Busy = action + ": " + step.verb })
	intent, err := e.appendAudit(model.AuditEntry{
		Time: e.cfg.Clock.Now(), Actor: in.Actor, Action: action, Phase: model.PhaseIntent,
		From: pctIf(before.splitErr == nil, before.split), To: step.toPct, Reason: in.Reason,
		Detail: fmt.Sprintf("%s (%s, %s): %s", step.verb, ds.Status, ds.Step, step.to),
	})
	if err != nil {
		return model.Refused(in, model.ReasonAuditUnavailable, "nothing sent: the audit log could not record the intent: "+err.Error())
	}
	if in.Kind == model.Rollback {
		e.mu.Lock()
		e.ownStop = ds.ID
		e.mu.Unlock()
	}
	actErr := call0(ctx, e.cfg.CallTimeout, func(ctx context.Context) error {
		if in.Kind == model.Continue {
			return e.cfg.Controller.Continue(ctx, ds.Waiting)
		}
		return e.cfg.Controller.Stop(ctx, true)
	})
	back, readErr := call(ctx, e.cfg.CallTimeout, e.cfg.Deployment.Deployment)
	backSplit, backSplitErr := call(ctx, e.cfg.CallTimeout, e.cfg.Router.ReadSplit)
	if backSplitErr == nil {
		res.To = backSplit
	}
	outcome := model.AuditEntry{Actor: in.Actor, Action: action, Phase: model.PhaseOutcome,
		From: pctIf(before.splitErr == nil, before.split), To: pctIf(backSplitErr == nil, backSplit), Reason: in.Reason, IntentSeq: intent.Seq}
	res, outcome.Detail = judgeDeploymentAction(in, res, step, back, actErr, readErr, e.cfg.DescribeError)
	e.noteDeploymentRead(back, readErr, before.split, backSplit, backSplitErr)
	return e.recordOutcome(res, outcome)
}

// judgeDeploymentAction says how the call ended from its error and the
// deployment read back; the string is the outcome's detail on success.
func judgeDeploymentAction(in model.Intent, res model.Result, step deploymentStep, back model.DeploymentStatus, actErr, readErr error, describe func(error) string) (model.Result, string) {
	switch {
	case actErr != nil:
		res.Outcome, res.Reason, res.Err = model.OutcomeFailed, model.ReasonWriteFailed, fmt.Sprintf("%s failed: %s", step.verb, describe(actErr))
		if readErr == nil {
			res.Err += fmt.Sprintf("; the deployment is %s", back.Status)
		}
	case readErr != nil:
		res.Outcome, res.Reason, res.Err = model.OutcomeFailed, model.ReasonReadBackFailed, fmt.Sprintf("%s was accepted but the deployment could not be read back: %s", step.verb, describe(readErr))
	case in.Kind == model.Rollback && back.Terminal() && back.RolledBack():
		res.Outcome, res.Verified = model.OutcomeOK, true
		if back.Engine == model.EngineECS {
			return res, fmt.Sprintf("service deployment %s is %s", back.ID, back.Status)
		}
		return res, fmt.Sprintf("deployment %s %s; rollback deployment %s", back.ID, back.Status, back.Rollback.DeploymentID)
	case in.Kind == model.Rollback && back.RollingBack():
		res.Outcome, res.Verified = model.OutcomeOK, true
		return res, fmt.Sprintf("service deployment %s is %s", back.ID, back.Status)
	case in.Kind == model.Rollback && back.Terminal() && back.Engine == model.EngineECS:
		res.Outcome, res.Reason = model.OutcomeFailed, model.ReasonReadBackMismatch
		res.Err = fmt.Sprintf("service deployment %s is %s, not rolled back", back.ID, back.Status)
	case in.Kind == model.Rollback && back.Terminal():
		res.Outcome, res.Reason = model.OutcomeFailed, model.ReasonReadBackMismatch
		res.Err = fmt.Sprintf("deployment %s is %s but CodeDeploy reports no rollback deployment", back.ID, back.Status)
	case in.Kind == model.Rollback:
		// StopDeployment is asynchronous in AWS: accepted, not yet done.
		res.Outcome = model.OutcomeOK
		res.Warnings = append(res.Warnings, fmt.Sprintf("CodeDeploy accepted the stop; deployment %s still reads %s", back.ID, back.Status))
	case back.Waiting != step.ds.Waiting || back.Status != step.ds.Status:
		res.Outcome, res.Verified = model.OutcomeOK, true
		return res, fmt.Sprintf("deployment %s is %s", back.ID, back.Status)
	default:
		res.Outcome, res.Reason = model.OutcomeFailed, model.ReasonReadBackMismatch
		res.Err = fmt.Sprintf("ContinueDeployment was accepted but deployment %s still waits (%s)", back.ID, back.Waiting)
	}
	return res, ""
}

// noteDeploymentRead shows what the read-back after an action found: the
// deployment, then the split as after any write.
func (e *Engine) noteDeploymentRead(back model.DeploymentStatus, readErr error, split, backSplit model.Split, backSplitErr error) {
	if readErr == nil {
		done := e.cfg.Clock.Now()
		back.ReadAt = done
		back.Plan(done)
		e.mu.Lock()
		e.snap.Deployment = &back
		e.mu.Unlock()
	}
	e.noteWritten(split, backSplit, backSplitErr)
}

// ecsStep is what an intent asks of an ECS service deployment: roll back
// with StopServiceDeployment, or with ContinueServiceDeployment ROLLBACK
// at a hook awaiting action; continue only at such a hook.
func ecsStep(in model.Intent, ds model.DeploymentStatus, stable string) (deploymentStep, string, model.Reason) {
	hook := ds.ECS != nil && ds.ECS.Hook != nil
	id := ds.ID[strings.LastIndexByte(ds.ID, '/')+1:] // the audit entry's target holds the whole ARN
	switch {
	case in.Kind == model.Continue && !hook:
		return deploymentStep{}, fmt.Sprintf("service deployment %s is %s (%s) with no lifecycle hook awaiting action: ECS moves on by its strategy and has no API to skip a bake",
			ds.ID, ds.Status, ds.Step), model.ReasonBusy
	case in.Kind == model.Continue:
		return deploymentStep{verb: fmt.Sprintf("ContinueServiceDeployment %s hook %s CONTINUE", id, ds.ECS.Hook.ID),
			to: "the deployment goes on past " + ds.ECS.Hook.Stage, ds: ds}, "", ""
	case hook:
		return deploymentStep{verb: fmt.Sprintf("ContinueServiceDeployment %s hook %s ROLLBACK", id, ds.ECS.Hook.ID),
			to: "ECS moves all traffic back to " + stable, toPct: model.Pct(0), ds: ds}, "", ""
	}
	return deploymentStep{verb: fmt.Sprintf("StopServiceDeployment %s stopType ROLLBACK", id),
		to: "ECS moves all traffic back to " + stable, toPct: model.Pct(0), ds: ds}, "", ""
}
