package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/ui"
)

// addRecordFlag adds --record to a cockpit command.
func addRecordFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "record", "", "record every snapshot and action to FILE (gzip JSONL, mode 0600) for perch replay")
}

// startRecording returns the engine the viewers should use.
func startRecording(ctx context.Context, path string, s *session, clk clock.Clock) (ui.Engine, func(), error) {
	return s.engine, func() {}, nil
}
