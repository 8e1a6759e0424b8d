package model

import (
	"fmt"
	"strings"
	"time"
)

// ECS native deployments: ECS moves the production listener rule itself
// by the service's deployment strategy, through lifecycle stages, and may
// wait at a PAUSE hook for an operator. These are the parts of
// DeploymentStatus that say so, and how the cockpit reads them.

// EngineECS marks a DeploymentStatus read from ECS; "" is CodeDeploy.
const EngineECS = "ECS"

// WaitHook is DeploymentStatus.Waiting for an ECS deployment paused at a
// lifecycle hook: ContinueServiceDeployment ends it.
const WaitHook = "HOOK_AWAITING_ACTION"

// ECS service deployment statuses that end or decide a deployment.
const (
	ECSSuccessful         = "SUCCESSFUL"
	ECSStopped            = "STOPPED"
	ECSRollbackRequested  = "ROLLBACK_REQUESTED"
	ECSRollbackInProgress = "ROLLBACK_IN_PROGRESS"
	ECSRollbackSuccessful = "ROLLBACK_SUCCESSFUL"
	ECSRollbackFailed     = "ROLLBACK_FAILED"
)

// ECSStrategy is an ECS service's deploymentConfiguration as it shifts
// traffic.
type ECSStrategy struct {
	Name string `json:"name"` // CANARY, LINEAR, BLUE_GREEN
	// Percent is the canary percent or the linear step; Step is the
	// canary's or each linear step's bake time.
	Percent float64       `json:"percent,omitempty"`
	Step    time.Duration `json:"step,omitempty"`
	// Bake is bakeTimeInMinutes: both revisions kept after the full shift.
	Bake time.Duration `json:"bake,omitempty"`
}

// String says the strategy the way the header does.
func (s ECSStrategy) String() string {
	var b strings.Builder
	switch s.Name {
	case "CANARY":
		fmt.Fprintf(&b, "canary %s for %s, then 100%%", FormatPercent(s.Percent), shortDuration(s.Step))
	case "LINEAR":
		fmt.Fprintf(&b, "linear +%s every %s", FormatPercent(s.Percent), shortDuration(s.Step))
	case "BLUE_GREEN":
		b.WriteString("blue/green, all at once")
	default:
		b.WriteString(s.Name)
	}
	if s.Bake > 0 {
		fmt.Fprintf(&b, ", bake %s", shortDuration(s.Bake))
	}
	return b.String()
}

// HookWait is a PAUSE lifecycle hook awaiting action.
type HookWait struct {
	ID            string    `json:"id"`
	Stage         string    `json:"stage"`
	Target        string    `json:"target,omitempty"`
	ExpiresAt     time.Time `json:"expires_at,omitempty"`
	TimeoutAction string    `json:"timeout_action,omitempty"` // CONTINUE or ROLLBACK
}

// ECSDeployment is what only an ECS deployment has.
type ECSDeployment struct {
	Cluster  string      `json:"cluster"`
	Service  string      `json:"service"`
	Strategy ECSStrategy `json:"strategy"`
	Stage    string      `json:"lifecycle_stage,omitempty"`
	// StageSince is when ECS last changed the deployment (updatedAt): the
	// start of the current step or bake.
	StageSince      time.Time `json:"stage_since,omitempty"`
	Hook            *HookWait `json:"hook,omitempty"`
	StatusReason    string    `json:"status_reason,omitempty"`
	TriggeredAlarms []string  `json:"triggered_alarms,omitempty"`
	// BakeEndsAt is derived by Plan in BAKE_TIME.
	BakeEndsAt time.Time `json:"bake_ends_at,omitempty"`
}

// Decided reports whether the deployment's outcome is settled: it has
// finished, or ECS is rolling it back.
func (d DeploymentStatus) Decided() bool {
	return d.Terminal() || d.RollingBack()
}

// RollingBack reports an ECS deployment on its way back.
func (d DeploymentStatus) RollingBack() bool {
	return d.Engine == EngineECS && (d.Status == ECSRollbackRequested || d.Status == ECSRollbackInProgress)
}

// ecsEndedBy is EndedBy for an ECS deployment.
func (d DeploymentStatus) ecsEndedBy() string {
	e := d.ECS
	why := ""
	switch {
	case e != nil && len(e.TriggeredAlarms) > 0:
		why = "alarm " + strings.Join(e.TriggeredAlarms, ", ")
	case e != nil && strings.Contains(e.StatusReason, "StopServiceDeployment"):
		why = "a stop request"
	case e != nil && strings.Contains(e.StatusReason, "ContinueServiceDeployment"):
		why = "a rollback at a lifecycle hook"
	case e != nil && strings.Contains(e.StatusReason, "timed out"):
		why = "a lifecycle hook's timeout"
	}
	switch {
	case d.Status == ECSSuccessful:
		return "completed"
	case why == "":
		return strings.ToLower(strings.ReplaceAll(d.Status, "_", " "))
	case strings.HasPrefix(d.Status, "ROLLBACK_"):
		return "rolled back (" + why + ")"
	}
	return strings.ToLower(d.Status) + " (" + why + ")"
}

// planECS is Plan for an ECS deployment.
func (d *DeploymentStatus) planECS(now time.Time) {
	e := d.ECS
	e.BakeEndsAt = time.Time{}
	s := e.Strategy
	switch {
	case d.Terminal():
		d.Step = d.EndedBy()
		if d.Status == ECSSuccessful {
			d.Step = "done: " + FormatPercent(d.CanaryPercent) + " on the new revision"
		}
	case d.RollingBack():
		d.Step = "rolling back: " + d.EndedBy()
	case e.Hook != nil:
		d.Step = fmt.Sprintf("PAUSED at %s: hook awaits action", e.Hook.Stage)
		if !e.Hook.ExpiresAt.IsZero() {
			d.Step += fmt.Sprintf(" (%s in %s)", e.Hook.TimeoutAction, shortDuration(e.Hook.ExpiresAt.Sub(now).Round(time.Second)))
		}
	case e.Stage == "PRODUCTION_TRAFFIC_SHIFT" && d.CanaryPercent < 100:
		next := 100.0
		if s.Name == "LINEAR" {
			next = min(100, d.CanaryPercent+s.Percent)
		}
		if !e.StageSince.IsZero() && s.Step > 0 {
			d.NextShiftAt, d.NextShiftTo = e.StageSince.Add(s.Step), next
		}
		d.Step = fmt.Sprintf("%s %s (bake %s per step)", strings.ToLower(s.Name), FormatPercent(d.CanaryPercent), shortDuration(s.Step))
	case e.Stage == "BAKE_TIME":
		if !e.StageSince.IsZero() {
			e.BakeEndsAt = e.StageSince.Add(s.Bake)
		}
		d.Step = "baking at " + FormatPercent(d.CanaryPercent) + ": both revisions kept"
	default:
		d.Step = "stage " + e.Stage
	}
}
