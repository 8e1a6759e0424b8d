package elbv2

import (
	"fmt"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/ids"
	"github.com/perch-dev/perch/sim/scenario"
)

// Seeding is what seeding an ALB canary needs besides the ALB.
type Seeding struct {
	// Seed is the scenario's seed, which the ARNs derive from.
	Seed int64
	// Start is the simulator's start; History how long before it the
	// rollout under way began.
	Start   time.Time
	History time.Duration
	// Caller is who began it (perch's rollout marker names them).
	Caller string
}

// SeedALB creates a scenario ALB canary: its load balancer, listener,
// rule and two target groups, the extras and bulk rules it asks for, and
// registers the canary with the traffic model (StartTraffic first). It
// returns the manifest targets, the canary's first, then its extras.
func (e *Service) SeedALB(a *scenario.ALB, sd Seeding) []scenario.ManifestTarget {
	gen := ids.NewSource(sd.Seed, a.Name)
	created := sd.Start.Add(-30 * 24 * time.Hour).Truncate(time.Second)
	lb := e.addLoadBalancer(a.Name, gen.Hex16(), created)
	listenerID, defaultRuleID, ruleID := gen.Hex16(), gen.Hex16(), gen.Hex16()
	stable := e.addTargetGroup(a.Name+"-stable", gen.Hex16(), lb.arn)
	canary := e.addTargetGroup(a.Name+"-canary", gen.Hex16(), lb.arn)
	for _, side := range []struct {
		tg   *targetGroup
		spec scenario.Side
	}{{stable, a.Stable}, {canary, a.Canary}} {
		n := *a.TargetsPerSide
		bad := *side.spec.UnhealthyTargets
		for j := range n {
			tt := &tgTarget{id: gen.Instance(), port: 8080, state: "healthy"}
			if j >= n-bad {
				tt.state, tt.reason, tt.description = "unhealthy", "Target.FailedHealthChecks", "Health checks failed"
			}
			side.tg.targets = append(side.tg.targets, tt)
		}
	}
	fwd := forwardConfig{groups: []tgWeight{
		{arn: stable.arn, weight: 100 - a.CanaryWeight},
		{arn: canary.arn, weight: a.CanaryWeight},
	}}
	if d := a.Stickiness.D(); d > 0 {
		fwd.sticky, fwd.stickySeconds = true, int(d/time.Second)
	}
	target := scenario.ManifestTarget{
		Kind: "alb", Name: a.Name, LoadBalancerARN: lb.arn,
		StableTargetGroupARN: stable.arn, CanaryTargetGroupARN: canary.arn,
	}
	var l *listener
	if a.DefaultRule {
		l = e.addListener(lb, listenerID, defaultRuleID, 80, []action{forwardAction(fwd)})
		target.RuleARN, target.DefaultRule = l.defaultRuleARN, true
	} else {
		l = e.addListener(lb, listenerID, defaultRuleID, 80, []action{fixedResponseAction(404)})
		ru := e.addRule(l, ruleID, 10, []*awsproto.Node{pathCondition(a.PathPattern)}, []action{forwardAction(fwd)})
		target.RuleARN = ru.arn
	}
	target.ListenerARN = l.arn
	if marked := a.CanaryWeight > 0 && a.CanaryWeight < 100; a.RolloutMarker == nil && marked || a.RolloutMarker != nil && *a.RolloutMarker {
		// The rollout under way was begun by perch, which marked it where
		// it marks a default action (the listener) or a rule.
		where := target.RuleARN
		if a.DefaultRule {
			where = l.arn
		}
		e.tags[where] = map[string]string{
			"perch:rollout:canary":  canary.arn,
			"perch:rollout:stable":  stable.arn,
			"perch:rollout:started": sd.Start.Add(-sd.History).UTC().Format(time.RFC3339),
			"perch:rollout:by":      sd.Caller,
		}
	}
	out := []scenario.ManifestTarget{target}
	e.traffic.addCanary(a, target.RuleARN, lb.arn, stable.arn, canary.arn)

	for _, x := range a.Extras {
		out = append(out, e.seedExtra(a, x, gen, lb, l, stable, canary))
	}
	e.seedBulk(a, gen, lb, l, fwd)
	return out
}

// seedBulk gives the load balancer a.Listeners listeners of
// a.RulesPerListener rules each, all forwarding like the canary's rule:
// an account to scan, not canaries the traffic model drives.
func (e *Service) seedBulk(a *scenario.ALB, gen ids.Source, lb *loadBalancer, first *listener, fwd forwardConfig) {
	for i := range max(a.Listeners, 1) {
		l := first
		if i > 0 {
			l = e.addListener(lb, gen.Hex16(), gen.Hex16(), 8000+i, []action{fixedResponseAction(404)})
		}
		have := 0
		if i == 0 && !a.DefaultRule {
			have = 1 // the canary's own rule
		}
		for j := have; j < a.RulesPerListener; j++ {
			e.addRule(l, gen.Hex16(), 100+j, []*awsproto.Node{pathCondition(fmt.Sprintf("/bulk/%d/*", j))}, []action{forwardAction(fwd)})
		}
	}
}

// seedExtra creates one of the odd extras an ALB can ask for and returns
// its manifest target.
func (e *Service) seedExtra(a *scenario.ALB, extra string, gen ids.Source, lb *loadBalancer, l *listener, stable, canary *targetGroup) scenario.ManifestTarget {
	base := scenario.ManifestTarget{Kind: "alb", LoadBalancerARN: lb.arn, ListenerARN: l.arn}
	switch extra {
	case scenario.ExtraSingleTGRule:
		ru := e.addRule(l, gen.Hex16(), 20, []*awsproto.Node{pathCondition("/single/*")},
			[]action{forwardAction(forwardConfig{groups: []tgWeight{{arn: stable.arn, weight: 1}}})})
		base.Name, base.RuleARN, base.StableTargetGroupARN = a.Name+"-single-tg", ru.arn, stable.arn
		base.Note = "forward to a single target group (legacy TargetGroupArn form); no canary side"
	case scenario.ExtraThreeTGRule:
		third := e.addTargetGroup(a.Name+"-extra", gen.Hex16(), lb.arn)
		third.targets = []*tgTarget{{id: gen.Instance(), port: 8080, state: "healthy"}}
		ru := e.addRule(l, gen.Hex16(), 30, []*awsproto.Node{pathCondition("/three/*")},
			[]action{forwardAction(forwardConfig{groups: []tgWeight{
				{arn: stable.arn, weight: 80}, {arn: canary.arn, weight: 10}, {arn: third.arn, weight: 10},
			}})})
		base.Name, base.RuleARN = a.Name+"-three-tg", ru.arn
		base.StableTargetGroupARN, base.CanaryTargetGroupARN = stable.arn, canary.arn
		base.Note = "forward to three target groups (80/10/10, third is " + third.name + ")"
	case scenario.ExtraRedirectRule:
		ru := e.addRule(l, gen.Hex16(), 40, []*awsproto.Node{pathCondition("/old/*")}, []action{redirectAction("/new/#{path}")})
		base.Name, base.RuleARN = a.Name+"-redirect", ru.arn
		base.Note = "redirect action; no forward"
	case scenario.ExtraFixedResponseListener:
		l2 := e.addListener(lb, gen.Hex16(), gen.Hex16(), 8081, []action{fixedResponseAction(503)})
		base.Name, base.ListenerARN, base.RuleARN, base.DefaultRule = a.Name+"-fixed-response", l2.arn, l2.defaultRuleARN, true
		base.Note = "listener (port 8081) whose default action is a fixed-response 503"
	}
	return base
}
