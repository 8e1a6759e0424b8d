package model

import "fmt"

// IntentKind is what the operator (or the autopilot) asks for.
type IntentKind string

const (
	StepUp     IntentKind = "step_up"
	StepDown   IntentKind = "step_down"
	SetPercent IntentKind = "set"
	Promote    IntentKind = "promote"
	Rollback   IntentKind = "rollback"
	// Pause and Resume stop and restart the autopilot. They are intents,
	// not side methods, so every wrapper of an engine (an SSH seat, a
	// recorder, a replay) answers them as it answers any other action.
	Pause  IntentKind = "pause"
	Resume IntentKind = "resume"
	// ConfirmCanary is the operator saying which side is the canary
	// (Intent.Canary), when perch could only guess or its sources
	// disagreed. It is audited and written to AWS as the rollout marker.
	ConfirmCanary IntentKind = "confirm_canary"
)

// Intent is a request to move traffic. Expected is the split the requester
// last saw: the engine refuses when the live split no longer matches it.
type Intent struct {
	Kind     IntentKind `json:"kind"`
	Percent  float64    `json:"percent,omitempty"` // for SetPercent
	Expected *Split     `json:"expected,omitempty"`
	Reason   string     `json:"reason,omitempty"`
	Actor    Actor      `json:"actor"`
	// Canary is the side ID (target group ARN) ConfirmCanary names.
	Canary string `json:"canary,omitempty"`
}

// MovesTraffic says whether the intent asks for a new split (as opposed
// to steering the autopilot or a deployment, or naming the canary).
func (k IntentKind) MovesTraffic() bool {
	switch k {
	case StepUp, StepDown, SetPercent, Promote, Rollback:
		return true
	}
	return false
}

// Target resolves the intent to a canary percentage given the current split
// and the ladder.
func (i Intent) Target(cur Split, l Ladder) (float64, error) {
	switch i.Kind {
	case StepUp:
		if v, ok := l.Next(cur.CanaryPercent()); ok {
			return v, nil
		}
		return 0, fmt.Errorf("canary already at the top of the ladder (%s)", FormatPercent(cur.CanaryPercent()))
	case StepDown:
		if v, ok := l.Prev(cur.CanaryPercent()); ok {
			return v, nil
		}
		return 0, fmt.Errorf("canary already at the bottom of the ladder (%s)", FormatPercent(cur.CanaryPercent()))
	case SetPercent:
		if i.Percent < 0 || i.Percent > 100 || i.Percent != i.Percent {
			return 0, fmt.Errorf("%v%% is not a percentage 0-100", i.Percent)
		}
		return i.Percent, nil
	case Promote:
		return 100, nil
	case Rollback:
		return 0, nil
	}
	return 0, fmt.Errorf("%q does not move traffic", i.Kind)
}

// Action names the audit action for an intent kind.
func (k IntentKind) Action() string {
	switch k {
	case Promote:
		return "promote"
	case Rollback:
		return "rollback"
	case Continue:
		return "continue"
	case Pause:
		return "pause"
	case Resume:
		return "resume"
	case ConfirmCanary:
		return "confirm-canary"
	}
	return "shift"
}

// Outcome is how an executed intent ended.
type Outcome string

const (
	OutcomeOK      Outcome = "ok"      // written and read back as asked
	OutcomeFailed  Outcome = "failed"  // the write or the read-back failed
	OutcomeRefused Outcome = "refused" // not attempted: drift, read-only, unknown state
)

// Reason says why an intent was refused or failed, as a type: exit codes,
// the drill and the screen decide on it, never on the text of Err.
type Reason string

// Refusals: nothing was asked of AWS that changes traffic.
const (
	ReasonDrift        Reason = "drift"         // the split changed since the requester looked
	ReasonReadOnly     Reason = "read_only"     // perch runs read-only, or the deployment is finished
	ReasonUnknownState Reason = "unknown_state" // the split could not be read
	ReasonLadder       Reason = "ladder"        // no step left on the ladder that way
	ReasonBadRequest   Reason = "bad_request"   // not a percentage, not a side of this target
	// ReasonCanaryUnconfirmed: perch does not know which side is the
	// canary as a fact (it can only guess, or its sources disagree).
	ReasonCanaryUnconfirmed Reason = "canary_unconfirmed"
	ReasonUnsupported       Reason = "unsupported"       // not something this target (or viewer) can do
	ReasonNotDriving        Reason = "not_driving"       // a watcher in a shared session
	ReasonNoPlan            Reason = "no_plan"           // pause or resume with no autopilot plan
	ReasonAuditUnavailable  Reason = "audit_unavailable" // the intent could not be logged, so nothing was written
	ReasonMarker            Reason = "marker"            // the rollout marker could not be read or written
	ReasonBusy              Reason = "busy"              // the deployment is not in a state to take it
)

// Failures: something was sent and did not end as asked, or its end could
// not be recorded.
const (
	ReasonWriteFailed      Reason = "write_failed"       // AWS refused or the call failed
	ReasonReadBackFailed   Reason = "read_back_failed"   // the split could not be read after the write
	ReasonReadBackMismatch Reason = "read_back_mismatch" // read back, but not what was asked
	// ReasonOutcomeUnlogged: the write was verified but its outcome could
	// not be written to the audit log, so the action is not done.
	ReasonOutcomeUnlogged Reason = "outcome_unlogged"
)

// Result is what the engine reports after executing an intent.
type Result struct {
	Intent  Intent  `json:"intent"`
	Outcome Outcome `json:"outcome"`
	// Reason is set when Outcome is refused or failed.
	Reason   Reason   `json:"reason,omitempty"`
	From     Split    `json:"from"`
	To       Split    `json:"to"` // the split read back after the write (or the live one)
	Verified bool     `json:"verified"`
	Warnings []string `json:"warnings,omitempty"`
	Err      string   `json:"error,omitempty"`
}

// Refused is a result that asked nothing of AWS, for why.
func Refused(in Intent, why Reason, msg string) Result {
	return Result{Intent: in, Outcome: OutcomeRefused, Reason: why, Err: msg}
}
