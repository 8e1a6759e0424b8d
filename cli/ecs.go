package cli

import (
	"context"
	"io"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim"
)

func newECSCmd(g *globalFlags) *cobra.Command {
	return cockpitCommand(g, &cobra.Command{
		Use:   "ecs (--cluster NAME --service NAME | --deployment-arn ARN)",
		Short: "Open the cockpit on an ECS service deployment (CANARY, LINEAR or BLUE_GREEN) that shifts traffic by itself",
		Long: `Open the cockpit on an ECS service deployment. Since October 2025 ECS shifts an ALB
listener rule between a service's production and alternate target groups by itself,
by the service's deploymentConfiguration.strategy (CANARY, LINEAR, BLUE_GREEN), with
bake times, alarms and lifecycle hooks. perch charts the two sides (the canary is the
target group of the deployment's target service revision, from
DescribeServiceRevisions) next to what ECS is doing: the strategy, the lifecycle
stage, the time to the next shift or the end of the bake, a PAUSE hook awaiting
action with its timeout, and any rollback, recorded in the audit log as done by ECS.

Keys: r rolls the deployment back (StopServiceDeployment ROLLBACK, or
ContinueServiceDeployment ROLLBACK at a hook awaiting action); c continues a hook
awaiting action (ContinueServiceDeployment CONTINUE). perch never writes the
weights of the production listener rule, which ECS owns: +, - and P do nothing.

With --cluster and --service, perch follows the service's newest deployment in
progress (and the next one after it), and waits for one when none is running. A
ROLLING service, or one without a load balancer advanced configuration, is
refused; a finished deployment opens read-only.

Metrics: the ALB metrics of the two target groups.`,
		Example: `  perch ecs --cluster prod --service web
  perch ecs --deployment-arn arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/AbCdEf`,
	}, cockpitKind{wait: true, need: func(t *targetFlags) error {
		if !t.isECS() {
			return usageErr("perch ecs needs --service (with --cluster, default \"default\"), or --deployment-arn")
		}
		return nil
	}})
}

func addECSFlags(cmd *cobra.Command, t *targetFlags) {
	f := cmd.Flags()
	f.StringVar(&t.ecsCluster, "cluster", "", "ECS cluster of --service (default \"default\")")
	f.StringVar(&t.ecsService, "service", "", "ECS service: follow its newest service deployment in progress")
	f.StringVar(&t.ecsDeploymentARN, "deployment-arn", "", "ECS service deployment to watch and steer")
}

func (t *targetFlags) isECS() bool {
	return t.ecsCluster != "" || t.ecsService != "" || t.ecsDeploymentARN != ""
}

// validateECS checks the ECS flags once they name the target.
func (t *targetFlags) validateECS() error {
	switch {
	case t.ruleARN != "" || t.listenerARN != "" || t.function != "" || t.alias != "" || t.isCodeDeploy():
		return usageErr("name the target with exactly one of --rule-arn, --listener-arn, --function with --alias, a CodeDeploy deployment, or an ECS service: ECS already names what it shifts")
	case t.canaryTG != "" || t.canaryVersion != "":
		return usageErr("--canary-target-group and --canary-version are for ALB rules and Lambda aliases; an ECS deployment names its two sides")
	case t.ecsDeploymentARN != "" && (t.ecsService != "" || t.ecsCluster != ""):
		return usageErr("name either --deployment-arn or --service (with --cluster), not both")
	case t.ecsDeploymentARN == "" && t.ecsService == "":
		return usageErr("--cluster goes with --service: perch follows the service's newest deployment in progress")
	case t.plan != "" && t.plan != "none":
		return usageErr("--plan moves weights, and ECS shifts this service's traffic itself: drop the plan")
	}
	return nil
}

// deploymentRouter is a target whose deployment moves the traffic
// (CodeDeploy, ECS): the engine reads and steers the deployment through
// it, and watches its alarms.
type deploymentRouter interface {
	rollout.DeploymentReader
	rollout.DeploymentController
	AlarmNames() []string
}

// openECS resolves an ECS service deployment (waiting for one when
// following a service with nothing in progress and out is set).
func openECS(ctx context.Context, cfg awssdk.Config, t *targetFlags, o sessionOptions, poll time.Duration) (adapters, *codeDeployTarget, error) {
	opts := perchaws.ECSOptions{Cluster: t.ecsCluster, Service: t.ecsService, DeploymentARN: t.ecsDeploymentARN}
	r, err := waitForECS(ctx, cfg, opts, orReal(o.clock), poll, o.waitOut)
	if err != nil {
		return adapters{}, nil, err
	}
	st, err := r.Deployment(ctx)
	if err != nil {
		return adapters{}, nil, err
	}
	ad := adapters{router: r, health: r, metrics: perchaws.NewECSMetrics(cfg, r)}
	return ad, &codeDeployTarget{router: r, finished: st.Terminal()}, nil
}

func waitForECS(ctx context.Context, cfg awssdk.Config, o perchaws.ECSOptions, clk clock.Clock, poll time.Duration, out io.Writer) (*perchaws.ECSRouter, error) {
	return waitForActive(ctx, clk, poll, out, "perch ecs", o.Service, func() (*perchaws.ECSRouter, error) {
		return perchaws.NewECSRouter(ctx, cfg, o)
	})
}

// useECSTarget points t at a simulator manifest's ECS service: the demo
// follows the service, so it waits for a scripted deployment that has not
// started yet.
func useECSTarget(t *targetFlags, m sim.ManifestTarget) {
	*t = targetFlags{ladder: t.ladder, ecsCluster: m.Cluster, ecsService: m.Service}
}
