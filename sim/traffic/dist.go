package traffic

import (
	"math"
	"math/rand/v2"
	"slices"
)

// The samplers below favour bounded cost over exactness in the far tails:
// a period's request count can be in the millions, and a simulated day
// must generate in well under a second.

// Poisson draws from Poisson(lambda): Knuth's product method for small
// means, a rounded normal for large ones (the approximation error is far
// below what any judge could notice at lambda >= 30).
func Poisson(r *rand.Rand, lambda float64) int {
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

// Binomial draws from Binomial(n, p). Small n: count Bernoulli trials.
// Rare or near-certain events: inversion, O(n*min(p,1-p)). Otherwise
// a rounded normal, clamped, which is accurate when n*p*(1-p) is large.
func Binomial(r *rand.Rand, n int, p float64) int {
	switch {
	case n <= 0 || p <= 0 || math.IsNaN(p):
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - Binomial(r, n, 1-p)
	case n < 64:
		k := 0
		for range n {
			if r.Float64() < p {
				k++
			}
		}
		return k
	case float64(n)*p < 40:
		// Inversion: walk up the probability mass function from zero
		// until it covers a uniform draw. O(n*p) multiplications, no
		// logarithms: the latency histogram draws hundreds of these per
		// period.
		q := 1 - p
		ratio := p / q
		f := math.Exp(float64(n) * math.Log1p(-p)) // P(0)
		u := r.Float64()
		for k := 0; k < n; k++ {
			if u < f {
				return k
			}
			u -= f
			f *= ratio * float64(n-k) / float64(k+1)
		}
		return n
	default:
		mean := float64(n) * p
		sd := math.Sqrt(mean * (1 - p))
		v := math.Round(mean + sd*r.NormFloat64())
		return int(math.Min(float64(n), math.Max(0, v)))
	}
}

// Lognormal is a latency distribution fixed by its median and 99th
// percentile.
type Lognormal struct {
	mu, sigma float64
}

// z99 is the standard normal's 99th percentile.
const z99 = 2.3263478740408408

// NewLognormal is the distribution with median p50 and 99th percentile p99.
func NewLognormal(p50, p99 float64) Lognormal {
	sigma := 0.0
	if p99 > p50 && p50 > 0 {
		sigma = math.Log(p99/p50) / z99
	}
	return Lognormal{mu: math.Log(p50), sigma: sigma}
}

// Mean is the distribution's mean (in its unit).
func (l Lognormal) Mean() float64 { return math.Exp(l.mu + l.sigma*l.sigma/2) }

// MaxLatencyDraws is how many requests a period may have for their
// latencies to be drawn one by one; above it the bins' counts are drawn
// directly, which costs the same however many requests there are.
const MaxLatencyDraws = 256

// latencyBin is the width, in natural log, of the bins a latency falls in:
// 1% of its value. Every latency the simulator publishes is the centre of
// its bin, on one grid shared by every side and scenario. That is what
// makes the counts CloudWatch derives from the samples behave like counts
// of real requests: the number of requests above any threshold (TC(t:)) is
// binomial with the same probability on two sides with the same
// distribution, whatever t is, and the percentiles are within half a bin
// (0.5%) of the distribution's.
const latencyBin = 0.01

// binCentre is the value published for bin j (in the distribution's unit).
func binCentre(j int) float64 { return math.Exp((float64(j) + 0.5) * latencyBin) }

// binOf is the bin of log-latency x.
func binOf(x float64) int { return int(math.Floor(x / latencyBin)) }

// tailAbove is P(log-latency >= x), computed as an upper tail so that the
// far right, where the slow requests are, keeps its precision.
func (l Lognormal) tailAbove(x float64) float64 {
	return 0.5 * math.Erfc((x-l.mu)/(l.sigma*math.Sqrt2))
}

// drawAbove draws a log-latency from the distribution conditioned on
// being at least x, whose upper tail probability is q = tailAbove(x).
func (l Lognormal) drawAbove(r *rand.Rand, x, q float64) float64 {
	u := q * (1 - r.Float64()) // in (0, q]
	z := math.Sqrt2 * math.Erfcinv(2*u)
	return math.Max(x, l.mu+l.sigma*z)
}

// Histogram returns Values/Counts for n requests' latencies (in the
// distribution's unit times scale), sorted by value. The counts per bin are
// exactly multinomial: up to MaxLatencyDraws requests each draw a latency;
// beyond that, each bin from the lowest up draws its count as a binomial
// share of the requests not yet placed, and the last few requests draw
// their latencies from what is left of the distribution. The cost is a few
// hundred binomial draws at any traffic.
func (l Lognormal) Histogram(r *rand.Rand, n int, scale float64) (values, counts []float64) {
	if n <= 0 {
		return nil, nil
	}
	type bin struct {
		j int
		c float64
	}
	bins := make([]bin, 0, min(n, int(12*l.sigma/latencyBin)+64))
	switch {
	case l.sigma == 0:
		bins = []bin{{binOf(l.mu), float64(n)}}
	case n <= MaxLatencyDraws:
		js := make([]int, n)
		for i := range js {
			js[i] = binOf(l.mu + l.sigma*r.NormFloat64())
		}
		slices.Sort(js)
		for _, j := range js {
			if k := len(bins); k > 0 && bins[k-1].j == j {
				bins[k-1].c++
				continue
			}
			bins = append(bins, bin{j, 1})
		}
	default:
		// Start five standard deviations below the median: what lies
		// below (three requests in ten million) joins the lowest bin.
		j := binOf(l.mu - 5*l.sigma)
		left := n
		above := 1.0 // P(log-latency >= the lower edge of bin j), given what is placed
		for left > 0 {
			lower := float64(j) * latencyBin
			if left <= 64 || above <= 0 {
				// A few requests left: draw each one's latency from the
				// tail above this bin instead of visiting every bin.
				rest := make([]int, left)
				for i := range rest {
					rest[i] = max(j, binOf(l.drawAbove(r, lower, math.Max(above, math.SmallestNonzeroFloat64))))
				}
				slices.Sort(rest)
				for _, k := range rest {
					if m := len(bins); m > 0 && bins[m-1].j == k {
						bins[m-1].c++
						continue
					}
					bins = append(bins, bin{k, 1})
				}
				break
			}
			next := l.tailAbove(lower + latencyBin)
			if c := Binomial(r, left, math.Min(math.Max(1-next/above, 0), 1)); c > 0 {
				bins = append(bins, bin{j, float64(c)})
				left -= c
			}
			above = next
			j++
		}
	}
	values = make([]float64, 0, len(bins))
	counts = make([]float64, 0, len(bins))
	for _, b := range bins {
		v := roundMicro(binCentre(b.j) * scale)
		// Rounding can merge neighbouring bins of tiny latencies.
		if k := len(values); k > 0 && values[k-1] == v {
			counts[k-1] += b.c
			continue
		}
		values = append(values, v)
		counts = append(counts, b.c)
	}
	return values, counts
}

// roundMicro rounds to a microsecond (for values in seconds) so that
// latencies that look equal merge into one histogram value.
func roundMicro(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// SlowShare is the chance that a request's published latency (the centre
// of its bin) is above thresholdMs, on a side whose latency has median
// p50 and 99th percentile p99 (milliseconds): the share of its requests
// TC(threshold:) counts. The evaluation's oracle, which knows every
// side's true distribution, reads it here.
func SlowShare(p50, p99, thresholdMs float64) float64 {
	if !(thresholdMs > 0) {
		return 1
	}
	j := binOf(math.Log(thresholdMs))
	for binCentre(j) <= thresholdMs {
		j++
	}
	l := NewLognormal(p50, p99)
	if l.sigma == 0 {
		if binOf(l.mu) >= j {
			return 1
		}
		return 0
	}
	return l.tailAbove(float64(j) * latencyBin)
}
