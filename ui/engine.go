// Package ui is perch's cockpit: a bubbletea program that renders the
// engine's snapshots and turns keys into intents. It never talks to AWS: all
// it knows of the world arrives as model.Snapshot values.
package ui

import (
	"context"

	"github.com/perch-dev/perch/model"
)

// Engine is what the cockpit needs from the rollout engine.
type Engine interface {
	Snapshot() model.Snapshot
	// Subscribe delivers every new snapshot (latest wins if the reader is slow) until cancel.
	Subscribe() (updates <-chan model.Snapshot, cancel func())
	// Execute runs an intent to completion (blocking: call it only inside a tea.Cmd).
	Execute(ctx context.Context, in model.Intent) model.Result
}
