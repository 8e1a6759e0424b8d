package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
)

func newCodeDeployCmd(g *globalFlags) *cobra.Command {
	return cockpitCommand(g, &cobra.Command{
		Use:   "codedeploy (--deployment-id ID | --application NAME --deployment-group NAME)",
		Short: "Open the cockpit on a CodeDeploy deployment (ECS blue/green or Lambda) that shifts traffic by itself",
		Long: `Open the cockpit on a CodeDeploy deployment. CodeDeploy shifts the traffic by its
deployment configuration (Canary10Percent5Minutes, Linear10PercentEvery1Minute,
AllAtOnce, ...) and rolls back by itself when an alarm of the deployment group
fires; perch charts the two sides next to what CodeDeploy is doing: the deployment's
status, step and the countdown to its next shift, its lifecycle hooks, the group's
alarms and any rollback, recorded in the audit log as done by CodeDeploy.

Keys: r stops the deployment with rollback (StopDeployment, autoRollbackEnabled);
c continues a deployment that waits (ContinueDeployment, READY_WAIT or
TERMINATION_WAIT). +, - and P do nothing here: CodeDeploy has no API to set weights.

With --application and --deployment-group, perch follows the group's newest
deployment in progress (and the next one a user starts after it), and waits
for one when none is running. A finished deployment opens read-only. EC2/on-
premises (Server) deployments shift no traffic and are refused.

Metrics: the ALB metrics of the group's blue and green target groups (ECS), or the
alias's metrics per ExecutedVersion (Lambda).`,
		Example: `  perch codedeploy --deployment-id d-A1B2C3D4E
  perch codedeploy --application web-app --deployment-group web-bg`,
	}, cockpitKind{wait: true, need: func(t *targetFlags) error {
		if !t.isCodeDeploy() {
			return usageErr("perch codedeploy needs --deployment-id, or --application with --deployment-group")
		}
		return nil
	}})
}

func addCodeDeployFlags(cmd *cobra.Command, t *targetFlags) {
	f := cmd.Flags()
	f.StringVar(&t.deploymentID, "deployment-id", "", "CodeDeploy deployment (ECS blue/green or Lambda) to watch and steer")
	f.StringVar(&t.application, "application", "", "CodeDeploy application whose --deployment-group to follow")
	f.StringVar(&t.deploymentGroup, "deployment-group", "", "CodeDeploy deployment group: follow its newest deployment in progress")
}

func (t *targetFlags) isCodeDeploy() bool {
	return t.deploymentID != "" || t.application != "" || t.deploymentGroup != ""
}

// validateAnyTarget checks that exactly one kind of target is named: an
// ALB rule, a Lambda alias or a CodeDeploy deployment.
func (t *targetFlags) validateAnyTarget() error {
	if t.isECS() {
		return t.validateECS()
	}
	other := t.ruleARN != "" || t.listenerARN != "" || t.function != "" || t.alias != ""
	switch {
	case !t.isCodeDeploy() && !other && t.canaryTG == "" && t.canaryVersion == "":
		return usageErr("name the target with exactly one of --rule-arn, --listener-arn, --function with --alias, or --deployment-id (or --application with --deployment-group)")
	case !t.isCodeDeploy():
		return t.validateTarget()
	case t.canaryTG != "" || t.canaryVersion != "":
		return usageErr("--canary-target-group and --canary-version are for ALB rules and Lambda aliases; CodeDeploy's deployment names its two sides")
	case other:
		return usageErr("name the target with exactly one of --rule-arn, --listener-arn, --function with --alias, or a CodeDeploy deployment: CodeDeploy already names what it shifts")
	case t.deploymentID != "" && (t.application != "" || t.deploymentGroup != ""):
		return usageErr("name either --deployment-id or --application with --deployment-group, not both")
	case t.deploymentID == "" && (t.application == "" || t.deploymentGroup == ""):
		return usageErr("--application and --deployment-group go together: perch follows the group's newest deployment in progress")
	case t.plan != "" && t.plan != "none":
		return usageErr("--plan moves weights, and CodeDeploy shifts this deployment's traffic itself: drop the plan")
	}
	return nil
}

// codeDeployTarget is the CodeDeploy part of an opened target.
type codeDeployTarget struct {
	router   deploymentRouter
	finished bool
}

// openAnyTarget resolves whatever t names; a CodeDeploy deployment also
// returns its router, which the engine uses as deployment reader and
// controller.
func openAnyTarget(ctx context.Context, cfg awssdk.Config, t *targetFlags, o sessionOptions, poll time.Duration) (adapters, *codeDeployTarget, error) {
	if t.isECS() {
		return openECS(ctx, cfg, t, o, poll)
	}
	if !t.isCodeDeploy() {
		ad, err := openTarget(ctx, cfg, t, o.history)
		return ad, nil, err
	}
	opts := perchaws.CodeDeployOptions{DeploymentID: t.deploymentID, Application: t.application, DeploymentGroup: t.deploymentGroup}
	r, err := waitForDeployment(ctx, cfg, opts, orReal(o.clock), poll, o.waitOut)
	if err != nil {
		return adapters{}, nil, err
	}
	st, err := r.Deployment(ctx)
	if err != nil {
		return adapters{}, nil, err
	}
	ad := adapters{router: r, health: r, metrics: perchaws.NewCodeDeployMetrics(cfg, r)}
	return ad, &codeDeployTarget{router: r, finished: st.Terminal()}, nil
}

// waitForDeployment opens the deployment; following a group with nothing
// in progress, it says so on out and checks again every poll until one
// starts (or ctx ends). With out nil it does not wait.
func waitForDeployment(ctx context.Context, cfg awssdk.Config, o perchaws.CodeDeployOptions, clk clock.Clock, poll time.Duration, out io.Writer) (*perchaws.CodeDeployRouter, error) {
	return waitForActive(ctx, clk, poll, out, "perch codedeploy", o.Application+"/"+o.DeploymentGroup, func() (*perchaws.CodeDeployRouter, error) {
		return perchaws.NewCodeDeployRouter(ctx, cfg, o)
	})
}

// waitForActive opens a deployment with open; while open finds none in
// progress it says so on out once and tries again every poll until one
// starts or ctx ends. With out nil it does not wait: cmd is the command
// that would have, what the group or service it follows.
func waitForActive[R any](ctx context.Context, clk clock.Clock, poll time.Duration, out io.Writer, cmd, what string, open func() (R, error)) (R, error) {
	said := false
	var zero R
	for {
		r, err := open()
		var none *perchaws.NoActiveDeploymentError
		if !errors.As(err, &none) {
			return r, err
		}
		if out == nil {
			return zero, withCode(ExitFailure, fmt.Errorf("%v (%s waits for one; this command does not)", none, cmd))
		}
		if !said {
			fmt.Fprintf(out, "perch: %v; waiting for one (checking every %s; Ctrl-C to stop)\n", none, poll)
			said = true
		}
		select {
		case <-ctx.Done():
			return zero, withCode(ExitFailure, fmt.Errorf("stopped waiting for a deployment of %s: %w", what, ctx.Err()))
		case <-clk.After(poll):
		}
	}
}

// mergeAlarms adds the deployment group's alarms to those named on the
// command line, once each.
func mergeAlarms(named, group []string) []string {
	out := append([]string(nil), named...)
	seen := map[string]bool{}
	for _, a := range out {
		seen[a] = true
	}
	for _, a := range group {
		if !seen[a] {
			out = append(out, a)
			seen[a] = true
		}
	}
	return out
}

// useCodeDeployTarget points t at a simulator manifest's CodeDeploy group:
// the demo follows the group, so it waits for a scripted deployment that
// has not started yet.
func useCodeDeployTarget(t *targetFlags, m sim.ManifestTarget) {
	*t = targetFlags{ladder: t.ladder, application: m.Application, deploymentGroup: m.DeploymentGroup}
}

// refuseOnCodeDeploy turns shift and promote on a CodeDeploy deployment
// into a usage error before anything is asked of AWS.
func refuseOnCodeDeploy(t *targetFlags, kind model.IntentKind) error {
	if t.isECS() && kind != model.Rollback {
		return usageErr("ECS shifts this service's traffic itself and owns its listener rule: perch can roll the deployment back (perch rollback: StopServiceDeployment ROLLBACK), not %s it", kind.Action())
	}
	if !t.isCodeDeploy() || kind == model.Rollback {
		return nil
	}
	return usageErr("CodeDeploy shifts this deployment's traffic itself: perch can roll it back (perch rollback: StopDeployment with autoRollbackEnabled), not %s it", kind.Action())
}

// printDeployment is the status text's CodeDeploy lines.
func printDeployment(w io.Writer, d *model.DeploymentStatus, now time.Time) {
	if d == nil {
		return
	}
	fmt.Fprintf(w, "deploy   %s %s (%s) · %s · %s\n", text(d.ID), text(d.Status), text(d.ComputePlatform), text(d.Config), text(d.Step))
	if !d.NextShiftAt.IsZero() {
		fmt.Fprintf(w, "next     → %s in %s (at %s)\n", model.FormatPercent(d.NextShiftTo),
			d.NextShiftAt.Sub(now).Round(time.Second), d.NextShiftAt.UTC().Format("15:04:05 UTC"))
	}
	if e := d.ECS; e != nil {
		fmt.Fprintf(w, "stage    %s · %s\n", text(e.Stage), text(e.Strategy.String()))
		if !e.BakeEndsAt.IsZero() {
			fmt.Fprintf(w, "bake     ends in %s (at %s)\n", e.BakeEndsAt.Sub(now).Round(time.Second), e.BakeEndsAt.UTC().Format("15:04:05 UTC"))
		}
		if h := e.Hook; h != nil {
			fmt.Fprintf(w, "HOOK     %s AWAITS ACTION at %s (c in the cockpit continues it); %s at %s\n", text(h.ID), text(h.Stage),
				text(h.TimeoutAction), h.ExpiresAt.UTC().Format("15:04:05 UTC"))
		}
		if e.StatusReason != "" {
			fmt.Fprintf(w, "reason   %s\n", text(e.StatusReason))
		}
	}
	if d.Error != nil {
		fmt.Fprintf(w, "error    %s: %s\n", text(d.Error.Code), text(d.Error.Message))
	}
	if d.Rollback != nil && d.ECS == nil {
		switch {
		case d.Rollback.DeploymentID != "":
			fmt.Fprintf(w, "rollback by deployment %s: %s\n", text(d.Rollback.DeploymentID), text(d.Rollback.Message))
		case d.Rollback.TriggeredBy != "":
			fmt.Fprintf(w, "rollback of deployment %s: %s\n", text(d.Rollback.TriggeredBy), text(d.Rollback.Message))
		}
	}
	if d.ReadErr != "" {
		fmt.Fprintf(w, "error    %s\n", text(d.ReadErr))
	}
}

// isLambdaTarget is true for a Lambda alias, driven by perch or by
// CodeDeploy: its signals are invocations, errors and throttles.
func isLambdaTarget(t model.Target) bool {
	return t.Kind == model.KindLambda || t.Kind == model.KindCodeDeploy && t.ComputePlatform == "Lambda"
}
