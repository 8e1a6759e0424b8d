package cli

import (
	"context"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim"
)

// targetUsage is how every command that attaches to a target names it.
const targetUsage = "(--rule-arn ARN | --listener-arn ARN | --function NAME --alias NAME [--canary-version N])"

func newLambdaCmd(g *globalFlags) *cobra.Command {
	return cockpitCommand(g, &cobra.Command{
		Use:   "lambda --function NAME --alias NAME [--canary-version N]",
		Short: "Open the cockpit on a Lambda alias that routes between two versions by weight",
		Long: `Open the cockpit on a Lambda alias. The alias's FunctionVersion is the stable
side and the one version in its RoutingConfig (AdditionalVersionWeights) the canary.
When the alias has no routing yet, name the canary with --canary-version.

perch changes the weight with UpdateAlias and the RevisionId it read, so a change
made by anyone else in between is refused by Lambda (412) instead of overwritten.
Promote points the alias at the canary and clears the routing; roll back clears
the routing. Metrics are per ExecutedVersion of the alias: Invocations, Errors,
Duration p50/p99 and Throttles.`,
		Example: `  perch lambda --function orders --alias live
  perch lambda --function arn:aws:lambda:us-east-1:123456789012:function:orders --alias live --canary-version 8`,
	}, cockpitKind{plan: true, need: func(t *targetFlags) error {
		if t.function == "" || t.alias == "" {
			return usageErr("perch lambda needs --function and --alias")
		}
		return nil
	}})
}

func addLambdaFlags(cmd *cobra.Command, t *targetFlags) {
	f := cmd.Flags()
	f.StringVar(&t.function, "function", "", "Lambda function (name or ARN) whose alias splits stable and canary")
	f.StringVar(&t.alias, "alias", "", "Lambda alias that routes between the stable and the canary version")
	f.StringVar(&t.canaryVersion, "canary-version", "", "the canary's version, needed when the alias has no routing yet")
}

func (t *targetFlags) isLambda() bool {
	return t.function != "" || t.alias != "" || t.canaryVersion != ""
}

// validateTarget checks that exactly one kind of target is named, fully.
func (t *targetFlags) validateTarget() error {
	alb := t.ruleARN != "" || t.listenerARN != ""
	switch {
	case alb && t.isLambda():
		return usageErr("name the target with exactly one of --rule-arn, --listener-arn, or --function with --alias")
	case t.isLambda() && t.function == "":
		return usageErr("--alias and --canary-version need --function")
	case t.isLambda() && t.alias == "":
		return usageErr("--function needs --alias: perch drives an alias that routes between two versions")
	case t.isLambda() && t.canaryTG != "":
		return usageErr("--canary-target-group is for ALB rules; name a Lambda canary with --canary-version")
	case !t.isLambda() && t.ruleARN == "" && t.listenerARN == "":
		return usageErr("name the target with exactly one of --rule-arn, --listener-arn, or --function with --alias")
	case !t.isLambda() && t.ruleARN != "" && t.listenerARN != "":
		return usageErr("name the target with exactly one of --rule-arn or --listener-arn")
	}
	return nil
}

// adapters are the target-specific parts of a session.
type adapters struct {
	router  rollout.Router
	health  rollout.HealthReader
	metrics rollout.MetricsReader
	// sides keeps the rollout marker (ALB rules); nil when AWS states the
	// sides itself.
	sides rollout.SideKeeper
}

// openTarget resolves the named target through the real SDK: an ALB rule
// or a Lambda alias.
//
// history is this machine's audit log: for an ALB rule, what it says of
// the canary is one of the facts the router weighs.
func openTarget(ctx context.Context, cfg awssdk.Config, t *targetFlags, history []model.AuditEntry) (adapters, error) {
	if t.isLambda() {
		r, err := perchaws.NewLambdaRouter(ctx, cfg, perchaws.LambdaOptions{
			Function: t.function, Alias: t.alias, CanaryVersion: t.canaryVersion,
		})
		if err != nil {
			return adapters{}, err
		}
		return adapters{router: r, health: r, metrics: perchaws.NewLambdaMetrics(cfg, r)}, nil
	}
	id := t.ruleARN
	if id == "" {
		id = t.listenerARN
	}
	r, err := perchaws.NewALBRouter(ctx, cfg, perchaws.ALBOptions{
		RuleARN: t.ruleARN, ListenerARN: t.listenerARN, CanaryTargetGroup: t.canaryTG,
		History: model.AuditCanaryOf(history, id),
	})
	if err != nil {
		return adapters{}, err
	}
	return adapters{router: r, health: r, metrics: perchaws.NewALBMetrics(cfg, r.Target()), sides: r}, nil
}

// useManifestTarget points t at a simulator manifest entry.
func useManifestTarget(t *targetFlags, m sim.ManifestTarget) {
	if m.Kind == "lambda" {
		t.ruleARN, t.listenerARN = "", ""
		t.function, t.alias, t.canaryVersion = m.Function, m.Alias, m.CanaryVersion
		return
	}
	t.ruleARN = m.RuleARN
}
