package model

import "time"

// Actor is who did something: the AWS principal plus the local user, and
// through which front end.
type Actor struct {
	ARN    string `json:"arn,omitempty"`
	OSUser string `json:"os_user,omitempty"`
	Via    string `json:"via,omitempty"` // cockpit, headless, autopilot, ssh:<user>
}

func (a Actor) String() string {
	who := a.OSUser
	if who == "" {
		who = "?"
	}
	if a.ARN != "" {
		who += " (" + a.ARN + ")"
	}
	return who
}

// AuditPhase separates what was about to happen from what happened, so a
// crash between the two is visible in the log.
type AuditPhase string

const (
	PhaseIntent  AuditPhase = "intent"
	PhaseOutcome AuditPhase = "outcome"
	PhaseEvent   AuditPhase = "event" // observed, not done by perch: drift
)

// AuditEntry is one line of the hash-chained audit log.
type AuditEntry struct {
	Seq       int64      `json:"seq"`
	Time      time.Time  `json:"time"`
	Actor     Actor      `json:"actor"`
	Target    string     `json:"target"`
	Action    string     `json:"action"` // shift, promote, rollback, drift
	Phase     AuditPhase `json:"phase"`
	Outcome   Outcome    `json:"outcome,omitempty"`
	From      *float64   `json:"from_percent,omitempty"` // canary percent
	To        *float64   `json:"to_percent,omitempty"`
	Verified  bool       `json:"verified,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Detail    string     `json:"detail,omitempty"`
	IntentSeq int64      `json:"intent_seq,omitempty"` // an outcome's intent
	// Canary and Stable are the sides (target group ARN, version) the
	// percentages refer to, so a later perch on this machine can recover
	// which side was the canary.
	Canary string `json:"canary,omitempty"`
	Stable string `json:"stable,omitempty"`
	Prev   string `json:"prev"` // hash of the previous entry
	// Hash is the SHA-256 (hex) of this entry's JSON encoding with Hash
	// empty; chaining Prev to it makes any edit of any entry detectable.
	Hash string `json:"hash"`
}

// Pct is a helper for the optional percent fields.
func Pct(v float64) *float64 { return &v }
