package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim"
)

func newDemoCmd(g *globalFlags) *cobra.Command {
	f := &simFlags{}
	var rec string
	plan := &targetFlags{}
	cmd := &cobra.Command{
		Use:   "demo [--scenario NAME|FILE] [--speed X] [--plan PLAN|none]",
		Short: "Open the cockpit on a simulated AWS: no account, no setup",
		Long: `Start perch's simulated AWS in-process on loopback and open the cockpit on its
first canary (an ALB rule or a Lambda alias). The same code talks to the
simulator as to AWS: real SDK clients over HTTP. Simulated time runs --speed
times faster than the wall clock.

The autopilot runs a short plan (` + demoPlan + `) unless --plan says otherwise
(--plan none for none; --paused to start it paused: space resumes it).

Actions are written to a demo audit log ($XDG_STATE_HOME/perch/demo-audit.jsonl)
unless --audit-log says otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			clk := clock.NewScaled(time.Now().UTC().Truncate(time.Second), f.speed)
			opts, err := f.options(clk)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			run, err := sim.Start(ctx, "127.0.0.1:0", opts)
			if err != nil {
				return withCode(ExitFailure, fmt.Errorf("start simulator: %w", err))
			}
			defer run.Close()
			if err := f.arm(run.Sim); err != nil {
				return err
			}
			if f.fleet > 0 {
				return runDemoFleet(cmd, g, f, run, clk, opts, plan)
			}
			m := run.Sim.Manifest(run.URL)
			target, ok := firstDrivable(m)
			if !ok {
				return usageErr("scenario %q seeds no canary perch can drive", f.scenario)
			}
			auditPath, err := auditLogPath("demo-audit.jsonl", g.auditLog)
			if err != nil {
				return err
			}
			demo := demoFlags(cmd, g, run.URL, m.Region)
			t := &targetFlags{ruleARN: target.RuleARN, ladder: "0,1,5,10,25,50,100", alarms: target.Alarms, plan: plan.plan, paused: plan.paused}
			var waitOut io.Writer
			if target.Kind == "ecs" {
				// ECS shifts the traffic: no plan; follow the service,
				// waiting for its scripted deployment to start.
				if cmd.Flags().Changed("plan") && plan.plan != "none" {
					return usageErr("--plan: ECS shifts the traffic in scenario %s itself", opts.Scenario.Name)
				}
				useECSTarget(t, target)
				waitOut = cmd.ErrOrStderr()
			} else if target.Kind == "codedeploy" {
				// CodeDeploy shifts the traffic: no plan; follow the group,
				// waiting for its scripted deployment to start.
				if cmd.Flags().Changed("plan") && plan.plan != "none" {
					return usageErr("--plan: CodeDeploy shifts the traffic in scenario %s itself", opts.Scenario.Name)
				}
				useCodeDeployTarget(t, target)
				waitOut = cmd.ErrOrStderr()
			} else {
				useManifestTarget(t, target)
				t.signals = plan.signals
				t.signals.preset = manifestSignals(target)
			}
			s, err := openSession(ctx, &demo, t, sessionOptions{
				clock: clk, credentials: staticCredentials(), auditPath: auditPath, via: "cockpit", waitOut: waitOut,
			})
			if err != nil {
				return err
			}
			defer s.close()
			title := fmt.Sprintf("demo · %s · %gx", opts.Scenario.Name, f.speed)
			return runCockpit(ctx, s, &demo, title, recordTo{path: rec, clock: clk})
		},
	}
	addSimFlags(cmd, f, 10)
	addRecordFlag(cmd, &rec)
	addPlanFlags(cmd, plan)
	addSignalFlags(cmd, &plan.signals)
	plan.plan = demoPlan
	cmd.Flags().Lookup("plan").DefValue = demoPlan
	return cmd
}

// demoPlan is short enough to watch at the default speed: on error-spike
// the autopilot advances twice, the judge turns FAIL when the canary's
// errors jump, and the autopilot rolls back.
const demoPlan = "10%:3m,25%:5m,50%:5m,100%"

func firstDrivable(m sim.Manifest) (sim.ManifestTarget, bool) {
	// A scenario with a CodeDeploy or ECS deployment is about that
	// deployment.
	for _, t := range m.Targets {
		if t.Kind == "codedeploy" && t.Note == "" && t.DeploymentGroup != "" || t.Kind == "ecs" && t.Note == "" && t.DeploymentARN != "" {
			return t, true
		}
	}
	for _, t := range m.Targets {
		if t.Note == "" && (t.Kind == "alb" && t.RuleARN != "" || t.Kind == "lambda" && t.Alias != "") {
			return t, true
		}
	}
	return sim.ManifestTarget{}, false
}
