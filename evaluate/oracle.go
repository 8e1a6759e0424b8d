package evaluate

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
)

// The oracle is the physical limit the judge is measured against: no
// detector can act before a period is published, and none can beat a
// CUSUM that knows the canary's true rates before and after the change
// (Lorden, Moustakides: CUSUM is optimal for a known change) at the same
// false-alarm probability. It reads the same data the judge read, period
// by period as each becomes visible, and knows what no real detector
// knows: the canary's error rate and share of slow requests before the
// regression (stable's: a healthy canary is like stable) and after it
// (the scenario's), so it needs neither a mixture over effect sizes nor
// stable's side of the data.
//
// Its per-period log likelihood ratio, on the canary's n requests, e
// errors and s slow requests, is
//
//	e log(r1/r0) + (n-e) log((1-r1)/(1-r0)) + s log(q1/q0) + (n-s) log((1-q1)/(1-q0))
//
// and its threshold is set by simulation (oracleRuns healthy days of the
// canary's traffic) so that a healthy canary watched for 24 hours crosses
// it with probability 1%: the judge's whole budget, which the oracle spends
// on the one metric it knows regresses.
type oracle struct {
	r0, r1, q0, q1 float64
	h              float64 // log threshold
}

const (
	oracleDay      = 24 * 60 // periods
	oracleRuns     = 2000
	oracleFalseDay = 0.01
)

// newOracle prepares the oracle for a regression, thresholdMs being the
// slow-request threshold the judge's counts use (stable's p99, as the
// metrics adapter learns it). The calibration is seeded: the same
// scenario gives the same threshold.
func newOracle(reg *Regression, thresholdMs float64) *oracle {
	o := &oracle{r0: reg.Stable.ErrorRate, r1: reg.Canary.ErrorRate}
	o.q0, o.q1 = o.r0, o.r0 // no latency term unless latency regressed
	if reg.Latency() && thresholdMs > 0 {
		o.q0 = sim.SlowShare(reg.Stable.P50, reg.Stable.P99, thresholdMs)
		o.q1 = sim.SlowShare(reg.Canary.P50, reg.Canary.P99, thresholdMs)
	}
	if !reg.Errors() {
		o.r1 = o.r0
	}
	if ae, be, as, bs := o.terms(); ae == 0 && be == 0 && as == 0 && bs == 0 {
		// Nothing it can see regressed (a latency regression without slow
		// counts): it never fires.
		o.h = math.Inf(1)
		return o
	}
	o.h = o.calibrate(reg.CanaryPerMinute)
	return o
}

// terms are the log likelihood ratios per error, per request without an
// error, per slow request and per request that was not slow.
func (o *oracle) terms() (ae, be, as, bs float64) {
	ratio := func(p1, p0 float64) (float64, float64) {
		if p1 == p0 || p0 <= 0 || p0 >= 1 || p1 <= 0 || p1 >= 1 {
			return 0, 0
		}
		return math.Log(p1 / p0), math.Log((1 - p1) / (1 - p0))
	}
	ae, be = ratio(o.r1, o.r0)
	as, bs = ratio(o.q1, o.q0)
	return
}

// llr is one period's log likelihood ratio; s < 0 means no slow count
// (the slow-request term then says nothing).
func (o *oracle) llr(n, e, s float64) float64 {
	ae, be, as, bs := o.terms()
	x := e*ae + (n-e)*be
	if s >= 0 {
		x += s*as + (n-s)*bs
	}
	return x
}

// calibrate is the 99th percentile of a healthy day's CUSUM maximum, at
// perMinute canary requests a minute.
func (o *oracle) calibrate(perMinute float64) float64 {
	rng := rand.New(rand.NewPCG(0x0ac1e, uint64(math.Float64bits(perMinute))))
	maxima := make([]float64, oracleRuns)
	for run := range maxima {
		var w, top float64
		for range oracleDay {
			n := poissonDraw(rng, perMinute)
			w = math.Max(0, w+o.llr(n, binomialDraw(rng, n, o.r0), binomialDraw(rng, n, o.q0)))
			top = math.Max(top, w)
		}
		maxima[run] = top
	}
	sort.Float64s(maxima)
	return maxima[int(math.Ceil((1-oracleFalseDay)*oracleRuns))-1]
}

// oracleRun follows one run's data.
type oracleRun struct {
	o      *oracle
	w      float64
	newest time.Time
	seen   map[time.Time]bool
}

func newOracleRun(o *oracle) *oracleRun { return &oracleRun{o: o, seen: map[time.Time]bool{}} }

// observe takes the canary's requests, errors and slow counts read so far
// and steps the CUSUM over every period not seen before, oldest first. It
// returns the first period at which it crossed its threshold, if any.
func (r *oracleRun) observe(sig model.SideSignals) (time.Time, bool) {
	errs := byTime(sig[model.Errors5xx])
	slow := byTime(sig[model.SlowRequests])
	var fresh []model.Point
	for _, p := range sig[model.Requests] {
		if !r.seen[p.T] && (r.newest.IsZero() || p.T.After(r.newest)) {
			fresh = append(fresh, p)
		}
	}
	sort.Slice(fresh, func(i, j int) bool { return fresh[i].T.Before(fresh[j].T) })
	for _, p := range fresh {
		r.seen[p.T] = true
		r.newest = p.T
		if !(p.V > 0) {
			continue
		}
		s, ok := slow[p.T]
		if !ok {
			s = -1
		}
		r.w = math.Max(0, r.w+r.o.llr(p.V, errs[p.T], s))
		if r.w >= r.o.h {
			return p.T, true
		}
	}
	return time.Time{}, false
}

func byTime(pts []model.Point) map[time.Time]float64 {
	m := make(map[time.Time]float64, len(pts))
	for _, p := range pts {
		m[p.T] = p.V
	}
	return m
}

// poissonDraw and binomialDraw are the simulator's samplers in miniature:
// exact for small means, a rounded normal for large ones.
func poissonDraw(r *rand.Rand, lambda float64) float64 {
	if lambda >= 30 {
		return math.Max(0, math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64()))
	}
	limit, k, p := math.Exp(-lambda), 0.0, 1.0
	for {
		p *= r.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

func binomialDraw(r *rand.Rand, n, p float64) float64 {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - binomialDraw(r, n, 1-p)
	case n*p >= 40:
		return math.Min(n, math.Max(0, math.Round(n*p+math.Sqrt(n*p*(1-p))*r.NormFloat64())))
	}
	// Inversion from zero: O(n p).
	f := math.Exp(n * math.Log1p(-p))
	u := r.Float64()
	for k := 0.0; k < n; k++ {
		if u < f {
			return k
		}
		u -= f
		f *= p / (1 - p) * (n - k) / (k + 1)
	}
	return n
}
