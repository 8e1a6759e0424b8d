package cli

import "github.com/spf13/cobra"

func newALBCmd(g *globalFlags) *cobra.Command {
	return cockpitCommand(g, &cobra.Command{
		Use:   "alb (--rule-arn ARN | --listener-arn ARN)",
		Short: "Open the cockpit on an ALB rule that splits traffic between two target groups",
		Example: `  perch alb --rule-arn arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee
  perch alb --listener-arn arn:aws:...:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2 --canary-target-group shop-canary`,
	}, cockpitKind{plan: true})
}
