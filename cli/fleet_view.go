package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/ui"
)

// runFleet runs the poller and the fleet view until the view quits.
func runFleet(ctx context.Context, s *fleetSession, g *globalFlags, title, open string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.start(ctx)
	defer s.stop()
	// A cockpit calls data stale after three polls; in a fleet, metrics
	// arrive once a period, so a period is the shortest honest interval.
	m := ui.NewFleet(newUIFleet(s.fleet), ui.FleetOptions{
		Title: title, Actor: s.actor, ReadOnly: g.readOnly, Poll: max(g.poll, time.Minute), Open: open,
		Production: s.production,
	})
	if _, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx)).Run(); err != nil {
		return withCode(ExitFailure, fmt.Errorf("fleet view: %w", err))
	}
	return nil
}

// uiFleet adapts the poller to the fleet view's port.
type uiFleet struct {
	f       *rollout.Fleet
	engines []rollout.Control
}

func newUIFleet(f *rollout.Fleet) *uiFleet {
	u := &uiFleet{f: f}
	for _, e := range f.Engines() {
		u.engines = append(u.engines, e)
	}
	return u
}

func (u *uiFleet) Engines() []rollout.Control { return u.engines }
func (u *uiFleet) Focus(i int)                { u.f.Focus(i) }
func (u *uiFleet) Status() rollout.FleetStats { return u.f.Stats() }

// Subscribe is the poller's own: its cancel closes the channel.
func (u *uiFleet) Subscribe() (<-chan rollout.FleetStats, func()) { return u.f.Subscribe() }

// addFleetFlags puts --target on the root command, which opens the fleet
// of --config (or, with --target, one target's cockpit).
func addFleetFlags(root *cobra.Command, g *globalFlags) {
	var target string
	root.Flags().StringVar(&target, "target", "", "with --config: open this target's cockpit (esc shows the rest of the fleet)")
	root.Args = cobra.NoArgs
	root.Long += "\n\nWith no command, perch lists what is rolling out in the account (every kind, the\nprofile's region or --region a,b) and opens a cockpit on enter; perch ls prints the list.\nWatch many canaries at once:  perch --config perch.yaml  (perch config validate checks it)"
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if g.config == "" {
			if target != "" {
				return usageErr("--target names a target of --config FILE")
			}
			file, err := defaultConfig()
			if err != nil {
				return err
			}
			return runDiscover(cmd.Context(), g, file)
		}
		f, err := loadConfig(g.config)
		if err != nil {
			return err
		}
		if target != "" {
			if _, ok := f.ByName(target); !ok {
				return usageErr("%s has no target %q (have %v)", g.config, target, f.Names())
			}
		}
		ctx := cmd.Context()
		s, err := openFleet(ctx, g, f, fleetOptions{via: "cockpit"})
		if err != nil {
			return err
		}
		defer s.close()
		return runFleet(ctx, s, g, filepath.Base(g.config), target)
	}
}

// loadConfig reads --config; its problems are a usage error listing each
// with its line.
func loadConfig(path string) (*config.File, error) {
	f, err := config.Load(path)
	if err != nil {
		var es *config.Errors
		if errors.As(err, &es) {
			return nil, &exitError{code: ExitUsage, err: es}
		}
		return nil, usageErr("%v", err)
	}
	return f, nil
}
