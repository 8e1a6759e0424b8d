package elbv2

import (
	"fmt"
	"sort"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
)

// setWeights changes weights on the terminal forward action of a rule.
func (e *Service) setWeights(ruleARN string, weights map[string]int) error {
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

// RuleWeights reads a rule's (or a listener default rule's) forward
// weights by target group ARN.
func (e *Service) RuleWeights(ruleARN string) (map[string]int, error) {
	actions, ok := e.ruleActions(ruleARN)
	if !ok {
		return nil, awsproto.SenderErr("RuleNotFound", "rule %s not found", ruleARN)
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

// SetRuleWeights rewrites the weights of a rule's forward action in place,
// the way a second operator working behind perch's back would, and the
// traffic model follows from its now. weights maps target group ARNs, each
// already in the forward, to new weights (0-999); groups not named keep
// theirs.
func (e *Service) SetRuleWeights(ruleARN string, weights map[string]int) error {
	if aerr := e.setWeights(ruleARN, weights); aerr != nil {
		return aerr
	}
	e.traffic.actionsChanged(ruleARN)
	return nil
}

// ShiftRule is SetRuleWeights for a change that happens at at rather than
// at the traffic model's now: CodeDeploy's scheduled shifts.
func (e *Service) ShiftRule(ruleARN string, weights map[string]int, at time.Time) error {
	if aerr := e.setWeights(ruleARN, weights); aerr != nil {
		return aerr
	}
	e.traffic.recordChange(ruleARN, at)
	return nil
}

// CanaryPercent is canaryTG's percent of the weight in the rule's forward
// actions.
func (e *Service) CanaryPercent(ruleARN, canaryTG string) (float64, error) {
	actions, ok := e.ruleActions(ruleARN)
	if !ok {
		return 0, fmt.Errorf("rule %s is gone", ruleARN)
	}
	var total, canary int
	for _, a := range actions {
		if a.forward != nil {
			for _, g := range a.forward.groups {
				total += g.weight
				if g.arn == canaryTG {
					canary += g.weight
				}
			}
		}
	}
	if total == 0 {
		return 0, nil
	}
	return 100 * float64(canary) / float64(total), nil
}

// TargetGroupName is the name of the target group arn, "" if none.
func (e *Service) TargetGroupName(arn string) string {
	if tg := e.tgByARN[arn]; tg != nil {
		return tg.name
	}
	return ""
}

// SetTargetHealth sets how many of a target group's registered targets
// are healthy; the rest become unhealthy (failed health checks).
func (e *Service) SetTargetHealth(tgARN string, healthy int) error {
	tg := e.tgByARN[tgARN]
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
