package scenario

import (
	"fmt"
	"hash/fnv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFleet bounds Fleet: each canary is a load balancer, two target
// groups and a traffic model publishing ten metrics a minute.
const MaxFleet = 500

// fleetNames are the services a generated fleet is made of; past the
// twentieth target the names repeat with a higher number.
var fleetNames = []string{
	"checkout", "payments", "search", "cart", "orders", "catalog", "profile", "inventory", "shipping", "pricing",
	"reviews", "auth", "gateway", "media", "notify", "billing", "ledger", "quotes", "ads", "recs",
}

// Fleet seeds n ALB canaries modelled on base's first ALB: the
// same sides, events and alarms (renamed), with traffic and canary weight
// varied per target, and a few deliberately bad canaries so a fleet view
// has something to show: every tenth target (the 4th, 14th, …) gets a 5xx
// spike a few minutes in, and every tenth from the 8th a canary whose p99
// is 2.5 times stable's. Deterministic for a base and n. Lambdas in base
// are left out: the fleet is of ALB canaries.
func Fleet(base *Scenario, n int) (*Scenario, error) {
	if n < 1 || n > MaxFleet {
		return nil, fmt.Errorf("fleet of %d: want 1 to %d canaries", n, MaxFleet)
	}
	if len(base.ALBs) == 0 {
		return nil, fmt.Errorf("fleet: scenario %s has no ALB canary to model the fleet on", base.Name)
	}
	tmpl := base.ALBs[0]
	sc := &Scenario{
		Name:         fmt.Sprintf("%s-fleet-%d", base.Name, n),
		Description:  fmt.Sprintf("%d ALB canaries modelled on %s", n, base.Name),
		Seed:         base.Seed,
		History:      base.History,
		PublishDelay: base.PublishDelay,
		CallerARN:    base.CallerARN,
		Faults:       base.Faults,
	}
	rates := []float64{0.3, 0.6, 1, 1.5, 2.5}
	weights := []int{1, 5, 10, 10, 25, 40}
	for i := range n {
		a, err := cloneALB(tmpl)
		if err != nil {
			return nil, fmt.Errorf("fleet: copy %s: %w", tmpl.Name, err)
		}
		a.Name = fleetName(i)
		h := fnv.New32a()
		_, _ = fmt.Fprintf(h, "%d/%d", base.Seed, i)
		v := h.Sum32()
		a.RequestsPerMinute = tmpl.RequestsPerMinute * rates[v%uint32(len(rates))]
		a.CanaryWeight = weights[(v/7)%uint32(len(weights))]
		a.Extras = nil
		for j := range a.Alarms {
			if a.Alarms[j].Name != "" {
				a.Alarms[j].Name = a.Name + strings.TrimPrefix(a.Alarms[j].Name, tmpl.Name)
			}
		}
		switch i % 10 {
		case 3:
			rate := 0.06
			a.Events = append(a.Events, Event{At: Duration(int64(2+i%7) * int64(60e9)), Canary: &Side{ErrorRate: &rate}})
		case 7:
			p99 := *a.Stable.LatencyP99Ms * 2.5
			a.Canary.LatencyP99Ms = &p99
		}
		sc.ALBs = append(sc.ALBs, a)
	}
	if err := sc.validate(); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	return sc, nil
}

func fleetName(i int) string {
	return fmt.Sprintf("%s-%d", fleetNames[i%len(fleetNames)], i/len(fleetNames)+1)
}

// cloneALB deep-copies an ALB (its sides and events hold pointers) through
// YAML, the form it was read from.
func cloneALB(a ALB) (ALB, error) {
	b, err := yaml.Marshal(a)
	if err != nil {
		return ALB{}, err
	}
	var out ALB
	if err := yaml.Unmarshal(b, &out); err != nil {
		return ALB{}, err
	}
	return out, nil
}
