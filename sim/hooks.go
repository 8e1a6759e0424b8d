package sim

import (
	"fmt"

	"github.com/perch-dev/perch/sim/codedeploy"
	"github.com/perch-dev/perch/sim/ecs"
	"github.com/perch-dev/perch/sim/lambda"
)

// The in-process hooks tests use to look at or change the simulated
// account without going through the API; each takes the Sim's lock and
// asks the service that owns the state.

// AliasState is an alias's routing as the simulator holds it.
type AliasState = lambda.AliasState

// Alias returns an alias's current routing, for tests that check what a
// write did without going through the API.
func (s *Sim) Alias(function, alias string) (AliasState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lambda.Alias(function, alias)
}

// SetAliasRouting points an alias at functionVersion with weights, the
// way a second operator working behind perch's back would: Lambda's rules
// apply and the RevisionId changes.
func (s *Sim) SetAliasRouting(function, alias, functionVersion string, weights map[string]float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	if err := s.lambda.RouteAlias(function, alias, functionVersion, weights); err != nil {
		return fmt.Errorf("set routing of %s:%s: %w", function, alias, err)
	}
	return nil
}

// SetVersionState sets a published version's State (Active, Pending,
// Inactive, Failed), so tests can make a side look unable to serve.
func (s *Sim) SetVersionState(function, version, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lambda.SetVersionState(function, version, state)
}

// DeploymentState is a deployment as the simulator holds it, for tests.
type DeploymentState = codedeploy.DeploymentState

// Deployment returns a deployment's state after bringing the simulation
// up to the clock's now.
func (s *Sim) Deployment(id string) (DeploymentState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	return s.codedeploy.Deployment(id)
}

// SetWeights rewrites the weights of a rule's (or a listener default
// rule's) forward action in place, the way a second operator working
// behind perch's back would. weights maps target group ARNs, each already
// in the forward, to new weights (0-999); groups not named keep theirs.
func (s *Sim) SetWeights(ruleARN string, weights map[string]int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	if err := s.elb.SetRuleWeights(ruleARN, weights); err != nil {
		return fmt.Errorf("set weights on %s: %w", ruleARN, err)
	}
	return nil
}

// Weights returns a rule's current forward weights by target group ARN,
// for tests that check what a write did without going through the API.
func (s *Sim) Weights(ruleARN string) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.elb.RuleWeights(ruleARN)
	if err != nil {
		return nil, fmt.Errorf("weights of %s: rule not found", ruleARN)
	}
	return w, nil
}

// SetTargetHealth sets how many of a target group's registered targets
// are healthy; the rest become unhealthy (failed health checks). Tests use
// it to make a side look too small for the traffic it is about to get.
func (s *Sim) SetTargetHealth(tgARN string, healthy int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.elb.SetTargetHealth(tgARN, healthy)
}

// ECSDeployment returns a simulated ECS service deployment's state.
func (s *Sim) ECSDeployment(arn string) (ecs.DeploymentState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	return s.ecs.Deployment(arn)
}

// LogQueryStatus is a Logs Insights query's status as the simulator has
// it ("" for an unknown id): a test can check that perch stopped its
// queries when it quit.
func (s *Sim) LogQueryStatus(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	return s.logs.QueryStatus(id)
}
