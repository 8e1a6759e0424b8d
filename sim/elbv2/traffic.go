package elbv2

import (
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/metrics"
	"github.com/perch-dev/perch/sim/scenario"
	"github.com/perch-dev/perch/sim/traffic"
)

// Namespace is the CloudWatch namespace of ALB metrics.
const Namespace = "AWS/ApplicationELB"

// MetricDimensions are the dimensions of a target group's ALB metrics.
func MetricDimensions(lbARN, tgARN string) []metrics.Dimension {
	return []metrics.Dimension{{Name: "LoadBalancer", Value: lbDimension(lbARN)}, {Name: "TargetGroup", Value: tgDimension(tgARN)}}
}

// shares is the fraction of a listener rule's traffic each side receives.
type shares struct{ stable, canary float64 }

// canaryRun is the traffic model's view of one scenario ALB canary.
type canaryRun struct {
	traffic.Routing[shares]
	spec      *scenario.ALB
	ruleARN   string // the rule (or listener default rule) that splits
	stableTG  string
	canaryTG  string
	lbDim     string
	stableDim string
	canaryDim string
	stream    uint64 // per-canary RNG stream, from its name
}

// albTraffic turns the rules' weights and the scenario's parameters into
// ALB metrics, one 60 s period at a time, lazily.
type albTraffic struct {
	traffic.Schedule
	elb      *Service
	store    metrics.Sink
	seed     uint64
	canaries []*canaryRun
}

// StartTraffic starts the ALB traffic model: from now on the canaries
// SeedALB registers publish their metrics to sink, history before start
// and each period delay after it ends, with random draws keyed by seed.
func (e *Service) StartTraffic(sink metrics.Sink, seed int64, start time.Time, history, delay time.Duration) {
	t := &albTraffic{Schedule: traffic.NewSchedule(start, history, delay), elb: e, store: sink, seed: uint64(seed)}
	e.actionsChanged = t.actionsChanged
	e.traffic = t
}

// AdvanceTraffic applies scripted weight changes up to now and publishes
// every period that has become visible by now.
func (e *Service) AdvanceTraffic(now time.Time) { e.traffic.advance(now) }

func (t *albTraffic) addCanary(spec *scenario.ALB, ruleARN, lbARN, stableTG, canaryTG string) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(spec.Name))
	c := &canaryRun{
		spec:      spec,
		ruleARN:   ruleARN,
		stableTG:  stableTG,
		canaryTG:  canaryTG,
		lbDim:     lbDimension(lbARN),
		stableDim: tgDimension(stableTG),
		canaryDim: tgDimension(canaryTG),
		stream:    h.Sum64(),
	}
	var script []traffic.WeightEvent
	for _, ev := range spec.Events {
		if ev.CanaryWeight != nil {
			script = append(script, traffic.WeightEvent{At: ev.At.D(), Percent: float64(*ev.CanaryWeight)})
		}
	}
	c.Routing = traffic.NewRouting(t.currentShares(c), script)
	t.canaries = append(t.canaries, c)
}

// lbDimension is the ALB metric dimension value: the ARN after
// "loadbalancer/".
func lbDimension(arn string) string {
	_, after, ok := strings.Cut(arn, ":loadbalancer/")
	if !ok {
		return arn
	}
	return after
}

// tgDimension is the ARN's resource part, "targetgroup/<name>/<id>".
func tgDimension(arn string) string {
	return arn[strings.LastIndex(arn, ":")+1:]
}

// currentShares reads the rule's terminal forward action as it is now.
func (t *albTraffic) currentShares(c *canaryRun) shares {
	var s shares
	actions, ok := t.elb.ruleActions(c.ruleARN)
	if !ok {
		return s
	}
	for _, a := range actions {
		if a.forward == nil {
			continue
		}
		total := 0
		for _, g := range a.forward.groups {
			total += g.weight
		}
		if total == 0 {
			return s
		}
		for _, g := range a.forward.groups {
			switch g.arn {
			case c.stableTG:
				s.stable = float64(g.weight) / float64(total)
			case c.canaryTG:
				s.canary = float64(g.weight) / float64(total)
			}
		}
	}
	return s
}

// actionsChanged records new shares for any canary split by ruleARN, at
// the time of the request that changed them.
func (t *albTraffic) actionsChanged(ruleARN string) {
	t.recordChange(ruleARN, t.Now())
}

func (t *albTraffic) recordChange(ruleARN string, at time.Time) {
	for _, c := range t.canaries {
		if c.ruleARN == ruleARN {
			c.Record(at, t.currentShares(c))
		}
	}
}

// advance applies scripted weight changes up to now and publishes every
// period that has become visible by now.
func (t *albTraffic) advance(now time.Time) {
	next := t.Schedule.Advance(now, func(now time.Time) {
		for _, c := range t.canaries {
			t.playScript(c, now)
		}
	}, func(from time.Time) {
		for _, c := range t.canaries {
			t.generate(c, from)
		}
	})
	for _, c := range t.canaries {
		c.Prune(next)
	}
}

// playScript plays canary_weight events: a second operator rewriting the
// weights.
func (t *albTraffic) playScript(c *canaryRun, now time.Time) {
	c.Routing.PlayScript(t.Start(), now, func(percent float64) error {
		w := int(percent)
		// An error means the rule no longer forwards to both sides:
		// nothing to drift.
		return t.elb.setWeights(c.ruleARN, map[string]int{c.stableTG: 100 - w, c.canaryTG: w})
	}, func(at time.Time) { t.recordChange(c.ruleARN, at) })
}

// sharesOver is the time-weighted average share over [from, from+period).
func (c *canaryRun) sharesOver(from time.Time) (stable, canary float64) {
	var ws, wc float64
	c.Over(from, func(s shares, d time.Duration) {
		ws += s.stable * d.Seconds()
		wc += s.canary * d.Seconds()
	})
	return ws / metrics.Period.Seconds(), wc / metrics.Period.Seconds()
}

// paramsAt is the scenario parameters in force at t.
func (t *albTraffic) paramsAt(c *canaryRun, at time.Time) scenario.ALBParams {
	p := c.spec.BaseParams()
	for i := range c.spec.Events {
		ev := &c.spec.Events[i]
		if t.Start().Add(ev.At.D()).After(at) {
			break
		}
		p.Apply(ev)
	}
	return p
}

// generate publishes one period for one canary. Its random draws come
// from streams keyed by (seed, canary, period start, purpose), so the data
// never depends on when, or how often, the period is generated or queried,
// and one side's draws never shift the other's.
func (t *albTraffic) generate(c *canaryRun, from time.Time) {
	stream := func(purpose uint64) *rand.Rand {
		return rand.New(rand.NewPCG(t.seed^c.stream, uint64(from.Unix())<<2|purpose))
	}
	p := t.paramsAt(c, from)
	shareS, shareC := c.sharesOver(from)
	r := stream(0)
	total := traffic.Poisson(r, p.RPM*(shareS+shareC))
	nS := 0
	if shareS+shareC > 0 {
		nS = traffic.Binomial(r, total, shareS/(shareS+shareC))
	}
	t.publishSide(stream(1), c.stableDim, c, from, nS, p.Stable)
	t.publishSide(stream(2), c.canaryDim, c, from, total-nS, p.Canary)
	t.publishSaturation(stream(3), c, from, [2]int{nS, total - nS})
	t.publishHealth(c.stableTG, c.lbDim, c.stableDim, from)
	t.publishHealth(c.canaryTG, c.lbDim, c.canaryDim, from)
}

// publishHealth publishes a target group's HealthyHostCount and
// UnHealthyHostCount for the period at: ALB publishes them every minute,
// requests or not. The counts are the targets' states when the period is
// generated (the model does not keep a history of health); targets in any
// other state (initial, draining) count in neither, as on AWS.
func (t *albTraffic) publishHealth(tgARN, lbDim, tgDim string, at time.Time) {
	tg := t.elb.tgByARN[tgARN]
	if tg == nil {
		return
	}
	healthy, unhealthy := 0, 0
	for _, tt := range tg.targets {
		switch tt.state {
		case "healthy":
			healthy++
		case "unhealthy":
			unhealthy++
		}
	}
	dims := []metrics.Dimension{{Name: "LoadBalancer", Value: lbDim}, {Name: "TargetGroup", Value: tgDim}}
	for name, n := range map[string]int{"HealthyHostCount": healthy, "UnHealthyHostCount": unhealthy} {
		v := float64(n)
		t.store.Put(metrics.Datum{
			Namespace: Namespace, MetricName: name, Dimensions: dims, Timestamp: at, Unit: "Count",
			SampleCount: 1, Sum: v, Min: v, Max: v,
		})
	}
}

func (t *albTraffic) publishSide(r *rand.Rand, tgDim string, c *canaryRun, at time.Time, n int, sp scenario.SideParams) {
	if n == 0 {
		// An ALB publishes nothing for a target group that got no requests.
		return
	}
	n5 := traffic.Binomial(r, n, sp.ErrRate)
	n4 := 0
	if rest := 1 - sp.ErrRate; rest > 0 {
		n4 = traffic.Binomial(r, n-n5, sp.Err4xxRate/rest)
	}
	values, counts := traffic.NewLognormal(sp.P50, sp.P99).Histogram(r, n, 0.001)
	dims := []metrics.Dimension{{Name: "LoadBalancer", Value: c.lbDim}, {Name: "TargetGroup", Value: tgDim}}
	count := func(name string, k int) {
		if k == 0 {
			return // ALB omits zero-valued error counts; consumers treat absence as 0
		}
		t.store.Put(metrics.Datum{
			Namespace: Namespace, MetricName: name, Dimensions: dims, Timestamp: at, Unit: "Count",
			SampleCount: float64(k), Sum: float64(k), Min: 1, Max: 1,
		})
	}
	count("RequestCount", n)
	count("HTTPCode_Target_5XX_Count", n5)
	count("HTTPCode_Target_4XX_Count", n4)
	t.store.Put(metrics.Datum{
		Namespace: Namespace, MetricName: "TargetResponseTime", Dimensions: dims, Timestamp: at, Unit: "Seconds",
		Values: values, Counts: counts,
	})
}
