package model

import (
	"math"
	"sort"
	"time"
)

// mixPoint is one component of a discrete mixture prior: an alternative
// value x (a rate ratio, or a probability) with prior weight w. The weights
// of a mixture sum to 1, which is what keeps the mixture of likelihood
// ratios a martingale under the null.
type mixPoint struct{ x, w float64 }

// maxLogE caps log e-values so that exp never overflows to +Inf: an
// evidence of e^700 is as decisive as one of infinity, and a finite number
// prints and compares sanely.
const maxLogE = 700

// logMixture returns log(sum_k w_k * exp(logL_k)) without overflow.
func logMixture(logL []float64, mix []mixPoint) float64 {
	w := make([]float64, len(mix))
	for k, m := range mix {
		w[k] = m.w
	}
	return logMixtureW(logL, w)
}

// logMixtureW is logMixture with the weights given apart from the points.
func logMixtureW(logL, w []float64) float64 {
	top := math.Inf(-1)
	for k := range w {
		if v := logL[k] + math.Log(w[k]); v > top {
			top = v
		}
	}
	if math.IsInf(top, -1) {
		return top
	}
	var s float64
	for k := range w {
		s += math.Exp(logL[k] + math.Log(w[k]) - top)
	}
	return math.Min(top+math.Log(s), maxLogE)
}

// normalQuantile is the inverse of the standard normal CDF.
func normalQuantile(p float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*p-1)
}

// extraNeeded is the smallest u >= 0 such that, after u more units of data
// (requests or periods), the evidence for one mixture component clears its
// bar with the asked-for power:
//
//	M + m*u - z*sqrt(V + v*u) >= L
//
// where M and V are the mean and variance of the log likelihood ratio
// accrued so far under the alternative, m and v what each further unit adds,
// and L = log(threshold/weight). This is the normal approximation to the
// sum of many small log-likelihood-ratio increments; it is the usual sample
// size formula for a sequential probability ratio test, and errs a little
// optimistic when only a handful of errors carry the evidence.
func extraNeeded(M, V, m, v, L, z float64) float64 {
	a := M - L
	if a-z*math.Sqrt(math.Max(V, 0)) >= 0 {
		return 0
	}
	if !(m > 0) {
		return math.Inf(1)
	}
	// The left side is convex in u and grows without bound, so it crosses
	// zero once; squaring gives a quadratic whose larger root is that
	// crossing (the smaller root is where a+m*u = -z*sqrt(...)).
	b := 2*a*m - z*z*v
	c := a*a - z*z*V
	disc := b*b - 4*m*m*c
	if disc < 0 {
		disc = 0
	}
	u := (-b + math.Sqrt(disc)) / (2 * m * m)
	if u < 0 || math.IsNaN(u) {
		return math.Inf(1)
	}
	return u
}

// aligned is several series laid on a common, sorted time axis; vals[s][i]
// is series s at times[i], NaN where that series has no point, and
// has[s][i] tells a missing point from a point whose value is NaN.
type aligned struct {
	times []time.Time
	vals  [][]float64
	has   [][]bool
}

// alignSince lays the points at or after since of each series on one time
// axis. Series are expected oldest first (as Series and the metrics adapter
// produce them); an unsorted one is sorted on a copy rather than trusted.
// The series are merged, not sorted together: this runs several times per
// poll over hours of data.
func alignSince(since time.Time, series ...[]Point) aligned {
	cur := make([][]Point, len(series))
	n := 0
	for k, s := range series {
		sorted := true
		for i := 1; i < len(s); i++ {
			if s[i].T.Before(s[i-1].T) {
				sorted = false
				break
			}
		}
		if !sorted {
			c := make([]Point, len(s))
			copy(c, s)
			sort.SliceStable(c, func(i, j int) bool { return c[i].T.Before(c[j].T) })
			s = c
		}
		i := sort.Search(len(s), func(i int) bool { return !s[i].T.Before(since) })
		cur[k] = s[i:]
		n = max(n, len(s)-i)
	}
	a := aligned{times: make([]time.Time, 0, n), vals: make([][]float64, len(series)), has: make([][]bool, len(series))}
	for k := range a.vals {
		a.vals[k] = make([]float64, 0, n)
		a.has[k] = make([]bool, 0, n)
	}
	for {
		var next time.Time
		found := false
		for _, s := range cur {
			if len(s) > 0 && (!found || s[0].T.Before(next)) {
				next, found = s[0].T, true
			}
		}
		if !found {
			return a
		}
		a.times = append(a.times, next)
		for k, s := range cur {
			v, has := math.NaN(), false
			// A duplicated timestamp keeps its last value, as Upsert would.
			for len(s) > 0 && s[0].T.Equal(next) {
				v, has = s[0].V, true
				s = s[1:]
			}
			cur[k] = s
			a.vals[k] = append(a.vals[k], v)
			a.has[k] = append(a.has[k], has)
		}
	}
}

// median of xs (which it sorts); NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sort.Float64s(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}
