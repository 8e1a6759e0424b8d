package rollout

import (
	"context"

	"github.com/perch-dev/perch/model"
)

// Control is what a viewer needs from a running engine. The cockpit, an
// SSH seat, the recorder, a fleet's cockpit and a replay all offer exactly
// this, and every action (pausing the autopilot and confirming the canary
// included) is an intent through Execute, so no control can silently
// disappear behind a wrapper: each answers, or says why not.
type Control interface {
	Snapshot() model.Snapshot
	// Subscribe delivers every new snapshot (latest wins if the reader is
	// slow) until cancel.
	Subscribe() (updates <-chan model.Snapshot, cancel func())
	// Execute runs an intent to completion (blocking: call it only inside
	// a tea.Cmd or another background task).
	Execute(ctx context.Context, in model.Intent) model.Result
}

var _ Control = (*Engine)(nil)
