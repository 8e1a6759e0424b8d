package model

import "time"

// Snapshot is an immutable view of everything perch knows about one target
// at one moment. The engine builds a new one per poll or action; viewers
// only ever read them.
type Snapshot struct {
	Seq      uint64    `json:"seq"`
	Now      time.Time `json:"now"`
	Target   Target    `json:"target"`
	Identity Identity  `json:"identity"`
	ReadOnly bool      `json:"read_only"`
	Ladder   Ladder    `json:"ladder"`

	Split      Split     `json:"split"`
	SplitKnown bool      `json:"split_known"` // false until a read succeeds, or after a failed one
	SplitAt    time.Time `json:"split_at"`
	SplitErr   string    `json:"split_error,omitempty"`
	Health     [2]Health `json:"health"`
	// HealthErr is set when the last health read failed: Health is then
	// empty because it is unknown, not because nothing is registered.
	HealthErr string `json:"health_error,omitempty"`

	Signals    Signals   `json:"-"`
	MetricsAt  time.Time `json:"metrics_at"`
	MetricsErr string    `json:"metrics_error,omitempty"`

	Alarms    []Alarm   `json:"alarms"`
	AlarmsAt  time.Time `json:"alarms_at"`
	AlarmsErr string    `json:"alarms_error,omitempty"`

	// Verdict is the judge's reading of the signals at this poll.
	Verdict *Verdict `json:"verdict,omitempty"`
	// Autopilot is set when a plan is loaded.
	Autopilot *AutopilotStatus `json:"autopilot,omitempty"`
	// Deployment is set for a CodeDeploy target: the deployment that moves
	// the traffic, as CodeDeploy last reported it.
	Deployment *DeploymentStatus `json:"deployment,omitempty"`

	// Logs is set when perch watches the sides' logs: their error-like
	// patterns, the NEW ones marked.
	Logs *LogsView `json:"logs,omitempty"`

	// Drift is set when the split changed without perch doing it.
	Drift *Drift `json:"drift,omitempty"`
	// Busy names an action in flight; the screen says so and refuses another.
	Busy string `json:"busy,omitempty"`
	// Last is the result of the newest action.
	Last *Result `json:"last,omitempty"`
	// Audit is the newest audit entries, oldest first.
	Audit []AuditEntry `json:"audit,omitempty"`
	// AuditSeq and AuditHead are the audit log's newest entry (any
	// target's, any writer's) as of the last poll: shown so that a copy of
	// the log can be checked later with perch audit verify --head, which
	// catches entries cut off its end. Zero when the log cannot say.
	AuditSeq  int64  `json:"audit_seq,omitempty"`
	AuditHead string `json:"audit_head,omitempty"`
}

// Drift records a split change made behind perch's back.
type Drift struct {
	From Split     `json:"from"`
	To   Split     `json:"to"`
	At   time.Time `json:"at"`
}

// ObservedCanaryShare is the canary's share of requests over the window
// since t, in percent, and whether there were any requests at all.
func (s Snapshot) ObservedCanaryShare(since time.Time) (float64, bool) {
	// Routing happens before throttling: a throttled Lambda invocation
	// was still sent to its version, so it counts towards the share.
	var st, ca float64
	if s.Signals[Stable] != nil {
		st = Sum(s.Signals[Stable][Requests], since) + Sum(s.Signals[Stable][Throttles], since)
	}
	if s.Signals[Canary] != nil {
		ca = Sum(s.Signals[Canary][Requests], since) + Sum(s.Signals[Canary][Throttles], since)
	}
	if st+ca == 0 {
		return 0, false
	}
	return 100 * ca / (st + ca), true
}

// ReplayState is where the replay of a recording is and how fast it moves.
type ReplayState struct {
	Paused     bool
	Speed      float64
	At         time.Time // the recorded time now shown
	Start, End time.Time
}
