package cli

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/ui"
)

// cockpitKind is what sets one cockpit command (perch alb, lambda,
// codedeploy) apart from the others.
type cockpitKind struct {
	// need refuses flags that name no target of the command's kind (nil:
	// any valid target will do).
	need func(t *targetFlags) error
	// plan adds --plan and --paused: the autopilot moves weights, which
	// CodeDeploy does not let perch do.
	plan bool
	// wait waits for a CodeDeploy group with nothing in progress, saying
	// so on stderr.
	wait bool
}

// cockpitCommand gives cmd (its name and help) the target flags and a
// RunE that opens the cockpit on the target they name.
func cockpitCommand(g *globalFlags, cmd *cobra.Command, k cockpitKind) *cobra.Command {
	t := &targetFlags{}
	var rec string
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if k.need != nil {
			if err := k.need(t); err != nil {
				return err
			}
		}
		o := sessionOptions{via: "cockpit"}
		if k.wait {
			o.waitOut = cmd.ErrOrStderr()
		}
		ctx := cmd.Context()
		s, err := openSession(ctx, g, t, o)
		if err != nil {
			return err
		}
		defer s.close()
		return runCockpit(ctx, s, g, "", recordTo{path: rec})
	}
	addTargetFlags(cmd, t)
	addRecordFlag(cmd, &rec)
	if k.plan {
		addPlanFlags(cmd, t)
	}
	return cmd
}

// runCockpit runs the engine's poll loop and the TUI until the user quits.
func runCockpit(ctx context.Context, s *session, g *globalFlags, title string, rec recordTo) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	eng, stopRec, err := startRecording(s, rec, title, g.poll)
	if err != nil {
		return err
	}
	defer stopRec()
	s.start(ctx)
	// Stop the engine (its action in flight finishes and is audited)
	// before the recorder and, in the caller, the audit log close.
	defer s.stop()
	profile := g.profile
	m := ui.New(eng, ui.Options{Actor: s.actor, ReadOnly: g.readOnly, Title: title, Poll: g.poll, Clock: s.clock,
		Production: func(account string) bool { return (*config.File)(nil).IsProduction(profile, account) }})
	if _, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx)).Run(); err != nil {
		return withCode(ExitFailure, fmt.Errorf("cockpit: %w", err))
	}
	return nil
}
