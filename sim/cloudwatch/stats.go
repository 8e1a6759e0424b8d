package cloudwatch

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/perch-dev/perch/sim/metrics"
)

// cwStatKind is a parsed statistic name.
type cwStatKind struct {
	// name is Sum, SampleCount, Average, Minimum, Maximum, "p" for a
	// percentile, or one of the range statistics TM, WM, TC, TS, PR.
	name       string
	percentile float64 // for "p"
	// lo and hi bound a range statistic; a missing bound is open. pct says
	// they are percentages of the samples (ranks), not values.
	lo, hi         float64
	hasLo, hasHi   bool
	pct            bool
	rangeStatistic bool
}

// extended reports whether the statistic is one CloudWatch calls
// extended (a percentile or a range statistic): an alarm takes those as
// ExtendedStatistic, never as Statistic.
func (k cwStatKind) extended() bool { return k.name == "p" || k.rangeStatistic }

var (
	cwPercentilePattern = regexp.MustCompile(`^p(\d{1,3}(?:\.\d{1,10})?)$`)
	// tm99, wm98, tc90, ts90: the range statistic over the lowest NN% of
	// the samples, TM(:99%) and so on.
	cwShortRangePattern = regexp.MustCompile(`^(tm|wm|tc|ts)(\d{1,3}(?:\.\d{1,10})?)$`)
	// TM(a:b), WM(a:b), TC(a:b), TS(a:b), PR(a:b): each bound a value,
	// a percentage (a%), or empty for open.
	cwRangePattern = regexp.MustCompile(`^(TM|WM|TC|TS|PR)\(([^():]*):([^():]*)\)$`)
	cwBoundPattern = regexp.MustCompile(`^(-?\d+(?:\.\d{1,10})?)(%?)$`)
)

func cwParseStat(s string) (cwStatKind, error) {
	switch s {
	case "Sum", "SampleCount", "Average", "Minimum", "Maximum":
		return cwStatKind{name: s}, nil
	case "IQM":
		// The interquartile mean is TM(25%:75%).
		return cwStatKind{name: "TM", lo: 25, hi: 75, hasLo: true, hasHi: true, pct: true, rangeStatistic: true}, nil
	}
	bad := cwErrInvalidParam("The statistic %q is not supported (supported: Sum, SampleCount, Average, Minimum, Maximum, pNN, tmNN, wmNN, tcNN, tsNN, IQM, TM(a:b), WM(a:b), TC(a:b), TS(a:b), PR(a:b)).", s)
	if m := cwPercentilePattern.FindStringSubmatch(s); m != nil {
		p, err := strconv.ParseFloat(m[1], 64)
		if err == nil && p >= 0 && p <= 100 {
			return cwStatKind{name: "p", percentile: p}, nil
		}
		return cwStatKind{}, bad
	}
	if m := cwShortRangePattern.FindStringSubmatch(s); m != nil {
		p, err := strconv.ParseFloat(m[2], 64)
		if err != nil || p <= 0 || p > 100 {
			return cwStatKind{}, bad
		}
		return cwStatKind{name: strings.ToUpper(m[1]), hi: p, hasHi: true, pct: true, rangeStatistic: true}, nil
	}
	m := cwRangePattern.FindStringSubmatch(s)
	if m == nil {
		return cwStatKind{}, bad
	}
	k := cwStatKind{name: m[1], rangeStatistic: true}
	var lpct, hpct bool
	var err error
	if k.lo, lpct, k.hasLo, err = cwParseBound(m[2]); err != nil {
		return cwStatKind{}, bad
	}
	if k.hi, hpct, k.hasHi, err = cwParseBound(m[3]); err != nil {
		return cwStatKind{}, bad
	}
	switch {
	case !k.hasLo && !k.hasHi:
		return cwStatKind{}, bad
	case k.hasLo && k.hasHi && lpct != hpct:
		// Both bounds are values, or both are percentages.
		return cwStatKind{}, bad
	case k.hasLo && k.hasHi && k.lo >= k.hi:
		return cwStatKind{}, bad
	}
	k.pct = lpct || hpct
	if k.pct && ((k.hasLo && (k.lo < 0 || k.lo > 100)) || (k.hasHi && (k.hi < 0 || k.hi > 100))) {
		return cwStatKind{}, bad
	}
	if k.name == "PR" && k.pct {
		// A percentile rank is the share of samples within values; a
		// range given in percentages would be the answer itself.
		return cwStatKind{}, bad
	}
	return k, nil
}

// cwParseBound reads one bound of a range statistic: "" (open), "12.5"
// (a value) or "12.5%" (a percentage of the samples).
func cwParseBound(s string) (v float64, pct, ok bool, err error) {
	if s == "" {
		return 0, false, false, nil
	}
	m := cwBoundPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, false, false, strconv.ErrSyntax
	}
	v, err = strconv.ParseFloat(m[1], 64)
	return v, m[2] == "%", true, err
}

// cwAggregate computes one statistic over the datums of one period. ok is
// false when the statistic has no value, e.g. a percentile over datums that
// were published as statistic sets, which CloudWatch cannot answer either.
func cwAggregate(st cwStatKind, ds []metrics.Datum) (float64, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	var n, sum float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, d := range ds {
		n += d.SampleCount
		sum += d.Sum
		lo = math.Min(lo, d.Min)
		hi = math.Max(hi, d.Max)
	}
	switch st.name {
	case "Sum":
		return sum, true
	case "SampleCount":
		return n, true
	case "Average":
		if n == 0 {
			return 0, false
		}
		return sum / n, true
	case "Minimum":
		return lo, true
	case "Maximum":
		return hi, true
	}
	bins, ok := cwMergedBins(ds)
	if !ok {
		return 0, false
	}
	if st.name == "p" {
		return cwPercentile(st.percentile, bins)
	}
	return cwRangeStat(st, bins)
}

// cwSample is one distinct sample value and how many samples had it.
type cwSample struct{ v, c float64 }

// cwMergedBins merges the datums' histograms into bins sorted by value.
// ok is false when a datum has no histogram: extended statistics need
// the samples, and a statistic set does not have them.
func cwMergedBins(ds []metrics.Datum) ([]cwSample, bool) {
	var bins []cwSample
	sorted := true
	for _, d := range ds {
		if !d.HasHistogram() {
			return nil, false
		}
		for i, v := range d.Values {
			if n := len(bins); n > 0 && v < bins[n-1].v {
				sorted = false
			}
			bins = append(bins, cwSample{v, d.Counts[i]})
		}
	}
	// The traffic model publishes one sorted histogram per period, so the
	// sort is usually skipped; it matters for evaluations that read days.
	if !sorted {
		sort.SliceStable(bins, func(i, j int) bool { return bins[i].v < bins[j].v })
	}
	return bins, true
}

// cwPercentile is the nearest-rank percentile of the merged histograms.
func cwPercentile(p float64, bins []cwSample) (float64, bool) {
	var total float64
	for _, b := range bins {
		total += b.c
	}
	if total <= 0 {
		return 0, false
	}
	rank := p / 100 * total
	var cum float64
	for _, b := range bins {
		cum += b.c
		if cum >= rank && cum > 0 {
			return b.v, true
		}
	}
	return bins[len(bins)-1].v, true
}

// cwRangeStat computes TM, WM, TC, TS or PR. With values as bounds a
// sample v is in range when lo < v <= hi (the lower bound exclusive, the
// upper inclusive, as CloudWatch defines a percentile rank); with
// percentages, the samples ranked in (lo% n, hi% n] are, a bin straddling
// a boundary counting in part.
func cwRangeStat(st cwStatKind, bins []cwSample) (float64, bool) {
	var total float64
	for _, b := range bins {
		total += b.c
	}
	if total <= 0 {
		return 0, false
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if st.hasLo {
		lo = st.lo
	}
	if st.hasHi {
		hi = st.hi
	}
	// inRange is how many of bin i's samples are in range.
	inRange := func(i int, before float64) float64 {
		b := bins[i]
		if !st.pct {
			if b.v > lo && b.v <= hi {
				return b.c
			}
			return 0
		}
		from, to := lo/100*total, hi/100*total
		return math.Max(0, math.Min(before+b.c, to)-math.Max(before, from))
	}
	if st.name == "WM" {
		return cwWinsorized(st, bins, total, lo, hi)
	}
	var count, sum, before float64
	for i, b := range bins {
		k := inRange(i, before)
		count += k
		sum += k * b.v
		before += b.c
	}
	switch st.name {
	case "TC":
		return count, true
	case "TS":
		return sum, true
	case "PR":
		return 100 * count / total, true
	}
	// TM: the mean of the samples in range; none in range has no mean.
	if count == 0 {
		return 0, false
	}
	return sum / count, true
}

// cwWinsorized is the mean with the samples below the lower bound taken
// at it and those above the upper bound at it; for percentage bounds the
// bound is the sample value at that percentile.
func cwWinsorized(st cwStatKind, bins []cwSample, total, lo, hi float64) (float64, bool) {
	if st.pct {
		if st.hasLo {
			lo, _ = cwPercentile(st.lo, bins)
		}
		if st.hasHi {
			hi, _ = cwPercentile(st.hi, bins)
		}
	}
	var sum float64
	for _, b := range bins {
		sum += b.c * math.Min(math.Max(b.v, lo), hi)
	}
	return sum / total, true
}
