// Package rollout is the engine: it polls the router, metrics and alarms on
// an injected clock, keeps immutable snapshots for any number of viewers,
// and executes intents as compare-and-set writes that are read back and
// audited.
package rollout

import (
	"context"
	"time"

	"github.com/perch-dev/perch/model"
)

// Router reads and writes a target's traffic split.
type Router interface {
	Target() model.Target
	ReadSplit(ctx context.Context) (model.Split, error)
	// WriteSplit sets the weights in want. want.Revision, when the router
	// has compare-and-set, must be the revision last read.
	WriteSplit(ctx context.Context, want model.Split) error
}

// HealthReader reports each side's registered capacity.
type HealthReader interface {
	Health(ctx context.Context) ([2]model.Health, error)
}

// MetricsReader fetches both sides' signals for periods starting in
// [start, end) in as few calls as it can.
type MetricsReader interface {
	Fetch(ctx context.Context, start, end time.Time) ([]model.SeriesData, error)
}

// AlarmReader reads the state of named CloudWatch alarms.
type AlarmReader interface {
	Alarms(ctx context.Context, names []string) ([]model.Alarm, error)
}

// IdentityReader says who the credentials belong to.
type IdentityReader interface {
	CallerIdentity(ctx context.Context) (model.Identity, error)
}

// AuditLog is where every intent, outcome and drift is recorded.
type AuditLog interface {
	// Append stamps Seq, Time is kept as given, chains the hash, fsyncs, and
	// returns the entry as written.
	Append(e model.AuditEntry) (model.AuditEntry, error)
	// Head is the newest entry's sequence number and hash, so the screen
	// can show what `perch audit verify --head` checks ("" for a log that
	// keeps none).
	Head() (seq int64, hash string, err error)
}

// SideKeeper keeps which side is the canary on AWS for the length of a
// rollout (an ALB rule's tags), and turns the router round when the
// operator confirms the side perch could only guess. Targets whose sides
// AWS states itself (a Lambda alias, a CodeDeploy deployment) have none.
type SideKeeper interface {
	ReadMarker(ctx context.Context) (m model.RolloutMarker, ok bool, err error)
	WriteMarker(ctx context.Context, m model.RolloutMarker) error
	ClearMarker(ctx context.Context) error
	// ChooseCanary makes the side with this ID the canary; the router's
	// Target then says it is confirmed.
	ChooseCanary(id string) error
}
