package rollout

import (
	"context"
	"time"

	"github.com/perch-dev/perch/model"
)

// strategy is how traffic moves on a target. Either perch moves the
// weights itself (weights), or a deployment moves them and perch stops or
// continues it (deployment). The engine picks one when it is built and
// never asks which it has.
type strategy interface {
	// readRouting reads what the poll needs before the split: the
	// deployment, when there is one.
	readRouting(ctx context.Context) routingRead
	// foldLocked folds the routing read into s (under e.mu), given the
	// drift the split read shows, and returns the audit events to record
	// and the drift that is really someone else's change.
	foldLocked(s *model.Snapshot, r routingRead, drift *model.Drift, now time.Time) ([]model.AuditEntry, *model.Drift)
	// execute carries out a traffic intent (under e.actMu).
	execute(ctx context.Context, in model.Intent, res model.Result) model.Result
}

// routingRead is what readRouting found.
type routingRead struct {
	dep      *model.DeploymentStatus
	depErr   error
	switched *model.AuditEntry // following a group onto a new deployment
}

// weights is the strategy of a target whose weights perch writes: an ALB
// rule or a Lambda alias. A change it did not make is drift.
type weights struct{ e *Engine }

func (weights) readRouting(context.Context) routingRead { return routingRead{} }

func (weights) foldLocked(s *model.Snapshot, _ routingRead, drift *model.Drift, _ time.Time) ([]model.AuditEntry, *model.Drift) {
	if drift != nil {
		s.Drift = drift
	}
	return nil, drift
}

func (w weights) execute(ctx context.Context, in model.Intent, res model.Result) model.Result {
	e := w.e
	switch {
	case in.Kind == model.Continue:
		return model.Refused(in, model.ReasonUnsupported, "continue is for CodeDeploy deployments that wait; this target has none")
	case !in.Kind.MovesTraffic():
		return model.Refused(in, model.ReasonUnsupported, "perch does not know the action "+string(in.Kind))
	case e.cfg.ReadOnly:
		return e.refuse(res, model.ReasonReadOnly, "read-only mode: perch will not change traffic")
	}
	return e.move(ctx, in, res)
}

// deployment is the strategy of a target whose traffic CodeDeploy moves:
// its shifts and its end are CodeDeploy's doing, recorded as such, and
// perch's actions are StopDeployment and ContinueDeployment.
type deployment struct{ e *Engine }

func (d deployment) readRouting(ctx context.Context) routingRead {
	dep, err := d.e.readDeployment(ctx)
	return routingRead{dep: dep, depErr: err, switched: d.e.noticeDeploymentSwitch(dep)}
}

func (d deployment) foldLocked(s *model.Snapshot, r routingRead, drift *model.Drift, now time.Time) ([]model.AuditEntry, *model.Drift) {
	var events []model.AuditEntry
	if r.switched != nil {
		events = append(events, *r.switched)
	}
	// CodeDeploy moves the traffic: a change is its doing, not drift.
	return append(events, d.e.deploymentEventsLocked(s, r.dep, r.depErr, drift, now)...), nil
}

func (d deployment) execute(ctx context.Context, in model.Intent, res model.Result) model.Result {
	return d.e.executeDeployment(ctx, in, res)
}
