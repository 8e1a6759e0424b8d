// Package metrics holds the simulated CloudWatch's data: the datums the
// traffic models and PutMetricData publish, keyed by metric identity, and the
// 60-second period both the models and CloudWatch count in.
package metrics

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// Dimension is one name/value pair of a metric's identity.
type Dimension struct{ Name, Value string }

// Datum is one published observation, shaped like a PutMetricData entry so
// that the traffic model and the wire protocol feed the store the same way.
// Either the statistic values (SampleCount, Sum, Min, Max) or a Values/Counts
// histogram are given; a histogram wins when both are present because
// percentiles can only be computed from it.
type Datum struct {
	Namespace, MetricName string
	Dimensions            []Dimension
	Timestamp             time.Time // period start (60 s aligned for the traffic model; PutMetricData may send any time)
	Unit                  string    // "Count", "Seconds", "Milliseconds", ...

	SampleCount, Sum, Min, Max float64
	Values, Counts             []float64
}

// HasHistogram reports whether percentiles can be computed from d.
func (d *Datum) HasHistogram() bool { return len(d.Values) > 0 }

// Store keeps published datums per metric identity. It has its own
// mutex because the traffic model may publish outside a request.
type Store struct {
	mu        sync.Mutex
	retention time.Duration
	newest    time.Time
	series    map[string]*metricSeries
}

type metricSeries struct {
	namespace, name string
	dims            []Dimension // sorted by name, then value
	datums          []Datum     // sorted by Timestamp, stable for equal times
}

// NewStore returns an empty store that forgets datums older than
// retention, measured from the newest datum it has seen (not the wall
// clock), so a simulation's virtual time decides what is kept.
// retention <= 0 keeps everything.
func NewStore(retention time.Duration) *Store {
	return &Store{retention: retention, series: map[string]*metricSeries{}}
}

// Put stores d. Statistic values are derived from a histogram when one is
// given, so queries never need to know which form was published.
func (m *Store) Put(d Datum) {
	d = normalizeDatum(d)
	if d.Unit == "" {
		d.Unit = "None" // what CloudWatch records when no unit is given
	}
	if d.SampleCount <= 0 && !d.HasHistogram() {
		return // nothing observed: CloudWatch stores no datapoint either
	}
	key, dims := metricSeriesKey(d.Namespace, d.MetricName, d.Dimensions)
	d.Dimensions = dims

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.retention > 0 && d.Timestamp.Before(m.newest.Add(-m.retention)) {
		return // already beyond retention: it would be pruned at once
	}
	s := m.series[key]
	if s == nil {
		s = &metricSeries{namespace: d.Namespace, name: d.MetricName, dims: dims}
		m.series[key] = s
	}
	i := sort.Search(len(s.datums), func(i int) bool { return s.datums[i].Timestamp.After(d.Timestamp) })
	s.datums = append(s.datums, Datum{})
	copy(s.datums[i+1:], s.datums[i:])
	s.datums[i] = d
	if d.Timestamp.After(m.newest) {
		m.newest = d.Timestamp
		m.pruneLocked()
	}
}

func (m *Store) pruneLocked() {
	if m.retention <= 0 {
		return
	}
	cutoff := m.newest.Add(-m.retention)
	for key, s := range m.series {
		i := sort.Search(len(s.datums), func(i int) bool { return !s.datums[i].Timestamp.Before(cutoff) })
		if i == 0 {
			continue
		}
		if i == len(s.datums) {
			delete(m.series, key)
			continue
		}
		// Copy rather than reslice so the pruned prefix can be collected.
		s.datums = append([]Datum(nil), s.datums[i:]...)
	}
}

// Query returns copies of the datums of exactly this metric identity with
// start <= Timestamp < end, oldest first. unit "" matches any unit; a
// non-empty unit (including "None") filters, as CloudWatch does.
func (m *Store) Query(namespace, name string, dims []Dimension, unit string, start, end time.Time) []Datum {
	key, _ := metricSeriesKey(namespace, name, dims)
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.series[key]
	if s == nil {
		return nil
	}
	lo := sort.Search(len(s.datums), func(i int) bool { return !s.datums[i].Timestamp.Before(start) })
	var out []Datum
	for _, d := range s.datums[lo:] {
		if !d.Timestamp.Before(end) {
			break
		}
		if unit != "" && d.Unit != unit {
			continue
		}
		out = append(out, d)
	}
	return out
}

// MetricID is a metric's identity as ListMetrics reports it.
type MetricID struct {
	Namespace, MetricName string
	Dimensions            []Dimension
}

// Metrics lists every stored metric identity in a stable order so that
// ListMetrics pagination tokens stay meaningful between calls.
func (m *Store) Metrics() []MetricID {
	m.mu.Lock()
	keys := make([]string, 0, len(m.series))
	for k := range m.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]MetricID, 0, len(keys))
	for _, k := range keys {
		s := m.series[k]
		out = append(out, MetricID{Namespace: s.namespace, MetricName: s.name, Dimensions: append([]Dimension(nil), s.dims...)})
	}
	m.mu.Unlock()
	return out
}

// metricSeriesKey builds the identity key; dimensions are a set, so their order
// in a request must not matter.
func metricSeriesKey(namespace, name string, dims []Dimension) (string, []Dimension) {
	sorted := append([]Dimension(nil), dims...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Name != sorted[j].Name {
			return sorted[i].Name < sorted[j].Name
		}
		return sorted[i].Value < sorted[j].Value
	})
	var b strings.Builder
	// \x00 and \x01 cannot appear in valid names, so keys cannot collide.
	b.WriteString(namespace)
	b.WriteByte(0)
	b.WriteString(name)
	for _, d := range sorted {
		b.WriteByte(1)
		b.WriteString(d.Name)
		b.WriteByte(0)
		b.WriteString(d.Value)
	}
	return b.String(), sorted
}

// normalizeDatum fills the statistic values from a histogram and drops
// histogram entries that carry no weight, so aggregation can trust both.
func normalizeDatum(d Datum) Datum {
	if len(d.Values) == 0 {
		d.Values, d.Counts = nil, nil
		return d
	}
	vals := make([]float64, 0, len(d.Values))
	counts := make([]float64, 0, len(d.Values))
	for i, v := range d.Values {
		c := 1.0
		if i < len(d.Counts) {
			c = d.Counts[i]
		}
		if c <= 0 || math.IsNaN(c) || math.IsNaN(v) || math.IsInf(v, 0) || math.IsInf(c, 0) {
			continue
		}
		vals = append(vals, v)
		counts = append(counts, c)
	}
	if len(vals) == 0 {
		d.Values, d.Counts = nil, nil
		d.SampleCount = 0
		return d
	}
	d.Values, d.Counts = vals, counts
	d.SampleCount, d.Sum = 0, 0
	d.Min, d.Max = math.Inf(1), math.Inf(-1)
	for i, v := range vals {
		d.SampleCount += counts[i]
		d.Sum += v * counts[i]
		d.Min = math.Min(d.Min, v)
		d.Max = math.Max(d.Max, v)
	}
	return d
}

// Period is CloudWatch's standard resolution and the publishing interval
// of the traffic models.
const Period = 60 * time.Second

// Sink is where the traffic models publish: the Store, or a recorder in
// tests.
type Sink interface{ Put(Datum) }
