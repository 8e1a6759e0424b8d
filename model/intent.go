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
)

// Intent is a request to move traffic. Expected is the split the requester
// last saw: the engine refuses when the live split no longer matches it.
type Intent struct {
	Kind     IntentKind `json:"kind"`
	Percent  float64    `json:"percent,omitempty"` // for SetPercent
	Expected *Split     `json:"expected,omitempty"`
	Reason   string     `json:"reason,omitempty"`
	Actor    Actor      `json:"actor"`
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
		if i.Percent < 0 || i.Percent > 100 {
			return 0, fmt.Errorf("%v%% is not a percentage 0-100", i.Percent)
		}
		return i.Percent, nil
	case Promote:
		return 100, nil
	case Rollback:
		return 0, nil
	}
	return 0, fmt.Errorf("unknown intent %q", i.Kind)
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

// Result is what the engine reports after executing an intent.
type Result struct {
	Intent   Intent   `json:"intent"`
	Outcome  Outcome  `json:"outcome"`
	From     Split    `json:"from"`
	To       Split    `json:"to"` // the split read back after the write (or the live one)
	Verified bool     `json:"verified"`
	Warnings []string `json:"warnings,omitempty"`
	Err      string   `json:"error,omitempty"`
}
