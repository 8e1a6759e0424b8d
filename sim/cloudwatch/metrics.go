package cloudwatch

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/cloudwatch/wire"
	"github.com/perch-dev/perch/sim/metrics"
)

// Limits CloudWatch enforces on GetMetricData and PutMetricData.
const (
	cwMaxQueries      = 500
	cwMaxDatapoints   = 100800
	cwMaxPutData      = 1000
	cwMaxPutValues    = 150
	cwMaxDimensions   = 30
	cwListMetricsPage = 500
)

var cwQueryIDPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// cwMetricStat is MetricStat{Metric{Namespace, MetricName, Dimensions}, Period, Stat, Unit}.
type cwMetricStat struct {
	Namespace, MetricName string
	Dimensions            []metrics.Dimension
	Period                int64
	Stat                  string
	Unit                  string
}

// cwQuery is one MetricDataQuery: exactly one of Stat and Expression.
type cwQuery struct {
	ID         string
	Stat       *cwMetricStat
	Expression string
	Label      string
	ReturnData bool
	Period     int64 // expressions only; 0 means "from the inputs"
}

type cwGMDInput struct {
	Queries       []cwQuery
	Start, End    time.Time
	ScanBy        string
	MaxDatapoints int64
	NextToken     string
}

func cwParseDimensions(f cwFields, key string) ([]metrics.Dimension, error) {
	var dims []metrics.Dimension
	for _, d := range f.objs(key) {
		name, _ := d.str("Name")
		value, _ := d.str("Value")
		if name == "" {
			return nil, cwErrMissing(d.path + "Name")
		}
		if !d.has("Value") {
			return nil, cwErrMissing(d.path + "Value")
		}
		dims = append(dims, metrics.Dimension{Name: name, Value: value})
	}
	if len(dims) > cwMaxDimensions {
		return nil, cwErrInvalidParam("The collection %s must not have a size greater than %d.", key, cwMaxDimensions)
	}
	seen := map[string]bool{}
	for _, d := range dims {
		if seen[d.Name] {
			return nil, cwErrInvalidParam("The dimension %s is given more than once.", d.Name)
		}
		seen[d.Name] = true
	}
	return dims, *f.err
}

// cwParseQueries reads MetricDataQueries (GetMetricData) and Metrics
// (PutMetricAlarm); both share the shape and the rules.
func cwParseQueries(f cwFields, key string) ([]cwQuery, error) {
	items := f.objs(key)
	if *f.err != nil {
		return nil, *f.err
	}
	ids := map[string]bool{}
	qs := make([]cwQuery, 0, len(items))
	for _, it := range items {
		q := cwQuery{ReturnData: true}
		q.ID, _ = it.str("Id")
		if q.ID == "" {
			return nil, cwErrMissing(it.path + "Id")
		}
		if !cwQueryIDPattern.MatchString(q.ID) {
			return nil, cwErrInvalidParam("The value %s for parameter %sId is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.", q.ID, it.path)
		}
		if ids[q.ID] {
			return nil, cwErrInvalidParam("The value %s for parameter %sId is not unique.", q.ID, it.path)
		}
		ids[q.ID] = true
		q.Label, _ = it.str("Label")
		if rd, ok := it.boolean("ReturnData"); ok {
			q.ReturnData = rd
		}
		if p, ok := it.integer("Period"); ok {
			if err := cwValidPeriod(p, it.path+"Period"); err != nil {
				return nil, err
			}
			q.Period = p
		}
		q.Expression, _ = it.str("Expression")
		if ms, ok := it.obj("MetricStat"); ok {
			if q.Expression != "" {
				return nil, cwErrCombination("Exactly one of %sMetricStat and %sExpression must be given.", it.path, it.path)
			}
			st, err := cwParseMetricStat(ms)
			if err != nil {
				return nil, err
			}
			q.Stat = st
		} else if q.Expression == "" {
			return nil, cwErrCombination("Exactly one of %sMetricStat and %sExpression must be given.", it.path, it.path)
		}
		if *f.err != nil {
			return nil, *f.err
		}
		qs = append(qs, q)
	}
	return qs, nil
}

func cwParseMetricStat(ms cwFields) (*cwMetricStat, error) {
	st := &cwMetricStat{}
	m, ok := ms.obj("Metric")
	if !ok {
		return nil, cwErrMissing(ms.path + "Metric")
	}
	st.Namespace, _ = m.str("Namespace")
	st.MetricName, _ = m.str("MetricName")
	if st.MetricName == "" {
		return nil, cwErrMissing(m.path + "MetricName")
	}
	dims, err := cwParseDimensions(m, "Dimensions")
	if err != nil {
		return nil, err
	}
	st.Dimensions = dims
	var hasPeriod bool
	st.Period, hasPeriod = ms.integer("Period")
	if !hasPeriod {
		return nil, cwErrMissing(ms.path + "Period")
	}
	if err := cwValidPeriod(st.Period, ms.path+"Period"); err != nil {
		return nil, err
	}
	st.Stat, _ = ms.str("Stat")
	if st.Stat == "" {
		return nil, cwErrMissing(ms.path + "Stat")
	}
	if _, err := cwParseStat(st.Stat); err != nil {
		return nil, err
	}
	st.Unit, _ = ms.str("Unit")
	return st, *ms.err
}

// cwValidPeriod applies CloudWatch's rule: high-resolution periods or whole minutes.
func cwValidPeriod(p int64, name string) error {
	switch {
	case p == 1 || p == 5 || p == 10 || p == 20 || p == 30:
		return nil
	case p >= 60 && p%60 == 0:
		return nil
	}
	return cwErrInvalidParam("The parameter %s must be 1, 5, 10, 20, 30 or a multiple of 60.", name)
}

func (c *Service) getMetricData(f cwFields) (wire.Obj, error) {
	in := cwGMDInput{ScanBy: "TimestampDescending", MaxDatapoints: cwMaxDatapoints}
	if !f.has("MetricDataQueries") {
		return nil, cwErrMissing("MetricDataQueries")
	}
	if n := len(f.list("MetricDataQueries")); n > cwMaxQueries {
		return nil, cwErrValidation("The collection MetricDataQueries must not have a size greater than %d (got %d).", cwMaxQueries, n)
	}
	qs, err := cwParseQueries(f, "MetricDataQueries")
	if err != nil {
		return nil, err
	}
	if len(qs) == 0 {
		return nil, cwErrMissing("MetricDataQueries")
	}
	in.Queries = qs
	var ok bool
	if in.Start, ok = f.time("StartTime"); !ok {
		if *f.err != nil {
			return nil, *f.err
		}
		return nil, cwErrMissing("StartTime")
	}
	if in.End, ok = f.time("EndTime"); !ok {
		if *f.err != nil {
			return nil, *f.err
		}
		return nil, cwErrMissing("EndTime")
	}
	if !in.End.After(in.Start) {
		return nil, cwErrInvalidParam("The parameter StartTime must be less than the parameter EndTime.")
	}
	if s, ok := f.str("ScanBy"); ok {
		if s != "TimestampDescending" && s != "TimestampAscending" {
			return nil, cwErrInvalidParam("The value %s for parameter ScanBy is invalid.", s)
		}
		in.ScanBy = s
	}
	if n, ok := f.integer("MaxDatapoints"); ok {
		if n < 1 {
			return nil, cwErrInvalidParam("The parameter MaxDatapoints must be at least 1.")
		}
		in.MaxDatapoints = min(n, cwMaxDatapoints)
	}
	in.NextToken, _ = f.str("NextToken")
	if *f.err != nil {
		return nil, *f.err
	}
	offset := 0
	if in.NextToken != "" {
		if offset, err = cwParseGMDToken(in.NextToken, cwGMDFingerprint(in)); err != nil {
			return nil, err
		}
	}

	series, err := c.evalQueries(in.Queries, in.Start, in.End)
	if err != nil {
		return nil, err
	}

	// Flatten in query order, then timestamp order, so a page boundary is a
	// single offset into a stable sequence.
	type result struct {
		q   cwQuery
		pts []cwPoint
	}
	var results []result
	total := 0
	for _, q := range in.Queries {
		if !q.ReturnData {
			continue
		}
		pts := series[q.ID].sorted(in.ScanBy == "TimestampAscending")
		results = append(results, result{q, pts})
		total += len(pts)
	}
	if offset > total {
		return nil, cwErrNextToken()
	}
	budget := int(in.MaxDatapoints)
	skip := offset
	out := make([]wire.Obj, 0, len(results))
	for _, r := range results {
		pts := r.pts
		if skip >= len(pts) {
			skip -= len(pts)
			pts = nil
		} else {
			pts = pts[skip:]
			skip = 0
		}
		status := "Complete"
		if len(pts) > budget {
			pts = pts[:budget]
			status = "PartialData"
		}
		budget -= len(pts)
		ts := make([]time.Time, len(pts))
		vs := make([]float64, len(pts))
		for i, p := range pts {
			ts[i] = time.Unix(p.t, 0).UTC()
			vs[i] = p.v
		}
		out = append(out, wire.Obj{}.
			Set("Id", r.q.ID).
			Set("Label", r.q.label()).
			Set("Timestamps", ts).
			Set("Values", vs).
			Set("StatusCode", status).
			Set("Messages", []wire.Obj{}))
	}
	res := wire.Obj{}.Set("MetricDataResults", out).Set("Messages", []wire.Obj{})
	if next := offset + int(in.MaxDatapoints); next < total {
		res = res.Set("NextToken", cwGMDToken(next, cwGMDFingerprint(in)))
	}
	return res, nil
}

func (q cwQuery) label() string {
	if q.Label != "" {
		return q.Label
	}
	if q.Stat != nil {
		return q.Stat.MetricName
	}
	return q.ID
}

// cwGMDFingerprint ties a NextToken to the request it came from, so a token
// replayed against a different query is rejected rather than misapplied.
func cwGMDFingerprint(in cwGMDInput) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%d|%s", in.Start.UnixNano(), in.End.UnixNano(), in.ScanBy)
	for _, q := range in.Queries {
		fmt.Fprintf(h, "|%q %q %q %t %d", q.ID, q.Expression, q.Label, q.ReturnData, q.Period)
		if st := q.Stat; st != nil {
			fmt.Fprintf(h, " %q %q %+v %d %q %q", st.Namespace, st.MetricName, st.Dimensions, st.Period, st.Stat, st.Unit)
		}
	}
	return h.Sum64()
}

func cwGMDToken(offset int, fp uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("gmd:%d:%x", offset, fp)))
}

func cwParseGMDToken(tok string, fp uint64) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, cwErrNextToken()
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != "gmd" || parts[2] != strconv.FormatUint(fp, 16) {
		return 0, cwErrNextToken()
	}
	off, err := strconv.Atoi(parts[1])
	if err != nil || off < 0 {
		return 0, cwErrNextToken()
	}
	return off, nil
}

// statSeries answers one MetricStat over [start, end): periods are aligned
// to the epoch and only periods holding data yield a point.
func (c *Service) statSeries(st *cwMetricStat, start, end time.Time) *cwSeries {
	kind, _ := cwParseStat(st.Stat) // validated when parsed
	p := st.Period
	from := cwAlignDown(start.Unix(), p)
	ds := c.store.Query(st.Namespace, st.MetricName, st.Dimensions, st.Unit, time.Unix(from, 0), end)
	buckets := map[int64][]metrics.Datum{}
	for _, d := range ds {
		b := cwAlignDown(d.Timestamp.Unix(), p)
		buckets[b] = append(buckets[b], d)
	}
	s := &cwSeries{period: p, pts: map[int64]float64{}}
	for b, group := range buckets {
		if v, ok := cwAggregate(kind, group); ok {
			s.pts[b] = v
		}
	}
	return s
}

func cwAlignDown(t, p int64) int64 {
	if p <= 0 {
		return t
	}
	r := t % p
	if r < 0 {
		r += p
	}
	return t - r
}

func (c *Service) listMetrics(f cwFields) (wire.Obj, error) {
	ns, hasNS := f.str("Namespace")
	name, hasName := f.str("MetricName")
	type filter struct {
		name, value string
		hasValue    bool
	}
	var filters []filter
	for _, d := range f.objs("Dimensions") {
		n, _ := d.str("Name")
		if n == "" {
			return nil, cwErrMissing(d.path + "Name")
		}
		v, hasV := d.str("Value")
		filters = append(filters, filter{n, v, hasV})
	}
	tok, _ := f.str("NextToken")
	if *f.err != nil {
		return nil, *f.err
	}
	offset := 0
	if tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || !strings.HasPrefix(string(raw), "lm:") {
			return nil, cwErrNextToken()
		}
		if offset, err = strconv.Atoi(strings.TrimPrefix(string(raw), "lm:")); err != nil || offset < 0 {
			return nil, cwErrNextToken()
		}
	}
	var matched []wire.Obj
	for _, m := range c.store.Metrics() {
		if (hasNS && m.Namespace != ns) || (hasName && m.MetricName != name) {
			continue
		}
		ok := true
		for _, fl := range filters {
			found := false
			for _, d := range m.Dimensions {
				if d.Name == fl.name && (!fl.hasValue || d.Value == fl.value) {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			matched = append(matched, wire.Obj{}.
				Set("Namespace", m.Namespace).
				Set("MetricName", m.MetricName).
				Set("Dimensions", cwDimsObj(m.Dimensions)))
		}
	}
	if offset > len(matched) {
		return nil, cwErrNextToken()
	}
	end := min(offset+cwListMetricsPage, len(matched))
	res := wire.Obj{}.Set("Metrics", matched[offset:end])
	if end < len(matched) {
		res = res.Set("NextToken", base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("lm:%d", end))))
	}
	return res, nil
}

func cwDimsObj(dims []metrics.Dimension) []wire.Obj {
	out := make([]wire.Obj, len(dims))
	for i, d := range dims {
		out[i] = wire.Pairs("Name", d.Name, "Value", d.Value)
	}
	return out
}

func (c *Service) putMetricData(f cwFields) (wire.Obj, error) {
	ns, _ := f.str("Namespace")
	if ns == "" {
		if *f.err != nil {
			return nil, *f.err
		}
		return nil, cwErrMissing("Namespace")
	}
	items := f.objs("MetricData")
	if *f.err != nil {
		return nil, *f.err
	}
	if len(items) == 0 {
		return nil, cwErrMissing("MetricData")
	}
	if len(items) > cwMaxPutData {
		return nil, cwErrValidation("The collection MetricData must not have a size greater than %d.", cwMaxPutData)
	}
	now := c.clk.Now()
	datums := make([]metrics.Datum, 0, len(items))
	for _, it := range items {
		d, err := cwParsePutDatum(it, ns, now)
		if err != nil {
			return nil, err
		}
		datums = append(datums, d)
	}
	// Validate everything before storing anything: AWS rejects the whole call.
	for _, d := range datums {
		c.store.Put(d)
	}
	return nil, nil
}

func cwParsePutDatum(it cwFields, ns string, now time.Time) (metrics.Datum, error) {
	d := metrics.Datum{Namespace: ns, Unit: "None"}
	d.MetricName, _ = it.str("MetricName")
	if d.MetricName == "" {
		if *it.err != nil {
			return d, *it.err
		}
		return d, cwErrMissing(it.path + "MetricName")
	}
	dims, err := cwParseDimensions(it, "Dimensions")
	if err != nil {
		return d, err
	}
	d.Dimensions = dims
	if u, ok := it.str("Unit"); ok && u != "" {
		d.Unit = u
	}
	d.Timestamp = now
	if t, ok := it.time("Timestamp"); ok {
		if t.After(now.Add(2*time.Hour)) || t.Before(now.Add(-14*24*time.Hour)) {
			return d, cwErrInvalidParam("The parameter %sTimestamp must be within the last two weeks and at most two hours in the future.", it.path)
		}
		d.Timestamp = t
	}
	value, hasValue := it.num("Value")
	sv, hasStats := it.obj("StatisticValues")
	hasValues := it.has("Values")
	given := 0
	for _, b := range []bool{hasValue, hasStats, hasValues} {
		if b {
			given++
		}
	}
	if given > 1 {
		return d, cwErrCombination("The parameters %sValue, %sStatisticValues and %sValues are mutually exclusive.", it.path, it.path, it.path)
	}
	switch {
	case hasValue:
		if cwBad(value) {
			return d, cwErrInvalidParam("The value for parameter %sValue is invalid.", it.path)
		}
		d.Values, d.Counts = []float64{value}, []float64{1}
	case hasStats:
		var ok [4]bool
		d.SampleCount, ok[0] = sv.num("SampleCount")
		d.Sum, ok[1] = sv.num("Sum")
		d.Min, ok[2] = sv.num("Minimum")
		d.Max, ok[3] = sv.num("Maximum")
		for i, name := range []string{"SampleCount", "Sum", "Minimum", "Maximum"} {
			if !ok[i] {
				if *it.err != nil {
					return d, *it.err
				}
				return d, cwErrMissing(sv.path + name)
			}
		}
		if cwBad(d.SampleCount) || cwBad(d.Sum) || cwBad(d.Min) || cwBad(d.Max) || d.SampleCount <= 0 || d.Min > d.Max {
			return d, cwErrInvalidParam("The parameter %sStatisticValues is invalid.", it.path)
		}
	case hasValues:
		d.Values = it.nums("Values")
		d.Counts = it.nums("Counts")
		if *it.err != nil {
			return d, *it.err
		}
		if len(d.Values) == 0 || len(d.Values) > cwMaxPutValues {
			return d, cwErrInvalidParam("The collection %sValues must hold between 1 and %d values.", it.path, cwMaxPutValues)
		}
		if len(d.Counts) != 0 && len(d.Counts) != len(d.Values) {
			return d, cwErrInvalidParam("The collections %sValues and %sCounts must have the same length.", it.path, it.path)
		}
		for i, v := range d.Values {
			if cwBad(v) || (i < len(d.Counts) && (cwBad(d.Counts[i]) || d.Counts[i] < 0)) {
				return d, cwErrInvalidParam("The collection %sValues or %sCounts holds an invalid number.", it.path, it.path)
			}
		}
	default:
		return d, cwErrMissing(it.path + "Value")
	}
	return d, *it.err
}

func cwBad(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) }
