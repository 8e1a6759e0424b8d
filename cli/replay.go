package cli

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/record"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/ui"
)

// recordTo is where a cockpit records to ("" for nowhere) and on which
// clock its frames are stamped (nil: the wall clock).
type recordTo struct {
	path  string
	clock clock.Clock
}

// addRecordFlag adds --record to a cockpit command.
func addRecordFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "record", "", "record every snapshot and action to `FILE` (gzip JSONL, mode 0600) for perch replay")
}

// startRecording starts recording the session's engine when asked. It
// returns the engine viewers should act through (so their actions are
// recorded too) and a stop function that finishes the file.
func startRecording(s *session, rec recordTo, title string, poll time.Duration) (rollout.Control, func(), error) {
	if rec.path == "" {
		return s.engine, func() {}, nil
	}
	clk := rec.clock
	if clk == nil {
		clk = clock.Real{}
	}
	w, err := record.Create(rec.path, record.Header{Target: s.engine.Snapshot().Target, Title: title, Poll: poll})
	if err != nil {
		return nil, nil, withCode(ExitFailure, err)
	}
	r := record.Start(s.engine, w, clk)
	return r.Engine(), func() {
		if err := r.Stop(); err != nil {
			s.logger.Error("recording", "path", rec.path, "err", err)
		}
	}, nil
}

func newReplayCmd() *cobra.Command {
	var speed float64
	cmd := &cobra.Command{
		Use:   "replay FILE [--speed X]",
		Short: "Play back a recording (--record) in the cockpit, read-only",
		Long: `Open the cockpit on a recording made with --record: the same screens as they
were, the audit pane as it was at each moment. Nothing can be changed.

Keys: space pause/play, ← → seek a minute, home/end jump to the start/end,
< > slower/faster, q quit.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if speed <= 0 || speed > 500 {
				return usageErr("--speed %v: want a factor above 0 and at most 500", speed)
			}
			rec, err := record.Open(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			if rec.Truncated {
				fmt.Fprintf(cmd.ErrOrStderr(), "perch: %s ends mid-write (the recorder was stopped abruptly); replaying what was written\n", args[0])
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			p := record.NewPlayer(rec, clock.Real{}, speed)
			go p.Run(ctx)
			title := "replay"
			if rec.Header.Title != "" {
				title += " · " + rec.Header.Title
			}
			m := ui.New(p, ui.Options{Replay: p, ReadOnly: true, Title: title, Poll: rec.Header.Poll})
			if _, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx)).Run(); err != nil {
				return withCode(ExitFailure, fmt.Errorf("replay: %w", err))
			}
			return nil
		},
	}
	cmd.Flags().Float64Var(&speed, "speed", 1, "play this many times faster than recorded")
	return cmd
}
