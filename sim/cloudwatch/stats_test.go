package cloudwatch

import (
	"math"
	"testing"

	"github.com/perch-dev/perch/sim/metrics"
)

func TestCWParseStat(t *testing.T) {
	valid := map[string]cwStatKind{
		"Sum":          {name: "Sum"},
		"p99.9":        {name: "p", percentile: 99.9},
		"tm90":         {name: "TM", hi: 90, hasHi: true, pct: true, rangeStatistic: true},
		"tc99":         {name: "TC", hi: 99, hasHi: true, pct: true, rangeStatistic: true},
		"IQM":          {name: "TM", lo: 25, hi: 75, hasLo: true, hasHi: true, pct: true, rangeStatistic: true},
		"TC(0.18:)":    {name: "TC", lo: 0.18, hasLo: true, rangeStatistic: true},
		"TC(:0.5)":     {name: "TC", hi: 0.5, hasHi: true, rangeStatistic: true},
		"PR(100:2000)": {name: "PR", lo: 100, hi: 2000, hasLo: true, hasHi: true, rangeStatistic: true},
		"TM(2%:98%)":   {name: "TM", lo: 2, hi: 98, hasLo: true, hasHi: true, pct: true, rangeStatistic: true},
		"WM(10%:90%)":  {name: "WM", lo: 10, hi: 90, hasLo: true, hasHi: true, pct: true, rangeStatistic: true},
		"TS(:1000)":    {name: "TS", hi: 1000, hasHi: true, rangeStatistic: true},
	}
	for s, want := range valid {
		got, err := cwParseStat(s)
		if err != nil || got != want {
			t.Errorf("cwParseStat(%q) = %+v, %v; want %+v", s, got, err, want)
		}
		if got.extended() != (want.name != "Sum") {
			t.Errorf("%q extended = %v", s, got.extended())
		}
	}
	for _, s := range []string{
		"", "sum", "p101", "TC(:)", "TC()", "TC(5:1)", "TC(1%:0.5)", "PR(:50%)", "TM(2%:101%)",
		"tc0", "tc101", "tc", "TC(a:)", "TC(1:2:3)", "tc(0.1:)", "TC(0.1:) ", "TC(1e3:)", "TC(0.12345678901:)",
	} {
		if k, err := cwParseStat(s); err == nil {
			t.Errorf("cwParseStat(%q) = %+v, want an error", s, k)
		}
	}
}

func TestCWRangeStatsNeedSamples(t *testing.T) {
	set := []metrics.Datum{{SampleCount: 3, Sum: 6, Min: 1, Max: 3}}
	for _, s := range []string{"TC(1:)", "PR(:2)", "TM(10%:90%)", "p50"} {
		k, _ := cwParseStat(s)
		if v, ok := cwAggregate(k, set); ok {
			t.Errorf("%s over a statistic set = %v, want no value (CloudWatch has no samples to count)", s, v)
		}
	}
	hist := []metrics.Datum{{Values: []float64{1, 2, 3}, Counts: []float64{1, 1, 1}}}
	for s, want := range map[string]float64{"TC(3:)": 0, "PR(3:)": 0, "TS(3:)": 0} {
		k, _ := cwParseStat(s)
		if v, ok := cwAggregate(k, hist); !ok || v != want {
			t.Errorf("%s with no sample in range = %v, %v; want %v (a count of none is zero)", s, v, ok, want)
		}
	}
	k, _ := cwParseStat("TM(3:)")
	if v, ok := cwAggregate(k, hist); ok {
		t.Errorf("TM with no sample in range = %v, want no value", v)
	}
	// Two datums in one period, given out of order, merge.
	two := []metrics.Datum{{Values: []float64{5, 9}, Counts: []float64{1, 2}}, {Values: []float64{1, 7}, Counts: []float64{3, 1}}}
	k, _ = cwParseStat("TC(6:)")
	if v, _ := cwAggregate(k, two); v != 3 {
		t.Errorf("TC(6:) over two datums = %v, want 3", v)
	}
	k, _ = cwParseStat("p50")
	if v, _ := cwAggregate(k, two); v != 5 {
		t.Errorf("p50 over two datums = %v, want 5 (the 4th of 7 samples: 1 1 1 5 7 9 9)", v)
	}
	k, _ = cwParseStat("PR(:5)")
	if v, _ := cwAggregate(k, two); math.Abs(v-100*4/7.0) > 1e-12 {
		t.Errorf("PR(:5) = %v", v)
	}
}

func FuzzCWParseStat(f *testing.F) {
	for _, s := range []string{"p99", "TC(0.18:)", "TM(2%:98%)", "tc90", "IQM", "PR(:300)", "WM(10%:90%)"} {
		f.Add(s)
	}
	hist := []metrics.Datum{{Values: []float64{0.01, 0.1, 0.2, 5}, Counts: []float64{10, 3, 1, 1}}}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := cwParseStat(s)
		if err != nil {
			return
		}
		v, ok := cwAggregate(k, hist)
		if ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("%q = %v", s, v)
		}
		if ok && (k.name == "TC" || k.name == "PR") && (v < 0 || v > 15 && k.name == "TC" || v > 100) {
			t.Fatalf("%q = %v: a count or a rank out of range", s, v)
		}
	})
}
