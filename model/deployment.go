package model

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Continue asks a CodeDeploy deployment that waits (Ready, or an ECS
// deployment keeping its original task set until termination) to go on.
const Continue IntentKind = "continue"

// CodeDeploy's wait types, for DeploymentStatus.Waiting.
const (
	WaitReady       = "READY_WAIT"
	WaitTermination = "TERMINATION_WAIT"
)

// DeploymentStatus is what CodeDeploy says about the deployment perch
// watches. CodeDeploy moves the traffic itself; perch shows where it is in
// its configuration and can stop it (with rollback) or continue it.
type DeploymentStatus struct {
	ID              string         `json:"id"`
	Application     string         `json:"application"`
	Group           string         `json:"deployment_group"`
	ComputePlatform string         `json:"compute_platform"` // ECS or Lambda
	Config          string         `json:"config"`
	Routing         TrafficRouting `json:"routing"`
	// Status is CodeDeploy's: Created, Queued, InProgress, Baking, Ready,
	// Succeeded, Failed or Stopped.
	Status      string    `json:"status"`
	Creator     string    `json:"creator,omitempty"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at,omitempty"`
	CompletedAt time.Time `json:"completed_at,omitempty"`
	// ShiftStartedAt is when the AllowTraffic lifecycle event began: the
	// configuration's intervals count from there.
	ShiftStartedAt time.Time `json:"shift_started_at,omitempty"`
	// CanaryPercent is the replacement's share as the deployment's targets
	// report it.
	CanaryPercent float64 `json:"canary_percent"`
	// Waiting is the wait ContinueDeployment would end: WaitReady,
	// WaitTermination, or "" when the deployment is not waiting.
	Waiting string          `json:"waiting,omitempty"`
	Hooks   []LifecycleHook `json:"hooks,omitempty"`
	// Alarms are the deployment group's alarms; CodeDeploy stops the
	// deployment when one goes to ALARM (their states are in the
	// snapshot's Alarms).
	Alarms         []string            `json:"alarms,omitempty"`
	AutoRollback   bool                `json:"auto_rollback"`
	RollbackEvents []string            `json:"rollback_events,omitempty"`
	Error          *DeploymentError    `json:"error,omitempty"`
	Rollback       *DeploymentRollback `json:"rollback,omitempty"`

	// Derived by Plan from the fields above and the clock.
	Step        string    `json:"step"`
	NextShiftAt time.Time `json:"next_shift_at,omitempty"`
	NextShiftTo float64   `json:"next_shift_to,omitempty"`

	ReadAt  time.Time `json:"read_at"`
	ReadErr string    `json:"read_error,omitempty"`

	// Engine is EngineECS for an ECS service deployment ("" for
	// CodeDeploy); ECS holds what only those have.
	Engine string         `json:"engine,omitempty"`
	ECS    *ECSDeployment `json:"ecs,omitempty"`
}

// TrafficRouting is a deployment configuration's traffic shifting.
type TrafficRouting struct {
	Type     string        `json:"type"` // TimeBasedCanary, TimeBasedLinear, AllAtOnce
	Percent  float64       `json:"percent,omitempty"`
	Interval time.Duration `json:"interval,omitempty"`
}

// Shift is one traffic move of a configuration: After the start of
// shifting, the replacement gets Percent.
type Shift struct {
	After   time.Duration
	Percent float64
}

// Shifts lists the moves the configuration makes, the last to 100%. An
// unknown type is treated as all at once.
func (r TrafficRouting) Shifts() []Shift {
	switch {
	case r.Type == "TimeBasedCanary" && r.Percent > 0 && r.Percent < 100:
		return []Shift{{0, r.Percent}, {r.Interval, 100}}
	case r.Type == "TimeBasedLinear" && r.Percent > 0:
		var out []Shift
		for k := 1; ; k++ {
			p := math.Min(100, float64(k)*r.Percent)
			out = append(out, Shift{time.Duration(k-1) * r.Interval, p})
			if p >= 100 {
				return out
			}
		}
	}
	return []Shift{{0, 100}}
}

// String says the configuration the way the header does.
func (r TrafficRouting) String() string {
	switch r.Type {
	case "TimeBasedCanary":
		return fmt.Sprintf("canary %s for %s, then 100%%", FormatPercent(r.Percent), shortDuration(r.Interval))
	case "TimeBasedLinear":
		return fmt.Sprintf("linear +%s every %s", FormatPercent(r.Percent), shortDuration(r.Interval))
	case "AllAtOnce":
		return "all at once"
	}
	return r.Type
}

// LifecycleHook is one of the deployment's lifecycle events.
type LifecycleHook struct {
	Name   string    `json:"name"`
	Status string    `json:"status"` // Pending, InProgress, Succeeded, Failed, Skipped, Unknown
	Start  time.Time `json:"start,omitempty"`
	End    time.Time `json:"end,omitempty"`
}

// DeploymentError is CodeDeploy's errorInformation.
type DeploymentError struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// DeploymentRollback is CodeDeploy's rollbackInfo.
type DeploymentRollback struct {
	// DeploymentID is the rollback deployment CodeDeploy started for this
	// deployment.
	DeploymentID string `json:"deployment_id,omitempty"`
	// TriggeredBy is set when this deployment is itself a rollback: the
	// deployment it rolls back.
	TriggeredBy string `json:"triggered_by,omitempty"`
	Message     string `json:"message,omitempty"`
}

// Terminal reports whether the deployment has finished.
func (d DeploymentStatus) Terminal() bool {
	switch d.Status {
	case "Succeeded", "Failed", "Stopped", ECSSuccessful, ECSStopped, ECSRollbackSuccessful, ECSRollbackFailed:
		return true
	}
	return false
}

// RolledBack reports whether CodeDeploy started a rollback of it.
func (d DeploymentStatus) RolledBack() bool {
	if d.Engine == EngineECS {
		return strings.HasPrefix(d.Status, "ROLLBACK_")
	}
	return d.Rollback != nil && d.Rollback.DeploymentID != ""
}

// EndedBy says in a few words why a finished deployment ended the way it
// did: an alarm, a stop request, a failure.
func (d DeploymentStatus) EndedBy() string {
	if d.Engine == EngineECS {
		return d.ecsEndedBy()
	}
	var why string
	switch {
	case d.Error != nil && d.Error.Code == "ALARM_ACTIVE":
		why = "alarm"
		if names := alarmNames(d.Error.Message); names != "" {
			why += " " + names
		}
	case d.Error != nil && d.Error.Code == "MANUAL_STOP":
		why = "a stop request"
	case d.Error != nil:
		why = d.Error.Code
	case d.Status == "Succeeded":
		return "completed"
	default:
		why = strings.ToLower(d.Status)
	}
	if d.RolledBack() {
		return "rolled back (" + why + ")"
	}
	return strings.ToLower(d.Status) + " (" + why + ")"
}

// alarmNames pulls "a, b" out of CodeDeploy's "... Activated alarms: <a, b>".
func alarmNames(msg string) string {
	_, rest, ok := strings.Cut(msg, "alarms: <")
	if !ok {
		return ""
	}
	names, _, _ := strings.Cut(rest, ">")
	return names
}

// Plan works out, at now, which step of its configuration the deployment
// is in and when the next shift is due, and sets Step, NextShiftAt and
// NextShiftTo.
func (d *DeploymentStatus) Plan(now time.Time) {
	d.NextShiftAt, d.NextShiftTo = time.Time{}, 0
	if d.Engine == EngineECS && d.ECS != nil {
		d.planECS(now)
		return
	}
	switch {
	case d.Status == "Created" || d.Status == "Queued":
		d.Step = "waiting to start"
		return
	case d.Status == "Succeeded":
		d.Step = "done: " + FormatPercent(d.CanaryPercent) + " on the replacement"
		return
	case d.Terminal():
		d.Step = d.EndedBy()
		return
	case d.Waiting == WaitReady:
		d.Step = "ready: waiting for ContinueDeployment before shifting"
		return
	case d.Waiting == WaitTermination:
		d.Step = "shifted; original kept until its termination wait ends"
		return
	case d.ShiftStartedAt.IsZero():
		d.Step = "installing the replacement"
		if h := d.currentHook(); h != "" {
			d.Step += " (" + h + ")"
		}
		return
	}
	// The next shift is the first that would raise the share the targets
	// report; going by the share rather than by the clock alone keeps a
	// skewed local clock from announcing a shift already made.
	for _, s := range d.Routing.Shifts() {
		if s.Percent > d.CanaryPercent+0.05 {
			d.NextShiftAt, d.NextShiftTo = d.ShiftStartedAt.Add(s.After), s.Percent
			break
		}
	}
	cur := d.CanaryPercent
	switch d.Routing.Type {
	case "TimeBasedCanary":
		if cur < 100 {
			d.Step = fmt.Sprintf("canary %s for %s", FormatPercent(cur), shortDuration(d.Routing.Interval))
		}
	case "TimeBasedLinear":
		if cur < 100 {
			d.Step = fmt.Sprintf("linear %s (+%s every %s)", FormatPercent(cur), FormatPercent(d.Routing.Percent), shortDuration(d.Routing.Interval))
		}
	}
	if d.Step == "" || cur >= 100 {
		d.Step = "shifted " + FormatPercent(cur)
		if h := d.currentHook(); h != "" && h != "AllowTraffic" {
			d.Step += " (" + h + ")"
		}
	}
}

// currentHook names the lifecycle event in progress.
func (d DeploymentStatus) currentHook() string {
	for _, h := range d.Hooks {
		if h.Status == "InProgress" {
			return h.Name
		}
	}
	return ""
}
