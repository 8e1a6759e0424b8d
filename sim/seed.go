package sim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/cloudwatch"
	"github.com/perch-dev/perch/sim/ids"
	"github.com/perch-dev/perch/sim/metrics"
)

// Manifest describes the seeded targets; endpoint is the URL clients use.
func (s *Sim) Manifest(endpoint string) Manifest {
	return Manifest{
		Endpoint: endpoint,
		Region:   s.region,
		Account:  s.account,
		Scenario: s.scenario.Name,
		Targets:  append([]ManifestTarget(nil), s.targets...),
	}
}

// seedScenario creates each ALB canary's resources and registers it with
// the traffic model.
func (s *Sim) seedScenario(sink metrics.Sink) error {
	s.traffic = newTraffic(s.elb, sink, s.seed, s.start, s.scenario)
	for i := range s.scenario.ALBs {
		if err := s.seedALB(&s.scenario.ALBs[i]); err != nil {
			return fmt.Errorf("alb %s: %w", s.scenario.ALBs[i].Name, err)
		}
	}
	s.lambdaTraffic = newLambdaTraffic(s.lambda, sink, s.seed, s.start, s.scenario)
	for i := range s.scenario.Lambdas {
		s.seedLambda(&s.scenario.Lambdas[i])
	}
	return s.seedCodeDeploy()
}

func (s *Sim) seedALB(a *ALB) error {
	e := s.elb
	gen := ids.NewSource(s.seed, a.Name)
	created := s.start.Add(-30 * 24 * time.Hour).Truncate(time.Second)
	lb := e.addLoadBalancer(a.Name, gen.Hex16(), created)
	listenerID, defaultRuleID, ruleID := gen.Hex16(), gen.Hex16(), gen.Hex16()
	stable := e.addTargetGroup(a.Name+"-stable", gen.Hex16(), lb.arn)
	canary := e.addTargetGroup(a.Name+"-canary", gen.Hex16(), lb.arn)
	for _, side := range []struct {
		tg   *targetGroup
		spec Side
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
	target := ManifestTarget{
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
			"perch:rollout:started": s.start.Add(-s.scenario.History.D()).UTC().Format(time.RFC3339),
			"perch:rollout:by":      s.callerARN,
		}
	}
	for _, al := range a.Alarms {
		tgARN := stable.arn
		if al.Side == "canary" {
			tgARN = canary.arn
		}
		def := cloudwatch.AlarmDef{
			Name:        al.Name,
			Description: fmt.Sprintf("%s %s of %s on %s (from scenario %s)", al.Statistic, al.Metric, al.Side, a.Name, s.scenario.Name),
			Namespace:   albNamespace,
			MetricName:  al.Metric,
			Dimensions: []metrics.Dimension{
				{Name: "LoadBalancer", Value: lbDimension(lb.arn)},
				{Name: "TargetGroup", Value: tgDimension(tgARN)},
			},
			Period:             int64(al.Period.D() / time.Second),
			EvaluationPeriods:  int64(al.EvaluationPeriods),
			DatapointsToAlarm:  int64(al.DatapointsToAlarm),
			Threshold:          al.Threshold,
			ComparisonOperator: al.Comparison,
			TreatMissingData:   al.TreatMissingData,
		}
		if strings.HasPrefix(al.Statistic, "p") {
			def.ExtendedStatistic = al.Statistic
		} else {
			def.Statistic = al.Statistic
		}
		if err := s.cw.PutAlarm(def); err != nil {
			return fmt.Errorf("alarm %s: %w", al.Name, err)
		}
		target.Alarms = append(target.Alarms, al.Name)
	}
	s.targets = append(s.targets, target)
	s.traffic.addCanary(a, target.RuleARN, lb.arn, stable.arn, canary.arn)

	for _, x := range a.Extras {
		s.seedExtra(a, x, gen, lb, l, stable, canary)
	}
	s.seedBulk(a, gen, lb, l, fwd)
	return nil
}

// seedBulk gives the load balancer a.Listeners listeners of
// a.RulesPerListener rules each, all forwarding like the canary's rule:
// an account to scan, not canaries the traffic model drives.
func (s *Sim) seedBulk(a *ALB, gen ids.Source, lb *loadBalancer, first *listener, fwd forwardConfig) {
	e := s.elb
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

func (s *Sim) seedExtra(a *ALB, extra string, gen ids.Source, lb *loadBalancer, l *listener, stable, canary *targetGroup) {
	e := s.elb
	base := ManifestTarget{Kind: "alb", LoadBalancerARN: lb.arn, ListenerARN: l.arn}
	switch extra {
	case ExtraSingleTGRule:
		ru := e.addRule(l, gen.Hex16(), 20, []*awsproto.Node{pathCondition("/single/*")},
			[]action{forwardAction(forwardConfig{groups: []tgWeight{{arn: stable.arn, weight: 1}}})})
		base.Name, base.RuleARN, base.StableTargetGroupARN = a.Name+"-single-tg", ru.arn, stable.arn
		base.Note = "forward to a single target group (legacy TargetGroupArn form); no canary side"
	case ExtraThreeTGRule:
		third := e.addTargetGroup(a.Name+"-extra", gen.Hex16(), lb.arn)
		third.targets = []*tgTarget{{id: gen.Instance(), port: 8080, state: "healthy"}}
		ru := e.addRule(l, gen.Hex16(), 30, []*awsproto.Node{pathCondition("/three/*")},
			[]action{forwardAction(forwardConfig{groups: []tgWeight{
				{arn: stable.arn, weight: 80}, {arn: canary.arn, weight: 10}, {arn: third.arn, weight: 10},
			}})})
		base.Name, base.RuleARN = a.Name+"-three-tg", ru.arn
		base.StableTargetGroupARN, base.CanaryTargetGroupARN = stable.arn, canary.arn
		base.Note = "forward to three target groups (80/10/10, third is " + third.name + ")"
	case ExtraRedirectRule:
		ru := e.addRule(l, gen.Hex16(), 40, []*awsproto.Node{pathCondition("/old/*")}, []action{redirectAction("/new/#{path}")})
		base.Name, base.RuleARN = a.Name+"-redirect", ru.arn
		base.Note = "redirect action; no forward"
	case ExtraFixedResponseListener:
		l2 := e.addListener(lb, gen.Hex16(), gen.Hex16(), 8081, []action{fixedResponseAction(503)})
		base.Name, base.ListenerARN, base.RuleARN, base.DefaultRule = a.Name+"-fixed-response", l2.arn, l2.defaultRuleARN, true
		base.Note = "listener (port 8081) whose default action is a fixed-response 503"
	}
	s.targets = append(s.targets, base)
}

// SetWeights rewrites the weights of a rule's (or a listener default
// rule's) forward action in place, the way a second operator working
// behind perch's back would. weights maps target group ARNs, each already
// in the forward, to new weights (0-999); groups not named keep theirs.
func (s *Sim) SetWeights(ruleARN string, weights map[string]int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	if err := s.elb.setWeights(ruleARN, weights); err != nil {
		return fmt.Errorf("set weights on %s: %w", ruleARN, err)
	}
	s.traffic.actionsChanged(ruleARN)
	return nil
}

// setWeights changes weights on the terminal forward action of a rule.
func (e *elbv2) setWeights(ruleARN string, weights map[string]int) error {
	actions, ok := e.ruleActions(ruleARN)
	if !ok {
		return awsproto.SenderErr("RuleNotFound", "rule %s not found", ruleARN)
	}
	var f *forwardConfig
	for i := range actions {
		if actions[i].forward != nil {
			f = actions[i].forward
		}
	}
	if f == nil {
		return awsproto.ValidationErr("rule %s has no forward action", ruleARN)
	}
	for _, arn := range awsproto.SortedKeys(weights) {
		w := weights[arn]
		if w < 0 || w > maxWeight {
			return awsproto.ValidationErr("weight %d for %s is out of range (0..%d)", w, arn, maxWeight)
		}
		found := false
		for _, g := range f.groups {
			found = found || g.arn == arn
		}
		if !found {
			return awsproto.ValidationErr("target group %s is not in the forward action of %s", arn, ruleARN)
		}
	}
	for i := range f.groups {
		if w, ok := weights[f.groups[i].arn]; ok {
			f.groups[i].weight = w
		}
	}
	return nil
}

// Weights returns a rule's current forward weights by target group ARN,
// for tests that check what a write did without going through the API.
func (s *Sim) Weights(ruleARN string) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	actions, ok := s.elb.ruleActions(ruleARN)
	if !ok {
		return nil, fmt.Errorf("weights of %s: rule not found", ruleARN)
	}
	out := map[string]int{}
	for _, a := range actions {
		if a.forward != nil {
			for _, g := range a.forward.groups {
				out[g.arn] = g.weight
			}
		}
	}
	return out, nil
}

// SetTargetHealth sets how many of a target group's registered targets
// are healthy; the rest become unhealthy (failed health checks). Tests use
// it to make a side look too small for the traffic it is about to get.
func (s *Sim) SetTargetHealth(tgARN string, healthy int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tg := s.elb.tgByARN[tgARN]
	if tg == nil {
		return fmt.Errorf("set target health of %s: target group not found", tgARN)
	}
	if healthy < 0 || healthy > len(tg.targets) {
		return fmt.Errorf("set target health of %s: %d healthy is out of range (0..%d registered)", tgARN, healthy, len(tg.targets))
	}
	ts := append([]*tgTarget(nil), tg.targets...)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].id < ts[j].id })
	for i, tt := range ts {
		if i < healthy {
			tt.state, tt.reason, tt.description = "healthy", "", ""
		} else {
			tt.state, tt.reason, tt.description = "unhealthy", "Target.FailedHealthChecks", "Health checks failed"
		}
	}
	return nil
}
