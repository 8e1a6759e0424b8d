package metrics

import (
	"testing"
	"time"
)

// t0 is a fixed period start for the tests.
var t0 = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

func TestMetricStoreDimensionsAreASet(t *testing.T) {
	m := NewStore(time.Hour)
	m.Put(Datum{Namespace: "N", MetricName: "M", Dimensions: []Dimension{{"B", "2"}, {"A", "1"}}, Timestamp: t0, SampleCount: 1, Sum: 3})
	got := m.Query("N", "M", []Dimension{{"A", "1"}, {"B", "2"}}, "", t0, t0.Add(time.Minute))
	if len(got) != 1 || got[0].Sum != 3 {
		t.Fatalf("order-insensitive match failed: %+v", got)
	}
	for _, dims := range [][]Dimension{{{"A", "1"}}, {{"A", "1"}, {"B", "2"}, {"C", "3"}}, nil} {
		if got := m.Query("N", "M", dims, "", t0, t0.Add(time.Minute)); len(got) != 0 {
			t.Errorf("dimension set %v matched %+v; the set must be equal", dims, got)
		}
	}
}

func TestMetricStoreHistogramNormalisation(t *testing.T) {
	m := NewStore(0)
	m.Put(Datum{Namespace: "N", MetricName: "Lat", Timestamp: t0, Values: []float64{0.1, 0.2, 0.3}, Counts: []float64{2, 0, 3},
		SampleCount: 99, Sum: 99}) // statistic values given alongside are recomputed
	m.Put(Datum{Namespace: "N", MetricName: "Lat", Timestamp: t0}) // nothing observed: dropped
	got := m.Query("N", "Lat", nil, "", t0, t0.Add(time.Second))
	if len(got) != 1 {
		t.Fatalf("got %d datums", len(got))
	}
	d := got[0]
	if d.SampleCount != 5 || d.Min != 0.1 || d.Max != 0.3 || len(d.Values) != 2 || d.Sum < 1.09 || d.Sum > 1.11 {
		t.Errorf("normalised datum %+v", d)
	}
}

func TestMetricStorePrunesRelativeToNewestDatum(t *testing.T) {
	m := NewStore(10 * time.Minute)
	for i := 0; i < 30; i++ {
		m.Put(Datum{Namespace: "N", MetricName: "M", Timestamp: t0.Add(time.Duration(i) * time.Minute), SampleCount: 1, Sum: float64(i)})
	}
	m.Put(Datum{Namespace: "N", MetricName: "Old", Timestamp: t0, SampleCount: 1})
	got := m.Query("N", "M", nil, "", t0.Add(-time.Hour), t0.Add(time.Hour))
	if len(got) != 11 || got[0].Sum != 19 || got[10].Sum != 29 {
		t.Fatalf("kept %d datums (first %v); want minutes 19..29", len(got), got)
	}
	// A datum already beyond retention is not kept, and a series whose
	// datums are all pruned disappears from ListMetrics.
	m.Put(Datum{Namespace: "N", MetricName: "M2", Timestamp: t0.Add(25 * time.Minute), SampleCount: 1})
	m.Put(Datum{Namespace: "N", MetricName: "M", Timestamp: t0.Add(40 * time.Minute), SampleCount: 1})
	for _, id := range m.Metrics() {
		if id.MetricName == "M2" {
			t.Fatal("series with only pruned datums is still listed")
		}
		if id.MetricName == "Old" {
			t.Fatal("a datum beyond retention was stored")
		}
	}
}

func TestMetricStoreUnitFilterAndOrder(t *testing.T) {
	m := NewStore(time.Hour)
	m.Put(Datum{Namespace: "N", MetricName: "M", Timestamp: t0.Add(2 * time.Minute), Unit: "Seconds", SampleCount: 1, Sum: 2})
	m.Put(Datum{Namespace: "N", MetricName: "M", Timestamp: t0, Unit: "Seconds", SampleCount: 1, Sum: 0})
	m.Put(Datum{Namespace: "N", MetricName: "M", Timestamp: t0.Add(time.Minute), Unit: "Milliseconds", SampleCount: 1, Sum: 1})
	all := m.Query("N", "M", nil, "", t0, t0.Add(time.Hour))
	if len(all) != 3 || all[0].Sum != 0 || all[1].Sum != 1 || all[2].Sum != 2 {
		t.Fatalf("out of order: %+v", all)
	}
	if secs := m.Query("N", "M", nil, "Seconds", t0, t0.Add(time.Hour)); len(secs) != 2 {
		t.Fatalf("unit filter kept %d", len(secs))
	}
	m.Put(Datum{Namespace: "N", MetricName: "M", Timestamp: t0.Add(3 * time.Minute), SampleCount: 1})
	if none := m.Query("N", "M", nil, "None", t0, t0.Add(time.Hour)); len(none) != 1 {
		t.Fatalf("a datum without a unit is recorded as None; the None filter kept %d", len(none))
	}
}
