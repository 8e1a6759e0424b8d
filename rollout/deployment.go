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

// deploymentActor is the actor of what the deployment service (CodeDeploy
// or ECS) did by itself.
func deploymentActor(ds *model.DeploymentStatus) model.Actor {
	if ds != nil && ds.Engine == model.EngineECS {
		return model.Actor{Via: "ecs"}
	}
	return model.Actor{Via: "codedeploy"}
}

// engineName says who moves the traffic, for the audit's words.
func engineName(ds *model.DeploymentStatus) string {
	if ds != nil && ds.Engine == model.EngineECS {
		return "ECS"
	}
	return "CodeDeploy"
}

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
	// An ECS rollback is recorded when it begins (the traffic moves
	// then), not again when it finishes.
	if prev == nil || prev.ID != ds.ID || prev.Decided() || !ds.Decided() {
		return shiftEvent(shift, ds)
	}
	if e.ownStop == ds.ID {
		// perch stopped it and recorded intent and outcome itself.
		return nil
	}
	entry := model.AuditEntry{
		Time: now, Actor: deploymentActor(ds), Phase: model.PhaseEvent, Target: ds.ID,
		From: model.Pct(prev.CanaryPercent), To: model.Pct(ds.CanaryPercent),
		Detail: endDetail(*ds),
	}
	switch {
	case ds.RolledBack():
		entry.Action = "rollback"
	case ds.Status == "Succeeded" || ds.Status == model.ECSSuccessful:
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
	if ds.Engine == model.EngineECS {
		return ecsEndDetail(ds)
	}
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
	detail := fmt.Sprintf("%s shifted traffic: %s → %s", engineName(ds), shift.From, shift.To)
	target := ""
	if ds != nil {
		target = ds.ID
		if ds.Config != "" {
			detail += " (" + ds.Config + ")"
		}
	}
	return []model.AuditEntry{{
		Time: shift.At, Actor: deploymentActor(ds), Action: "shift", Phase: model.PhaseEvent, Target: target,
		From: model.Pct(shift.From.CanaryPercent()), To: model.Pct(shift.To.CanaryPercent()), Detail: detail,
	}}
}

func pctIf(ok bool, s model.Split) *float64 {
	if !ok {
		return nil
	}
	return model.Pct(s.CanaryPercent())
}

// ecsEndDetail says how ECS ended (or is rolling back) the deployment, in
// its own words.
func ecsEndDetail(ds model.DeploymentStatus) string {
	reason := ""
	if ds.ECS != nil && ds.ECS.StatusReason != "" {
		reason = ": " + ds.ECS.StatusReason
	}
	switch {
	case ds.Status == model.ECSSuccessful:
		return fmt.Sprintf("ECS completed service deployment %s (%s)", lastPart(ds.ID), ds.Config)
	case ds.RolledBack():
		return fmt.Sprintf("ECS rolled back service deployment %s, %s; traffic back on the source revision (%s)%s", lastPart(ds.ID), ds.EndedBy(), ds.Status, reason)
	}
	return fmt.Sprintf("service deployment %s %s%s", ds.ID, ds.EndedBy(), reason)
}

// lastPart is an ARN's last path segment (an ECS deployment's ID); the
// audit entry's target keeps the whole ARN.
func lastPart(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }
