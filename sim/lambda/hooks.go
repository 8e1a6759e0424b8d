package lambda

import (
	"errors"
	"fmt"

	"github.com/perch-dev/perch/sim/scenario"
)

// What the rest of the simulator asks of Lambda: a second operator's or
// CodeDeploy's routing changes, and the tests' look at an alias. Callers
// hold the simulator's lock, as for requests.

// AliasState is an alias's routing as the simulator holds it.
type AliasState struct {
	FunctionVersion string
	Weights         map[string]float64
	RevisionID      string
}

// Alias returns an alias's current routing.
func (l *Service) Alias(function, alias string) (AliasState, error) {
	f := l.functions[function]
	if f == nil || f.aliases[alias] == nil {
		return AliasState{}, fmt.Errorf("alias %s:%s: not found", function, alias)
	}
	a := f.aliases[alias]
	w := map[string]float64{}
	for k, v := range a.weights {
		w[k] = v
	}
	return AliasState{FunctionVersion: a.functionVersion, Weights: w, RevisionID: a.revisionID}, nil
}

// RouteAlias points an alias at functionVersion with weights, the way
// UpdateAlias does: Lambda's rules apply, the RevisionId changes and the
// traffic model follows from its now.
func (l *Service) RouteAlias(function, alias, functionVersion string, weights map[string]float64) error {
	f := l.functions[function]
	if f == nil {
		return errors.New("function not found")
	}
	a, aerr := l.findAlias(f, alias)
	if aerr != nil {
		return aerr
	}
	if aerr := l.setAlias(f, a, functionVersion, weights); aerr != nil {
		return aerr
	}
	return nil
}

// HasVersion reports whether version ($LATEST or a number) of function is
// published.
func (l *Service) HasVersion(function, version string) bool {
	f := l.functions[function]
	return f != nil && f.version(version) != nil
}

// FunctionARN is the unqualified ARN of the function name.
func (l *Service) FunctionARN(name string) string { return l.functionARN(name) }

// SetVersionState sets a published version's State (Active, Pending,
// Inactive, Failed), so tests can make a side look unable to serve.
func (l *Service) SetVersionState(function, version, state string) error {
	if !scenario.ValidLambdaState(state) {
		return fmt.Errorf("set state of %s:%s: %q is not Active, Pending, Inactive or Failed", function, version, state)
	}
	f := l.functions[function]
	if f == nil {
		return fmt.Errorf("set state of %s:%s: function not found", function, version)
	}
	v := f.version(version)
	if v == nil {
		return fmt.Errorf("set state of %s:%s: version not found", function, version)
	}
	v.state = state
	return nil
}

// Routing is an alias's FunctionVersion and additional version weights
// (a copy).
func (l *Service) Routing(function, alias string) (string, map[string]float64, error) {
	a, err := l.Alias(function, alias)
	if err != nil {
		return "", nil, err
	}
	return a.FunctionVersion, a.Weights, nil
}
