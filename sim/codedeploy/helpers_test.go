package codedeploy

import (
	"fmt"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/perch-dev/perch/sim/scenario"
)

var epoch = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// fakeELB holds rule weights as ELBv2 would.
type fakeELB struct{ rules map[string]map[string]int }

func (f *fakeELB) RuleWeights(ruleARN string) (map[string]int, error) {
	w, ok := f.rules[ruleARN]
	if !ok {
		return nil, fmt.Errorf("rule %s not found", ruleARN)
	}
	return maps.Clone(w), nil
}

func (f *fakeELB) ShiftRule(ruleARN string, weights map[string]int, _ time.Time) error {
	w, ok := f.rules[ruleARN]
	if !ok {
		return fmt.Errorf("rule %s not found", ruleARN)
	}
	maps.Copy(w, weights)
	return nil
}

func (f *fakeELB) TargetGroupName(arn string) string { return "tg-" + arn }

// fakeLambda holds alias routing as Lambda would.
type fakeLambda struct {
	versions map[string]string             // alias key → FunctionVersion
	weights  map[string]map[string]float64 // alias key → additional weights
}

func (f *fakeLambda) Routing(function, alias string) (string, map[string]float64, error) {
	k := function + ":" + alias
	v, ok := f.versions[k]
	if !ok {
		return "", nil, fmt.Errorf("alias %s not found", k)
	}
	return v, maps.Clone(f.weights[k]), nil
}

func (f *fakeLambda) HasVersion(_, version string) bool { return version != "" && version != "$LATEST" }

func (f *fakeLambda) RouteAlias(function, alias, version string, weights map[string]float64) error {
	k := function + ":" + alias
	f.versions[k], f.weights[k] = version, maps.Clone(weights)
	return nil
}

func (f *fakeLambda) FunctionARN(name string) string {
	return "arn:aws:lambda:us-east-1:123456789012:function:" + name
}

type noAlarms struct{}

func (noAlarms) AlarmStatesAt([]string, time.Time) map[string]string { return map[string]string{} }

type noTraffic struct{}

func (noTraffic) AdvanceTo(time.Time) {}

// seeded is a CodeDeploy seeded from sc at epoch, on fakes of the
// services it shifts, and the manifest targets it returned.
func seeded(t testing.TB, sc *scenario.Scenario) (*Service, []scenario.ManifestTarget) {
	t.Helper()
	elb := &fakeELB{rules: map[string]map[string]int{}}
	albs := map[string]scenario.ManifestTarget{}
	for _, a := range sc.ALBs {
		mt := scenario.ManifestTarget{Kind: "alb", Name: a.Name, RuleARN: "rule/" + a.Name, ListenerARN: "listener/" + a.Name,
			LoadBalancerARN: "lb/" + a.Name, StableTargetGroupARN: "tg/" + a.Name + "-stable", CanaryTargetGroupARN: "tg/" + a.Name + "-canary"}
		elb.rules[mt.RuleARN] = map[string]int{mt.StableTargetGroupARN: 100 - a.CanaryWeight, mt.CanaryTargetGroupARN: a.CanaryWeight}
		albs[a.Name] = mt
	}
	fn := &fakeLambda{versions: map[string]string{}, weights: map[string]map[string]float64{}}
	for _, l := range sc.Lambdas {
		fn.versions[l.Name+":"+l.Alias] = l.StableVersion
	}
	c := New(Deps{LoadBalancers: elb, Functions: fn, Alarms: noAlarms{}, Traffic: noTraffic{}, Log: slog.New(slog.DiscardHandler)},
		"us-east-1", "123456789012", sc.Seed, epoch.Add(-sc.History.D()))
	targets, err := c.Seed(sc, albs, sc.Seed, epoch)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(epoch)
	return c, targets
}
