package ecs

import (
	"log/slog"
	"time"
)

// What ECS needs of the rest of the simulated account, declared here,
// where it is used; the simulator (package sim) wires the other services
// in.

// LoadBalancers is ELBv2 as a service's advanced configuration uses it:
// the production listener rule whose two target groups a deployment
// shifts.
type LoadBalancers interface {
	// RuleWeights reads the rule's forward weights by target group ARN.
	RuleWeights(ruleARN string) (map[string]int, error)
	// ShiftRule sets weights on the rule's forward as of at, so the ALB
	// traffic model routes by them from then on.
	ShiftRule(ruleARN string, weights map[string]int, at time.Time) error
	// TargetGroupName names a target group, "" if there is none.
	TargetGroupName(arn string) string
}

// Alarms is CloudWatch as ECS watches a deployment's alarms.
type Alarms interface {
	// AlarmStatesAt evaluates the alarms at at and returns the named
	// ones' states (OK, ALARM, INSUFFICIENT_DATA).
	AlarmStatesAt(names []string, at time.Time) map[string]string
}

// Traffic brings the traffic models to a time, so that a change ECS makes
// then lands in the right period.
type Traffic interface {
	AdvanceTo(at time.Time)
}

// Deps are the services ECS works with.
type Deps struct {
	LoadBalancers LoadBalancers
	Alarms        Alarms
	Traffic       Traffic
	Log           *slog.Logger
}
