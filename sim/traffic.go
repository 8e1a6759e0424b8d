package sim

import (
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"
)

// period is CloudWatch's standard resolution and the ALB's publishing
// interval.
const period = 60 * time.Second

const albNamespace = "AWS/ApplicationELB"

type sideParams struct {
	errRate, err4xxRate float64
	p50, p99            float64 // milliseconds
}

type albParams struct {
	rpm            float64
	stable, canary sideParams
}

func (a *ALB) baseParams() albParams {
	side := func(s Side) sideParams {
		return sideParams{errRate: *s.ErrorRate, err4xxRate: *s.Error4xxRate, p50: *s.LatencyP50Ms, p99: *s.LatencyP99Ms}
	}
	return albParams{rpm: a.RequestsPerMinute, stable: side(a.Stable), canary: side(a.Canary)}
}

func (sp *sideParams) apply(s *Side) {
	if s == nil {
		return
	}
	if s.ErrorRate != nil {
		sp.errRate = *s.ErrorRate
	}
	if s.Error4xxRate != nil {
		sp.err4xxRate = *s.Error4xxRate
	}
	if s.LatencyP50Ms != nil {
		sp.p50 = *s.LatencyP50Ms
	}
	if s.LatencyP99Ms != nil {
		sp.p99 = *s.LatencyP99Ms
	}
}

func (p *albParams) apply(ev *Event) {
	if ev.RequestsPerMinute != nil {
		p.rpm = *ev.RequestsPerMinute
	}
	p.stable.apply(ev.Both)
	p.canary.apply(ev.Both)
	p.stable.apply(ev.Stable)
	p.canary.apply(ev.Canary)
}

// shares is the fraction of a listener rule's traffic each side receives.
type shares struct {
	at             time.Time
	stable, canary float64
}

// canaryRun is the traffic model's view of one scenario ALB canary.
type canaryRun struct {
	spec      *ALB
	ruleARN   string // the rule (or listener default rule) that splits
	stableTG  string
	canaryTG  string
	lbDim     string
	stableDim string
	canaryDim string
	stream    uint64 // per-canary RNG stream, from its name

	// history holds every share change still needed to generate
	// ungenerated periods; history[0] is in force before all others.
	history []shares
	// nextDrift is the index of the next canary_weight event to apply.
	nextDrift int
}

// datumSink is where the traffic model publishes: the MetricStore, or a
// recorder in tests.
type datumSink interface{ Put(Datum) }

// traffic turns the rules' weights and the scenario's parameters into
// ALB metrics, one 60 s period at a time, lazily.
type traffic struct {
	elb       *elbv2
	store     datumSink
	seed      uint64
	start     time.Time
	delay     time.Duration
	retention time.Duration
	canaries  []*canaryRun

	next time.Time // start of the next period to generate
	now  time.Time // the time advance was last called with
}

func newTraffic(elb *elbv2, store datumSink, seed int64, start time.Time, sc *Scenario) *traffic {
	t := &traffic{
		elb:       elb,
		store:     store,
		seed:      uint64(seed),
		start:     start,
		delay:     sc.PublishDelay.D(),
		retention: max(sc.History.D(), 6*time.Hour),
		next:      start.Add(-sc.History.D()).Truncate(period),
		now:       start,
	}
	elb.actionsChanged = t.actionsChanged
	return t
}

func (t *traffic) addCanary(spec *ALB, ruleARN, lbARN, stableTG, canaryTG string) {
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
	c.history = []shares{t.currentShares(c, time.Time{})}
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
func (t *traffic) currentShares(c *canaryRun, at time.Time) shares {
	s := shares{at: at}
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
func (t *traffic) actionsChanged(ruleARN string) {
	t.recordChange(ruleARN, t.now)
}

func (t *traffic) recordChange(ruleARN string, at time.Time) {
	for _, c := range t.canaries {
		if c.ruleARN != ruleARN {
			continue
		}
		s := t.currentShares(c, at)
		last := &c.history[len(c.history)-1]
		if !at.After(last.at) {
			// Several changes at one instant: the last one wins.
			last.stable, last.canary = s.stable, s.canary
			continue
		}
		c.history = append(c.history, s)
	}
}

// advance applies scripted weight changes up to now and publishes every
// period that has become visible by now.
func (t *traffic) advance(now time.Time) {
	if now.After(t.now) {
		t.now = now
	}
	now = t.now
	for _, c := range t.canaries {
		t.applyDrift(c, now)
	}
	// Periods older than the store keeps would be pruned at once.
	if floor := now.Add(-t.retention - t.delay - period).Truncate(period); t.next.Before(floor) {
		t.next = floor
	}
	for !t.next.Add(period + t.delay).After(now) {
		for _, c := range t.canaries {
			t.generate(c, t.next)
		}
		t.next = t.next.Add(period)
	}
	for _, c := range t.canaries {
		c.prune(t.next)
	}
}

// applyDrift plays canary_weight events: a second operator rewriting the
// weights. The change is recorded at the event's own time.
func (t *traffic) applyDrift(c *canaryRun, now time.Time) {
	for ; c.nextDrift < len(c.spec.Events); c.nextDrift++ {
		ev := c.spec.Events[c.nextDrift]
		at := t.start.Add(ev.At.D())
		if at.After(now) {
			return
		}
		if ev.CanaryWeight == nil {
			continue
		}
		w := *ev.CanaryWeight
		if err := t.elb.setWeights(c.ruleARN, map[string]int{c.stableTG: 100 - w, c.canaryTG: w}); err != nil {
			continue // the rule no longer forwards to both sides; nothing to drift
		}
		if at.Before(c.history[len(c.history)-1].at) {
			at = c.history[len(c.history)-1].at
		}
		t.recordChange(c.ruleARN, at)
	}
}

// prune drops share changes that no ungenerated period can need.
func (c *canaryRun) prune(next time.Time) {
	i := 0
	for i+1 < len(c.history) && !c.history[i+1].at.After(next) {
		i++
	}
	if i > 0 {
		c.history = append(c.history[:0], c.history[i:]...)
	}
}

// sharesOver is the time-weighted average share over [from, from+period):
// a weight change mid-period sends traffic to the new side for the rest of
// it, as a real ALB does.
func (c *canaryRun) sharesOver(from time.Time) (stable, canary float64) {
	to := from.Add(period)
	cur := c.history[0]
	var ws, wc float64
	pos := from
	for _, h := range c.history[1:] {
		if !h.at.After(pos) {
			cur = h
			continue
		}
		if !h.at.Before(to) {
			break
		}
		d := h.at.Sub(pos).Seconds()
		ws += cur.stable * d
		wc += cur.canary * d
		pos, cur = h.at, h
	}
	d := to.Sub(pos).Seconds()
	ws += cur.stable * d
	wc += cur.canary * d
	return ws / period.Seconds(), wc / period.Seconds()
}

// paramsAt is the scenario parameters in force at t.
func (t *traffic) paramsAt(c *canaryRun, at time.Time) albParams {
	p := c.spec.baseParams()
	for i := range c.spec.Events {
		ev := &c.spec.Events[i]
		if t.start.Add(ev.At.D()).After(at) {
			break
		}
		p.apply(ev)
	}
	return p
}

// generate publishes one period for one canary. Its random draws come
// from streams keyed by (seed, canary, period start, purpose), so the data
// never depends on when, or how often, the period is generated or queried,
// and one side's draws never shift the other's.
func (t *traffic) generate(c *canaryRun, from time.Time) {
	stream := func(purpose uint64) *rand.Rand {
		return rand.New(rand.NewPCG(t.seed^c.stream, uint64(from.Unix())<<2|purpose))
	}
	p := t.paramsAt(c, from)
	shareS, shareC := c.sharesOver(from)
	r := stream(0)
	total := poisson(r, p.rpm*(shareS+shareC))
	nS := 0
	if shareS+shareC > 0 {
		nS = binomial(r, total, shareS/(shareS+shareC))
	}
	t.publishSide(stream(1), c.stableDim, c, from, nS, p.stable)
	t.publishSide(stream(2), c.canaryDim, c, from, total-nS, p.canary)
}

func (t *traffic) publishSide(r *rand.Rand, tgDim string, c *canaryRun, at time.Time, n int, sp sideParams) {
	if n == 0 {
		// An ALB publishes nothing for a target group that got no requests.
		return
	}
	n5 := binomial(r, n, sp.errRate)
	n4 := 0
	if rest := 1 - sp.errRate; rest > 0 {
		n4 = binomial(r, n-n5, sp.err4xxRate/rest)
	}
	values, counts := newLognormal(sp.p50, sp.p99).histogram(r, n, 0.001)
	dims := []Dimension{{Name: "LoadBalancer", Value: c.lbDim}, {Name: "TargetGroup", Value: tgDim}}
	count := func(name string, k int) {
		if k == 0 {
			return // ALB omits zero-valued error counts; consumers treat absence as 0
		}
		t.store.Put(Datum{
			Namespace: albNamespace, MetricName: name, Dimensions: dims, Timestamp: at, Unit: "Count",
			SampleCount: float64(k), Sum: float64(k), Min: 1, Max: 1,
		})
	}
	count("RequestCount", n)
	count("HTTPCode_Target_5XX_Count", n5)
	count("HTTPCode_Target_4XX_Count", n4)
	t.store.Put(Datum{
		Namespace: albNamespace, MetricName: "TargetResponseTime", Dimensions: dims, Timestamp: at, Unit: "Seconds",
		Values: values, Counts: counts,
	})
}
