package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
)

// fleetScenario applies --fleet N to the loaded scenario.
func (f *simFlags) fleetScenario(sc *sim.Scenario) (*sim.Scenario, error) {
	if f.fleet == 0 {
		return sc, nil
	}
	out, err := sim.FleetScenario(sc, f.fleet)
	if err != nil {
		return nil, usageErr("--fleet: %v", err)
	}
	return out, nil
}

// manifestFleet is a config file for every drivable canary the simulator
// seeded, each with the demo's plan and its scenario's alarms.
func manifestFleet(m sim.Manifest, sc *sim.Scenario, plan *model.Plan, paused bool) *config.File {
	f := &config.File{Path: "demo", PublishDelay: sc.PublishDelay.D(), Lookback: config.DefaultLookback}
	for _, mt := range m.Targets {
		if mt.Note != "" {
			continue
		}
		t := config.Target{Name: mt.Name, Region: m.Region, Ladder: model.DefaultLadder(), Plan: plan, Paused: paused, Alarms: mt.Alarms}
		switch {
		case mt.Kind == "alb" && mt.RuleARN != "":
			// Named, not guessed: a 50/50 split has no lighter side.
			t.Kind, t.RuleARN, t.CanaryTargetGroup = model.KindALB, mt.RuleARN, mt.CanaryTargetGroupARN
		case mt.Kind == "lambda" && mt.Alias != "":
			t.Kind, t.Function, t.Alias, t.CanaryVersion = model.KindLambda, mt.Function, mt.Alias, mt.CanaryVersion
		default:
			continue
		}
		f.Targets = append(f.Targets, t)
	}
	return f
}

// runDemoFleet is perch demo --fleet N: the fleet view on every canary of
// the running simulator.
func runDemoFleet(cmd *cobra.Command, g *globalFlags, f *simFlags, run *sim.Running, clk clock.Clock, opts sim.Options, planFlags *targetFlags) error {
	ctx := cmd.Context()
	plan, err := planFlags.loadPlan()
	if err != nil {
		return err
	}
	m := run.Sim.Manifest(run.URL)
	file := manifestFleet(m, opts.Scenario, plan, planFlags.paused)
	if len(file.Targets) == 0 {
		return usageErr("scenario %q seeds no canary perch can drive", f.scenario)
	}
	auditPath, err := auditLogPath("demo-audit.jsonl", g.auditLog)
	if err != nil {
		return err
	}
	demo := demoFlags(cmd, g, run.URL, m.Region)
	s, err := openFleet(ctx, &demo, file, fleetOptions{
		clock: clk, credentials: staticCredentials(), auditPath: auditPath, via: "cockpit",
	})
	if err != nil {
		return err
	}
	defer s.close()
	title := fmt.Sprintf("demo · %s · %gx", opts.Scenario.Name, f.speed)
	return runFleet(ctx, s, &demo, title, "")
}

// demoFlags are g pointed at the simulator at url. Unless --poll was
// given, the engine polls every 30 simulated seconds: a few wall seconds
// at the default speed.
func demoFlags(cmd *cobra.Command, g *globalFlags, url, region string) globalFlags {
	demo := *g
	demo.endpointURL, demo.region, demo.profile = url, region, ""
	if !cmd.Flags().Changed("poll") && !cmd.Root().PersistentFlags().Changed("poll") {
		demo.poll = 30 * time.Second
	}
	return demo
}
