package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// PlanStep is one stop of a rollout: send Percent of traffic to the canary
// and keep it there at least Bake.
type PlanStep struct {
	Percent float64       `json:"percent"`
	Bake    time.Duration `json:"bake"`
}

// PlanPolicy says what the autopilot does by itself when things go wrong.
type PlanPolicy struct {
	RollbackOnFail  bool `json:"rollback_on_fail"`
	RollbackOnAlarm bool `json:"rollback_on_alarm"`
}

// DefaultPlanPolicy rolls back on both: an autopilot that only stops
// leaves a bad canary serving its share until someone notices.
func DefaultPlanPolicy() PlanPolicy {
	return PlanPolicy{RollbackOnFail: true, RollbackOnAlarm: true}
}

// Plan is an ordered list of steps with increasing percentages.
type Plan struct {
	Name   string     `json:"name"`
	Steps  []PlanStep `json:"steps"`
	Policy PlanPolicy `json:"policy"`
}

// String renders the plan in the step syntax ParsePlan reads.
func (p Plan) String() string {
	parts := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		// Exact, not FormatPercent's rounding: the string must read back
		// as the same plan.
		parts[i] = strconv.FormatFloat(s.Percent, 'f', -1, 64) + "%"
		if s.Bake > 0 || i < len(p.Steps)-1 {
			parts[i] += ":" + shortDuration(s.Bake)
		}
	}
	return strings.Join(parts, ",")
}

// shortDuration drops Go's zero units: 10m rather than 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// PlanState is where the autopilot is in a plan. The zero value is a plan
// not yet started. Step indexes Steps: the step traffic was last set to,
// at EnteredAt.
type PlanState struct {
	Step      int       `json:"step"`
	EnteredAt time.Time `json:"entered_at"`
	Paused    bool      `json:"paused"`
	Done      bool      `json:"done"`
}

// Started reports whether the first step has been applied.
func (s PlanState) Started() bool { return !s.EnteredAt.IsZero() }

// PlanAction is what the autopilot should do now.
type PlanAction string

const (
	PlanHold     PlanAction = "hold"
	PlanAdvance  PlanAction = "advance"
	PlanRollback PlanAction = "rollback"
	PlanComplete PlanAction = "complete"
)

// PlanDecision is the plan's answer for one poll. ToPercent is the canary
// percentage to set for Advance (the next step) and Rollback (0); Step is
// the step index the state should move to.
type PlanDecision struct {
	Action    PlanAction `json:"action"`
	ToPercent float64    `json:"to_percent"`
	Step      int        `json:"step"`
	Reason    string     `json:"reason"`
	// Blocked, on a hold, is why the action the plan chose did not go
	// through (the engine refused it or it failed).
	Blocked Reason `json:"blocked,omitempty"`
}

// samePercent compares router percentages, which come back rounded.
func samePercent(a, b float64) bool { return math.Abs(a-b) < 0.05 }

// Next decides what to do at now, given the judge's verdict, whether a
// watched alarm is in ALARM, and the canary percentage the router reports.
// It is pure; the caller carries out the decision and, when it succeeded,
// moves the state on with Apply.
//
// Order of precedence: a finished plan does nothing; a paused one does
// nothing either (the operator holds the controls, so not even a rollback
// is taken from them; the reason says what would have happened); then
// alarm and FAIL (roll back, or hold when the policy says not to); then
// traffic moved outside the plan (hold: the plan no longer knows where it
// is); then the bake timer; then the verdict, which must be PASS to go on.
// The first step is taken without a verdict: there is no canary traffic to
// judge before it.
func (p Plan) Next(state PlanState, now time.Time, verdict VerdictKind, alarmFiring bool, currentPercent float64) PlanDecision {
	hold := func(format string, args ...any) PlanDecision {
		return PlanDecision{Action: PlanHold, ToPercent: currentPercent, Step: state.Step, Reason: fmt.Sprintf(format, args...)}
	}
	if len(p.Steps) == 0 {
		return hold("the plan has no steps")
	}
	if state.Done {
		return hold("plan finished")
	}
	if state.Step < 0 || state.Step >= len(p.Steps) {
		return hold("plan state names step %d of %d", state.Step+1, len(p.Steps))
	}
	var trouble string
	var rollback bool
	switch {
	case alarmFiring:
		trouble, rollback = "a watched alarm is in ALARM", p.Policy.RollbackOnAlarm
	case verdict == VerdictFail:
		trouble, rollback = "the judge says FAIL", p.Policy.RollbackOnFail
	}
	if state.Paused {
		if trouble != "" && rollback && currentPercent > 0 {
			return hold("paused; %s: roll back by hand", trouble)
		}
		return hold("paused")
	}
	if trouble != "" {
		if !rollback {
			return hold("%s; rollback is off for it: holding", trouble)
		}
		if currentPercent <= 0 && state.Started() {
			return hold("%s; canary already at 0%%", trouble)
		}
		return PlanDecision{Action: PlanRollback, ToPercent: 0, Step: state.Step, Reason: trouble + ": rolling back"}
	}
	step := p.Steps[state.Step]
	if !state.Started() {
		return PlanDecision{Action: PlanAdvance, ToPercent: step.Percent, Step: 0,
			Reason: fmt.Sprintf("start: step 1 of %d, %s", len(p.Steps), FormatPercent(step.Percent))}
	}
	if !samePercent(currentPercent, step.Percent) {
		return hold("canary at %s, but step %d is %s: traffic moved outside the plan",
			FormatPercent(currentPercent), state.Step+1, FormatPercent(step.Percent))
	}
	if left := state.EnteredAt.Add(step.Bake).Sub(now); left > 0 {
		return hold("baking step %d (%s): %s left", state.Step+1, FormatPercent(step.Percent), shortDuration(left.Round(time.Second)))
	}
	if verdict != VerdictPass {
		if state.Step == len(p.Steps)-1 && samePercent(currentPercent, 100) {
			// All traffic is on the canary: stable serves nothing to
			// compare with, so no PASS can come, and completing moves no
			// traffic.
			return PlanDecision{Action: PlanComplete, ToPercent: currentPercent, Step: state.Step,
				Reason: fmt.Sprintf("last step (%s) baked; stable has no traffic left to judge against: plan complete", FormatPercent(step.Percent))}
		}
		return hold("bake of step %d done; waiting for the judge (%s)", state.Step+1, verdict)
	}
	if state.Step == len(p.Steps)-1 {
		return PlanDecision{Action: PlanComplete, ToPercent: currentPercent, Step: state.Step,
			Reason: fmt.Sprintf("last step (%s) baked and judged PASS: plan complete", FormatPercent(step.Percent))}
	}
	next := p.Steps[state.Step+1]
	return PlanDecision{Action: PlanAdvance, ToPercent: next.Percent, Step: state.Step + 1,
		Reason: fmt.Sprintf("step %d baked %s and judged PASS: step %d of %d, %s",
			state.Step+1, shortDuration(step.Bake), state.Step+2, len(p.Steps), FormatPercent(next.Percent))}
}

// Apply is the state after decision d was carried out at now. A rollback
// ends the plan: starting again is a new decision for the operator.
func (p Plan) Apply(state PlanState, d PlanDecision, now time.Time) PlanState {
	switch d.Action {
	case PlanAdvance:
		state.Step, state.EnteredAt = d.Step, now
	case PlanRollback, PlanComplete:
		state.Done = true
	}
	return state
}
