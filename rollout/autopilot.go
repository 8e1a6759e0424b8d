package rollout

import (
	"context"
	"fmt"

	"github.com/perch-dev/perch/model"
)

// autopilot holds a plan's progress. It lives inside the engine and acts
// only from the poll loop, so its decisions always rest on fresh data.
type autopilot struct {
	plan     model.Plan
	state    model.PlanState
	decision model.PlanDecision
	aligned  bool // the plan has been matched to the split found at start
}

func (a *autopilot) status() *model.AutopilotStatus {
	return &model.AutopilotStatus{
		Plan: a.plan, State: a.state, Decision: a.decision,
		Running: !a.state.Paused && !a.state.Done,
	}
}

// SetPaused pauses or resumes the autopilot and audits the change. It
// returns false when no plan is loaded.
func (e *Engine) SetPaused(paused bool, actor model.Actor) bool {
	e.mu.Lock()
	ap := e.auto
	if ap == nil {
		e.mu.Unlock()
		return false
	}
	changed := ap.state.Paused != paused
	ap.state.Paused = paused
	status := ap.status()
	e.mu.Unlock()
	if changed {
		action := "resume"
		if paused {
			action = "pause"
		}
		e.appendAudit(model.AuditEntry{Actor: actor, Action: action, Phase: model.PhaseEvent,
			Detail: fmt.Sprintf("autopilot %sd (plan %s)", action, status.Plan)})
		e.publish(func(s *model.Snapshot) { s.Autopilot = status })
		if !paused {
			e.RequestPoll()
		}
	}
	return true
}

// stepAutopilot asks the plan what to do with this poll's snapshot and
// carries it out through Execute, like any operator action: compare-and-
// set, read back, audited with the reason and the judge's evidence.
func (e *Engine) stepAutopilot(ctx context.Context, snap model.Snapshot) {
	d, evidence, act := e.decideAutopilot(snap)
	if !act {
		return
	}
	var in model.Intent
	switch d.Action {
	case model.PlanAdvance:
		in = model.Intent{Kind: model.SetPercent, Percent: d.ToPercent}
	case model.PlanRollback:
		in = model.Intent{Kind: model.Rollback}
	case model.PlanComplete:
		e.finishPlan(d, snap)
		return
	default:
		return
	}
	in.Reason = d.Reason + " (" + evidence + ")"
	in.Expected = &snap.Split
	in.Actor = model.Actor{ARN: snap.Identity.ARN, OSUser: e.cfg.AutopilotUser, Via: "autopilot"}
	res := e.Execute(ctx, in)

	e.mu.Lock()
	ap := e.auto
	if res.Outcome == model.OutcomeOK && res.Verified {
		ap.state = ap.plan.Apply(ap.state, d, e.cfg.Clock.Now())
	} else {
		ap.decision = model.PlanDecision{Action: model.PlanHold, Step: ap.state.Step, Blocked: res.Reason,
			Reason: fmt.Sprintf("%s did not go through (%s): holding", d.Action, res.Err)}
	}
	status := ap.status()
	e.mu.Unlock()
	e.publish(func(s *model.Snapshot) { s.Autopilot = status })
}

// decideAutopilot is the plan's decision on snap, published; act is false
// when there is nothing to carry out (no plan, done, or traffic unknown).
// evidence is what the decision rests on, for the audit reason.
func (e *Engine) decideAutopilot(snap model.Snapshot) (d model.PlanDecision, evidence string, act bool) {
	e.mu.Lock()
	ap := e.auto
	if ap == nil || ap.state.Done {
		// Done: keep the decision that ended the plan on screen.
		e.mu.Unlock()
		return d, "", false
	}
	if !snap.SplitKnown {
		ap.decision = model.PlanDecision{Action: model.PlanHold, Step: ap.state.Step, Reason: "traffic state unknown: holding"}
	} else {
		var firing string
		d, firing, evidence = e.planDecisionLocked(ap, snap)
		ap.decision = d
		if firing != "" {
			evidence = fmt.Sprintf("alarm %s in ALARM; %s", firing, evidence)
		}
		act = true
	}
	status := ap.status()
	e.mu.Unlock()
	e.publish(func(s *model.Snapshot) { s.Autopilot = status })
	return ap.decision, evidence, act
}

// planDecisionLocked asks the plan, holding rather than advancing when
// the judge's or the alarms' inputs are stale.
func (e *Engine) planDecisionLocked(ap *autopilot, snap model.Snapshot) (model.PlanDecision, string, string) {
	current := snap.Split.CanaryPercent()
	if !ap.aligned {
		// Attaching to a canary already at one of the plan's steps starts
		// that step's bake now instead of moving traffic back to step 1.
		for i, st := range ap.plan.Steps {
			if abs(st.Percent-current) < 0.05 {
				ap.state.Step, ap.state.EnteredAt = i, snap.Now
			}
		}
		ap.aligned = true
	}
	verdict, summary := model.VerdictInsufficient, "no verdict yet"
	if snap.Verdict != nil {
		verdict, summary = snap.Verdict.Overall, snap.Verdict.Summary
	}
	firing := ""
	for _, a := range snap.Alarms {
		if a.State == model.AlarmAlarm {
			firing = a.Name
			break
		}
	}
	d := ap.plan.Next(ap.state, snap.Now, verdict, firing != "", current)
	if stale := staleInputs(snap); stale != "" && (d.Action == model.PlanAdvance || d.Action == model.PlanComplete) {
		// A PASS or a quiet alarm from before the outage is a guess
		// about now: never move traffic forward on it. Rolling back on
		// old bad news is still the safe direction.
		d = model.PlanDecision{Action: model.PlanHold, Step: ap.state.Step,
			Reason: stale + ": holding, not advancing on old data"}
	}
	return d, firing, "judge: " + summary
}

func (e *Engine) finishPlan(d model.PlanDecision, snap model.Snapshot) {
	e.mu.Lock()
	ap := e.auto
	ap.state = ap.plan.Apply(ap.state, d, snap.Now)
	status := ap.status()
	e.mu.Unlock()
	e.appendAudit(model.AuditEntry{
		Actor:  model.Actor{ARN: snap.Identity.ARN, OSUser: e.cfg.AutopilotUser, Via: "autopilot"},
		Action: "plan-complete", Phase: model.PhaseEvent,
		To: model.Pct(snap.Split.CanaryPercent()), Detail: d.Reason,
	})
	e.publish(func(s *model.Snapshot) { s.Autopilot = status })
}

// staleInputs names the judge's inputs the newest poll could not read.
func staleInputs(snap model.Snapshot) string {
	switch {
	case snap.MetricsErr != "" && snap.AlarmsErr != "":
		return "metrics and alarms unavailable"
	case snap.MetricsErr != "":
		return "metrics unavailable"
	case snap.AlarmsErr != "":
		return "alarms unavailable"
	}
	return ""
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
