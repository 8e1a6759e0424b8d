package cli

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/ui"
)

func newALBCmd(g *globalFlags) *cobra.Command {
	t := &targetFlags{}
	var rec string
	cmd := &cobra.Command{
		Use:   "alb (--rule-arn ARN | --listener-arn ARN)",
		Short: "Open the cockpit on an ALB rule that splits traffic between two target groups",
		Example: `  perch alb --rule-arn arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee
  perch alb --listener-arn arn:aws:...:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2 --canary-target-group shop-canary`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := openSession(ctx, g, t, sessionOptions{via: "cockpit"})
			if err != nil {
				return err
			}
			defer s.close()
			return runCockpit(ctx, s, g, "", recordTo{path: rec})
		},
	}
	addTargetFlags(cmd, t)
	addRecordFlag(cmd, &rec)
	addPlanFlags(cmd, t)
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
	go s.engine.Run(ctx)
	m := ui.New(eng, ui.Options{Actor: s.actor, ReadOnly: g.readOnly, Title: title, Poll: g.poll})
	if _, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx)).Run(); err != nil {
		return withCode(ExitFailure, fmt.Errorf("cockpit: %w", err))
	}
	return nil
}
