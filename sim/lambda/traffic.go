package lambda

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	"github.com/perch-dev/perch/sim/metrics"
	"github.com/perch-dev/perch/sim/scenario"
	"github.com/perch-dev/perch/sim/traffic"
)

// Namespace is the CloudWatch namespace of Lambda metrics.
const Namespace = "AWS/Lambda"

// lambdaRun is the traffic model's view of one scenario alias; its
// routing gives each version's share of the invocations (they sum to 1).
type lambdaRun struct {
	traffic.Routing[map[string]float64]
	spec     *scenario.Lambda
	fn       *lambdaFunction
	alias    string
	resource string // the Resource dimension: function:alias
	stream   uint64
}

// lambdaTraffic turns the aliases' routing and the scenario's parameters
// into AWS/Lambda metrics, one 60 s period at a time, lazily, on the same
// schedule as the ALB model.
type lambdaTraffic struct {
	traffic.Schedule
	lambda *Service
	store  metrics.Sink
	seed   uint64
	runs   []*lambdaRun
	// quiet suppresses the change hook while a scripted event rewrites an
	// alias, so the change is recorded at the event's time instead.
	quiet bool
}

// StartTraffic starts the Lambda traffic model: from now on the aliases
// SeedFunction registers publish their metrics to sink, history before
// start and each period delay after it ends, with random draws keyed by
// seed.
func (l *Service) StartTraffic(sink metrics.Sink, seed int64, start time.Time, history, delay time.Duration) {
	t := &lambdaTraffic{Schedule: traffic.NewSchedule(start, history, delay), lambda: l, store: sink, seed: uint64(seed)}
	l.changed = t.aliasChanged
	l.traffic = t
}

// AdvanceTraffic plays scripted routing changes up to now and publishes
// every period that has become visible by now.
func (l *Service) AdvanceTraffic(now time.Time) { l.traffic.advance(now) }

func (t *lambdaTraffic) addRun(spec *scenario.Lambda, f *lambdaFunction) {
	h := fnv.New64a()
	_, _ = h.Write([]byte("lambda:" + spec.Name))
	r := &lambdaRun{spec: spec, fn: f, alias: spec.Alias, resource: f.name + ":" + spec.Alias, stream: h.Sum64()}
	var script []traffic.WeightEvent
	for _, ev := range spec.Events {
		if ev.CanaryWeight != nil {
			script = append(script, traffic.WeightEvent{At: ev.At.D(), Percent: *ev.CanaryWeight})
		}
	}
	r.Routing = traffic.NewRouting(r.currentShares(), script)
	t.runs = append(t.runs, r)
}

// currentShares reads the alias as it is now: each additional version
// gets its weight, FunctionVersion the rest.
func (r *lambdaRun) currentShares() map[string]float64 {
	a := r.fn.aliases[r.alias]
	if a == nil {
		return map[string]float64{}
	}
	out := map[string]float64{}
	rest := 1.0
	for v, w := range a.weights {
		out[v] += w
		rest -= w
	}
	if rest > 0 {
		out[a.functionVersion] += rest
	}
	return out
}

func (t *lambdaTraffic) aliasChanged(function, alias string) {
	if !t.quiet {
		t.recordChange(function, alias, t.Now())
	}
}

func (t *lambdaTraffic) recordChange(function, alias string, at time.Time) {
	for _, r := range t.runs {
		if r.fn.name == function && r.alias == alias {
			r.Record(at, r.currentShares())
		}
	}
}

// advance plays scripted routing changes up to now and publishes every
// period that has become visible by now.
func (t *lambdaTraffic) advance(now time.Time) {
	next := t.Schedule.Advance(now, func(now time.Time) {
		for _, r := range t.runs {
			t.playScript(r, now)
		}
	}, func(from time.Time) {
		for _, r := range t.runs {
			t.generate(r, from)
		}
	})
	for _, r := range t.runs {
		r.Prune(next)
	}
}

// playScript plays canary_weight events: a second operator rewriting the
// alias (stable as FunctionVersion, the canary by weight).
func (t *lambdaTraffic) playScript(r *lambdaRun, now time.Time) {
	r.Routing.PlayScript(t.Start(), now, func(percent float64) error {
		weights := map[string]float64{}
		if percent > 0 {
			weights[r.spec.CanaryVersion] = percent / 100
		}
		a := r.fn.aliases[r.alias]
		if a == nil {
			return fmt.Errorf("alias %s:%s is gone", r.fn.name, r.alias)
		}
		t.quiet = true
		aerr := t.lambda.setAlias(r.fn, a, r.spec.StableVersion, weights)
		t.quiet = false
		if aerr != nil {
			return aerr // not returned directly: a nil *apiError is a non-nil error
		}
		return nil
	}, func(at time.Time) { t.recordChange(r.fn.name, r.alias, at) })
}

// sharesOver is each version's time-weighted share over [from,
// from+period).
func (r *lambdaRun) sharesOver(from time.Time) map[string]float64 {
	out := map[string]float64{}
	r.Over(from, func(s map[string]float64, d time.Duration) {
		for v, w := range s {
			out[v] += w * d.Seconds() / metrics.Period.Seconds()
		}
	})
	return out
}

func (t *lambdaTraffic) paramsAt(r *lambdaRun, at time.Time) scenario.LambdaParams {
	p := r.spec.BaseParams()
	for i := range r.spec.Events {
		ev := &r.spec.Events[i]
		if t.Start().Add(ev.At.D()).After(at) {
			break
		}
		p.Apply(ev)
	}
	return p
}

// generate publishes one period of one alias. Each invocation goes to a
// version at random by the alias's weights, so at low traffic the observed
// split wanders around the configured one, as it does in AWS. Random draws
// come from streams keyed by (seed, alias, period, version, purpose), so
// the data never depends on when or how often a period is generated.
func (t *lambdaTraffic) generate(r *lambdaRun, from time.Time) {
	stream := func(version string, purpose uint64) *rand.Rand {
		h := fnv.New64a()
		_, _ = h.Write([]byte(version))
		return rand.New(rand.NewPCG(t.seed^r.stream^h.Sum64(), uint64(from.Unix())<<2|purpose))
	}
	p := t.paramsAt(r, from)
	shares := r.sharesOver(from)
	versions := sortedVersions(shares)
	split := stream("", 0)
	total := 0
	if len(versions) > 0 {
		total = traffic.Poisson(split, p.RPM)
	}
	remaining, rest := total, 1.0
	var concurrency float64
	for i, v := range versions {
		n := remaining
		if i < len(versions)-1 && rest > 0 {
			n = traffic.Binomial(split, remaining, math.Min(1, shares[v]/rest))
		}
		remaining -= n
		rest -= shares[v]
		vp := p.Stable
		if v == r.spec.CanaryVersion {
			vp = p.Canary
		}
		concurrency += t.publishVersion(stream(v, 1), r, from, v, n, vp)
	}
	if c := math.Round(concurrency); c > 0 {
		sets := r.dimensionSets("")
		for _, dims := range sets[1:] {
			t.store.Put(metrics.Datum{Namespace: Namespace, MetricName: "ConcurrentExecutions", Dimensions: dims,
				Timestamp: from, Unit: "Count", SampleCount: 1, Sum: c, Min: c, Max: c})
		}
	}
}

// dimensionSets are the sets Lambda publishes an alias's invocation under:
// {FunctionName, Resource, ExecutedVersion}, {FunctionName, Resource} and
// {FunctionName}. Only the first separates the versions of a weighted
// alias.
func (r *lambdaRun) dimensionSets(version string) [3][]metrics.Dimension {
	fn := metrics.Dimension{Name: "FunctionName", Value: r.fn.name}
	res := metrics.Dimension{Name: "Resource", Value: r.resource}
	return [3][]metrics.Dimension{
		{fn, res, {Name: "ExecutedVersion", Value: version}},
		{fn, res},
		{fn},
	}
}

// publishVersion publishes one version's period and returns its
// concurrency. Concurrency is arrival rate times mean duration (Little's
// law); above the version's limit the excess is throttled, and throttled
// invocations are neither executed nor counted in Invocations.
func (t *lambdaTraffic) publishVersion(rng *rand.Rand, r *lambdaRun, at time.Time, version string, n int, vp scenario.VersionParams) float64 {
	if n == 0 {
		return 0
	}
	dist := traffic.NewLognormal(vp.P50, vp.P99)
	meanSeconds := dist.Mean() / 1000
	demand := float64(n) / metrics.Period.Seconds() * meanSeconds
	throttled := 0
	if lim := float64(vp.Limit); vp.Limit > 0 && demand > lim {
		throttled = traffic.Binomial(rng, n, 1-lim/demand)
	}
	executed := n - throttled
	errs := traffic.Binomial(rng, executed, vp.ErrRate)
	values, counts := dist.Histogram(rng, executed, 1)
	for _, dims := range r.dimensionSets(version) {
		put := func(d metrics.Datum) {
			d.Namespace, d.Dimensions, d.Timestamp = Namespace, dims, at
			t.store.Put(d)
		}
		if executed > 0 {
			put(metrics.Datum{MetricName: "Invocations", Unit: "Count", SampleCount: float64(executed), Sum: float64(executed), Min: 1, Max: 1})
			// Lambda publishes Errors for every invocation (0 or 1), so a
			// clean period has an Errors datapoint of 0.
			lo, hi := 0.0, 0.0
			if errs == executed {
				lo = 1
			}
			if errs > 0 {
				hi = 1
			}
			put(metrics.Datum{MetricName: "Errors", Unit: "Count", SampleCount: float64(executed), Sum: float64(errs), Min: lo, Max: hi})
			put(metrics.Datum{MetricName: "Duration", Unit: "Milliseconds", Values: values, Counts: counts})
		}
		if throttled > 0 {
			put(metrics.Datum{MetricName: "Throttles", Unit: "Count", SampleCount: float64(throttled), Sum: float64(throttled), Min: 1, Max: 1})
		}
	}
	return float64(executed) / metrics.Period.Seconds() * meanSeconds
}
