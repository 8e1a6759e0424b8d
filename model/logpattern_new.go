package model

import (
	"math"
	"sort"
)

// Which canary patterns are NEW.
//
// A pattern is NEW in the canary when the canary logs it far more often
// per request than stable does, with evidence strong enough to survive the
// number of patterns looked at. "Absent in stable" is the common case of
// this, not a separate rule: a pattern stable never logged is only NEW
// once the canary has logged it often enough that stable, at its share of
// the requests, would have been expected to log it too.
//
// The test: given the pattern's k lines in the window (kc canary, ks
// stable) and the requests each side served in the same window (nc, ns),
// under "the canary logs it at most Ratio times as often per request as
// stable" the canary's share of the k lines is at most
// p0 = Ratio·nc / (Ratio·nc + ns); the pattern is NEW when
// P(Binomial(k, p0) ≥ kc) is below Alpha divided by the number of canary
// patterns tested (Bonferroni). The test conditions on k, so it needs no
// model of how often the pattern occurs, only of how requests split; it
// uses request volumes rather than raw counts, so a canary at 5% of the
// traffic is not flagged for logging 5% of a pattern, nor cleared for it.
//
// It is a display mark, not one of the judge's verdicts: it is re-tested
// at each query without the judge's anytime-valid bookkeeping, and a new
// exception is a reason to look, which the judge's error and latency tests
// and the declared signals then weigh.

// NewPatternRule tunes the NEW mark. The zero value means the defaults.
type NewPatternRule struct {
	// Ratio is "far more often": the per-request rate ratio canary/stable
	// the evidence must rule out. Default 4.
	Ratio float64
	// Alpha is the chance of marking at least one pattern NEW in a query
	// when none is, split over the canary patterns tested. Default 0.01.
	Alpha float64
}

func (r NewPatternRule) withDefaults() NewPatternRule {
	if r.Ratio <= 0 {
		r.Ratio = 4
	}
	if r.Alpha <= 0 || r.Alpha >= 1 {
		r.Alpha = 0.01
	}
	return r
}

// PatternRow is one pattern with both sides' counts, for the patterns pane.
type PatternRow struct {
	Pattern string     `json:"pattern"`
	Counts  [2]int     `json:"counts"` // by Side
	Sample  string     `json:"sample"` // canary's sample when it has one
	New     bool       `json:"new"`
	P       float64    `json:"p"` // the test's p-value (1 when not tested)
	Per     [2]float64 `json:"-"` // lines per thousand requests, by Side (NaN: no requests)
}

// ComparePatterns joins both sides' patterns and marks the NEW ones;
// requests are each side's requests over the window the lines cover.
// Rows come NEW first, then by canary count, then by stable count.
func ComparePatterns(sides [2][]LogPattern, requests [2]float64, rule NewPatternRule) []PatternRow {
	rule = rule.withDefaults()
	idx := map[string]int{}
	var rows []PatternRow
	for _, side := range Sides {
		for _, p := range sides[side] {
			i, ok := idx[p.Pattern]
			if !ok {
				i = len(rows)
				idx[p.Pattern] = i
				rows = append(rows, PatternRow{Pattern: p.Pattern, Sample: p.Sample, P: 1})
			}
			rows[i].Counts[side] += p.Count
			if side == Canary {
				rows[i].Sample = p.Sample
			}
		}
	}
	tested := 0
	for _, r := range rows {
		if r.Counts[Canary] > 0 {
			tested++
		}
	}
	nc, ns := requests[Canary], requests[Stable]
	for i := range rows {
		r := &rows[i]
		for _, side := range Sides {
			r.Per[side] = math.NaN()
			if requests[side] > 0 {
				r.Per[side] = 1000 * float64(r.Counts[side]) / requests[side]
			}
		}
		if r.Counts[Canary] == 0 || nc <= 0 {
			continue
		}
		p0 := 1.0
		if ns > 0 {
			p0 = rule.Ratio * nc / (rule.Ratio*nc + ns)
		}
		r.P = BinomialUpperTail(r.Counts[Canary]+r.Counts[Stable], r.Counts[Canary], p0)
		r.New = r.P < rule.Alpha/float64(tested)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.New != b.New {
			return a.New
		}
		if a.Counts[Canary] != b.Counts[Canary] {
			return a.Counts[Canary] > b.Counts[Canary]
		}
		if a.Counts[Stable] != b.Counts[Stable] {
			return a.Counts[Stable] > b.Counts[Stable]
		}
		return a.Pattern < b.Pattern
	})
	return rows
}

// BinomialUpperTail is P(X ≥ k) for X ~ Binomial(n, p), summed in log
// space from k up (the terms fall fast past the mean, so the sum stops
// once they no longer change it).
func BinomialUpperTail(n, k int, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n || p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	lp, lq := math.Log(p), math.Log1p(-p)
	lgN, _ := math.Lgamma(float64(n + 1))
	term := func(i int) float64 {
		a, _ := math.Lgamma(float64(i + 1))
		b, _ := math.Lgamma(float64(n - i + 1))
		return lgN - a - b + float64(i)*lp + float64(n-i)*lq
	}
	sum := 0.0
	for i := k; i <= n; i++ {
		t := math.Exp(term(i))
		sum += t
		if float64(i) > float64(n)*p && t < sum*1e-12 {
			break
		}
	}
	return math.Min(sum, 1)
}
