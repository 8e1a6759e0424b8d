package codedeploy

import (
	"log/slog"
	"time"
)

// What CodeDeploy needs of the rest of the simulated account, declared
// here, where it is used; the simulator (package sim) wires the other
// services in.

// LoadBalancers is ELBv2 as an ECS blue/green group needs it: the listener
// rule whose two target groups a deployment shifts.
type LoadBalancers interface {
	// RuleWeights reads the rule's forward weights by target group ARN.
	RuleWeights(ruleARN string) (map[string]int, error)
	// ShiftRule sets weights on the rule's forward as of at, so the ALB
	// traffic model routes by them from then on.
	ShiftRule(ruleARN string, weights map[string]int, at time.Time) error
	// TargetGroupName names a target group, "" if there is none.
	TargetGroupName(arn string) string
}

// Functions is Lambda as a Lambda group needs it: the alias a deployment
// routes between the current and the target version.
type Functions interface {
	// Routing is the alias's FunctionVersion and additional weights.
	Routing(function, alias string) (version string, weights map[string]float64, err error)
	HasVersion(function, version string) bool
	// RouteAlias points the alias, as UpdateAlias does; the Lambda traffic
	// model follows from its now.
	RouteAlias(function, alias, version string, weights map[string]float64) error
	FunctionARN(name string) string
}

// Alarms is CloudWatch as CodeDeploy watches a group's alarms.
type Alarms interface {
	// AlarmStatesAt evaluates the alarms at at and returns the named
	// ones' states (OK, ALARM, INSUFFICIENT_DATA).
	AlarmStatesAt(names []string, at time.Time) map[string]string
}

// Traffic brings the traffic models to a time, so that a change CodeDeploy
// makes then lands in the right period.
type Traffic interface {
	AdvanceTo(at time.Time)
}

// Deps are the services CodeDeploy works with.
type Deps struct {
	LoadBalancers LoadBalancers
	Functions     Functions
	Alarms        Alarms
	Traffic       Traffic
	Log           *slog.Logger
}
