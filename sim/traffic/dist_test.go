package traffic

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The slow-request count perch reads (TC(t:) on the latency histogram)
// must behave like a count of real requests: binomial, with the same
// probability on two sides with the same distribution. A histogram that
// stands for many requests by a few weighted values would make it jump by
// whole weights, and a judge that trusts the binomial would then see
// evidence in noise.
func TestHistogramCountsAboveAThresholdAreBinomial(t *testing.T) {
	l := NewLognormal(40, 180)
	const threshold = 180.0 // ms, any value would do
	// q is the chance that a request's published value (its bin's
	// centre) is above the threshold.
	first := binOf(math.Log(threshold))
	for binCentre(first) <= threshold {
		first++
	}
	q := l.tailAbove(float64(first) * latencyBin)
	r := rand.New(rand.NewPCG(7, 11))
	for _, n := range []int{100, 256, 900, 5000, 200000} {
		const trials = 1500
		var sum, sum2 float64
		for range trials {
			values, counts := l.Histogram(r, n, 1)
			if !slices.IsSorted(values) {
				t.Fatalf("n=%d: values not sorted", n)
			}
			var total, slow float64
			for i, v := range values {
				if i > 0 && v == values[i-1] {
					t.Fatalf("n=%d: value %v listed twice", n, v)
				}
				total += counts[i]
				if v > threshold {
					slow += counts[i]
				}
			}
			if total != float64(n) {
				t.Fatalf("n=%d: counts add up to %v", n, total)
			}
			sum += slow
			sum2 += slow * slow
		}
		mean := sum / trials
		variance := sum2/trials - mean*mean
		wantMean, wantVar := float64(n)*q, float64(n)*q*(1-q)
		if math.Abs(mean-wantMean) > 4*math.Sqrt(wantVar/trials) {
			t.Errorf("n=%d: mean slow count %.2f, want %.2f", n, mean, wantMean)
		}
		if ratio := variance / wantVar; ratio < 0.85 || ratio > 1.15 {
			t.Errorf("n=%d: slow count variance %.2f is %.2fx the binomial's %.2f", n, variance, ratio, wantVar)
		}
	}
}

func TestHistogramPercentilesFollowTheDistribution(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for _, c := range []struct{ p50, p99 float64 }{{40, 180}, {55, 540}, {40, 40}, {0.05, 0.3}} {
		l := NewLognormal(c.p50, c.p99)
		values, counts := l.Histogram(r, 1_000_000, 1)
		for _, want := range []struct{ p, v float64 }{{50, c.p50}, {99, c.p99}} {
			got, ok := nearestRank(want.p, values, counts)
			// Half a bin of quantisation, a little sampling noise, and the
			// microsecond rounding of tiny values.
			if !ok || math.Abs(got-want.v) > 0.008*want.v+1e-6 {
				t.Errorf("p%v of Lognormal(%v, %v) = %v", want.p, c.p50, c.p99, got)
			}
		}
	}
}

func BenchmarkHistogram(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	l := NewLognormal(40, 180)
	for b.Loop() {
		l.Histogram(r, 4500, 0.001)
	}
}

func TestSlowShare(t *testing.T) {
	// Stable's own p99 as the threshold: about 1% slower.
	if q := SlowShare(40, 180, 180); math.Abs(q-0.01) > 0.001 {
		t.Errorf("share above its own p99 = %v", q)
	}
	// The latency-regression canary: P(Lognormal(55, p99 540) > 180) = 11.4%.
	if q := SlowShare(55, 540, 180); math.Abs(q-0.114) > 0.003 {
		t.Errorf("regressed share = %v", q)
	}
	if SlowShare(40, 40, 30) != 1 || SlowShare(40, 40, 50) != 0 {
		t.Error("a latency without spread is all above or all below")
	}
}

// nearestRank is the nearest-rank percentile of a sorted histogram, as
// CloudWatch computes pNN.
func nearestRank(p float64, values, counts []float64) (float64, bool) {
	var total float64
	for _, c := range counts {
		total += c
	}
	if total <= 0 {
		return 0, false
	}
	rank := p / 100 * total
	var cum float64
	for i, c := range counts {
		cum += c
		if cum >= rank && cum > 0 {
			return values[i], true
		}
	}
	return values[len(values)-1], true
}

func TestSamplers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, lambda := range []float64{0.07, 5, 29, 31, 1000, 1e6} {
		sum, n := 0.0, 4000
		for range n {
			sum += float64(Poisson(r, lambda))
		}
		if mean := sum / float64(n); math.Abs(mean-lambda) > 5*math.Sqrt(lambda/float64(n)) {
			t.Errorf("poisson(%v) mean %v", lambda, mean)
		}
	}
	for _, c := range []struct {
		n int
		p float64
	}{{10, 0.3}, {1000, 0.005}, {1000, 0.995}, {100000, 0.1}, {50, 0.5}, {5, 1}, {0, 0.5}} {
		sum, trials := 0.0, 3000
		for range trials {
			k := Binomial(r, c.n, c.p)
			if k < 0 || k > c.n {
				t.Fatalf("binomial(%d,%v) = %d", c.n, c.p, k)
			}
			sum += float64(k)
		}
		mean, want := sum/float64(trials), float64(c.n)*c.p
		if sd := math.Sqrt(float64(c.n) * c.p * (1 - c.p) / float64(trials)); math.Abs(mean-want) > 5*sd+1e-9 {
			t.Errorf("binomial(%d,%v) mean %v, want %v", c.n, c.p, mean, want)
		}
	}
}
