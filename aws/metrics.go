package aws

import (
	"context"
	"fmt"
	"sort"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/perch-dev/perch/model"
)

type cwAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

const (
	// MaxQueriesPerCall is GetMetricData's limit on MetricDataQueries.
	MaxQueriesPerCall = 500
	// metricPeriod is ALB's publishing interval: finer periods return nothing.
	metricPeriod = 60 * time.Second
	// maxPages bounds NextToken paging so a misbehaving endpoint cannot
	// keep a poll going forever.
	maxPages = 50
)

// MetricQuery is one CloudWatch query tagged with the side and signal its
// result belongs to, so queries for several targets can share a call.
type MetricQuery struct {
	Query  cwtypes.MetricDataQuery
	Side   model.Side
	Signal model.Signal
	// Scale multiplies every value (1000 turns ALB seconds into ms).
	Scale float64
}

// ID is the query's CloudWatch Id.
func (q MetricQuery) ID() string { return awssdk.ToString(q.Query.Id) }

type albMetric struct {
	signal model.Signal
	name   string
	stat   string
	scale  float64
}

var albMetrics = []albMetric{
	{model.Requests, "RequestCount", "Sum", 1},
	{model.Errors5xx, "HTTPCode_Target_5XX_Count", "Sum", 1},
	{model.Errors4xx, "HTTPCode_Target_4XX_Count", "Sum", 1},
	{model.LatencyP50, "TargetResponseTime", "p50", 1000},
	{model.LatencyP99, "TargetResponseTime", "p99", 1000},
}

// ALBQueries lists the queries for both sides of an ALB target. idPrefix
// keeps Ids unique when several targets share a call; it must start with
// a lowercase letter and hold only [a-zA-Z0-9_] (empty is fine).
func ALBQueries(t model.Target, idPrefix string) []MetricQuery {
	lb := lbDimension(t.LoadBalancerARN)
	var out []MetricQuery
	for _, side := range model.Sides {
		tg := t.StableARN
		if side == model.Canary {
			tg = t.CanaryARN
		}
		for _, m := range albMetrics {
			// Unit is left unset on purpose: it filters rather than
			// converts, and a mismatch silently returns no data.
			out = append(out, MetricQuery{
				Side: side, Signal: m.signal, Scale: m.scale,
				Query: cwtypes.MetricDataQuery{
					Id: awssdk.String(idPrefix + side.String() + "_" + string(m.signal)),
					MetricStat: &cwtypes.MetricStat{
						Metric: &cwtypes.Metric{
							Namespace:  awssdk.String("AWS/ApplicationELB"),
							MetricName: awssdk.String(m.name),
							Dimensions: []cwtypes.Dimension{
								{Name: awssdk.String("LoadBalancer"), Value: awssdk.String(lb)},
								{Name: awssdk.String("TargetGroup"), Value: awssdk.String(tgDimension(tg))},
							},
						},
						Period: awssdk.Int32(int32(metricPeriod / time.Second)),
						Stat:   awssdk.String(m.stat),
					},
				},
			})
		}
	}
	return out
}

// Batcher sends any number of queries in as few GetMetricData calls as the
// 500-query limit allows.
type Batcher struct {
	api cwAPI
}

// NewBatcher builds a batcher on a CloudWatch client from cfg.
func NewBatcher(cfg awssdk.Config) *Batcher { return &Batcher{api: newCloudWatch(cfg)} }

// CallsFor is how many GetMetricData calls n queries need (before any
// NextToken paging CloudWatch may ask for).
func CallsFor(n int) int { return (n + MaxQueriesPerCall - 1) / MaxQueriesPerCall }

// Fetch returns each query's points by query Id, oldest first, for periods
// starting in [start, end). Both ends are aligned to the period, because
// CloudWatch rounds the start anyway and aligned requests are served faster.
func (b *Batcher) Fetch(ctx context.Context, queries []MetricQuery, start, end time.Time) (map[string][]model.Point, error) {
	start, end = alignWindow(start, end)
	if err := checkQueryIDs(queries); err != nil {
		return nil, err
	}
	out := make(map[string][]model.Point, len(queries))
	for lo := 0; lo < len(queries); lo += MaxQueriesPerCall {
		got, _, err := fetchChunk(ctx, b.api, queries[lo:min(lo+MaxQueriesPerCall, len(queries))], start, end)
		if err != nil {
			return nil, err
		}
		for id, pts := range got {
			out[id] = pts
		}
	}
	return out, nil
}

// checkQueryIDs refuses Ids CloudWatch would refuse, and Ids used twice,
// whose results could not be told apart.
func checkQueryIDs(queries []MetricQuery) error {
	seen := make(map[string]bool, len(queries))
	for _, q := range queries {
		if !validQueryID(q.ID()) {
			return fmt.Errorf("metric query id %q: must start with a lowercase letter and hold only letters, digits and _", q.ID())
		}
		if seen[q.ID()] {
			return fmt.Errorf("metric query id %q used twice", q.ID())
		}
		seen[q.ID()] = true
	}
	return nil
}

// Metrics fetches one ALB target's signals for both sides.
type Metrics struct {
	batcher *Batcher
	queries []MetricQuery
	slow    slowCounts
}

// NewALBMetrics prepares the ten queries (two sides × five signals) for t,
// and from the first read on, the two slow-request counts (see slowCounts).
func NewALBMetrics(cfg awssdk.Config, t model.Target) *Metrics {
	return &Metrics{batcher: NewBatcher(cfg), queries: ALBQueries(t, "")}
}

// QueryCount is how many metrics each Fetch requests: CloudWatch bills
// GetMetricData per metric requested.
func (m *Metrics) QueryCount() int { return len(m.queries) + len(m.slow.queries(m.queries)) }

// Queries returns the queries a shared poll can batch with other targets':
// the ten without the slow counts, whose threshold is learnt per reader.
func (m *Metrics) Queries() []MetricQuery { return append([]MetricQuery(nil), m.queries...) }

// Fetch returns a SeriesData for every side × signal, Points possibly
// empty; once the slow-request threshold is known, also the slow counts
// and the threshold they were counted at.
func (m *Metrics) Fetch(ctx context.Context, start, end time.Time) ([]model.SeriesData, error) {
	qs, got, err := fetchWithSlow(ctx, m.batcher, &m.slow, m.queries, start, end)
	if err != nil {
		return nil, err
	}
	return slowSeries(SeriesFrom(qs, got), m.slow.thresholdMs(m.queries)), nil
}

// SeriesFrom turns a Batcher result into SeriesData for queries. ALB
// publishes no error datapoint for a period without errors, so where a
// side has a request count but no error count, the error count is 0:
// otherwise an error rate over a clean period would look like missing data.
func SeriesFrom(queries []MetricQuery, got map[string][]model.Point) []model.SeriesData {
	out := make([]model.SeriesData, 0, len(queries))
	requests := map[model.Side][]model.Point{}
	for _, q := range queries {
		if q.Signal == model.Requests {
			requests[q.Side] = got[q.ID()]
		}
	}
	for _, q := range queries {
		pts := got[q.ID()]
		if q.Signal == model.Errors5xx || q.Signal == model.Errors4xx {
			pts = fillZeros(pts, requests[q.Side])
		}
		if pts == nil {
			pts = []model.Point{}
		}
		out = append(out, model.SeriesData{Side: q.Side, Signal: q.Signal, Points: pts})
	}
	return out
}

func fillZeros(errs, reqs []model.Point) []model.Point {
	have := make(map[int64]bool, len(errs))
	for _, p := range errs {
		have[p.T.UnixNano()] = true
	}
	out := append([]model.Point(nil), errs...)
	for _, p := range reqs {
		if !have[p.T.UnixNano()] {
			out = append(out, model.Point{T: p.T, V: 0})
		}
	}
	return sortDedup(out)
}

// sortDedup orders points by time; with paging a period may arrive twice,
// and the later copy wins.
func sortDedup(pts []model.Point) []model.Point {
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].T.Before(pts[j].T) })
	out := pts[:0]
	for _, p := range pts {
		if n := len(out); n > 0 && out[n-1].T.Equal(p.T) {
			out[n-1] = p
			continue
		}
		out = append(out, p)
	}
	return out
}

func validQueryID(id string) bool {
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func messages(ms []cwtypes.MessageData) string {
	var s string
	for i, m := range ms {
		if i > 0 {
			s += "; "
		}
		s += awssdk.ToString(m.Code) + " " + awssdk.ToString(m.Value)
	}
	return s
}

// alignWindow aligns both ends to the period: CloudWatch rounds the start
// anyway, and aligned requests are served faster.
func alignWindow(start, end time.Time) (time.Time, time.Time) {
	start = start.Truncate(metricPeriod)
	if e := end.Truncate(metricPeriod); e.Before(end) {
		end = e.Add(metricPeriod)
	}
	return start, end
}

// fetchChunk is one GetMetricData call (plus NextToken pages) for at most
// 500 queries, returning points by query Id, oldest first, and what the
// call cost.
func fetchChunk(ctx context.Context, api cwAPI, queries []MetricQuery, start, end time.Time) (map[string][]model.Point, model.FetchCost, error) {
	st := model.FetchCost{Queries: len(queries)}
	byID := make(map[string]MetricQuery, len(queries))
	mdq := make([]cwtypes.MetricDataQuery, len(queries))
	for i, q := range queries {
		byID[q.ID()] = q
		mdq[i] = q.Query
		if q.Query.MetricStat != nil {
			st.Metrics++
		}
	}
	in := &cloudwatch.GetMetricDataInput{
		MetricDataQueries: mdq,
		StartTime:         awssdk.Time(start),
		EndTime:           awssdk.Time(end),
		ScanBy:            cwtypes.ScanByTimestampAscending,
	}
	out := make(map[string][]model.Point, len(queries))
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, st, fmt.Errorf("get metric data: still paging after %d pages", maxPages)
		}
		st.Calls++
		res, err := api.GetMetricData(ctx, in)
		if err != nil {
			return nil, st, fmt.Errorf("get metric data (%d queries, %s to %s): %w", len(mdq),
				start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), err)
		}
		for _, r := range res.MetricDataResults {
			id := awssdk.ToString(r.Id)
			q, ok := byID[id]
			if !ok {
				continue
			}
			if r.StatusCode == cwtypes.StatusCodeForbidden {
				return nil, st, fmt.Errorf("get metric data %s: forbidden: %s", id, messages(r.Messages))
			}
			if len(r.Timestamps) != len(r.Values) {
				return nil, st, fmt.Errorf("get metric data %s: %d timestamps but %d values", id, len(r.Timestamps), len(r.Values))
			}
			scale := q.Scale
			if scale == 0 {
				scale = 1
			}
			st.Datapoints += len(r.Values)
			for i, ts := range r.Timestamps {
				out[id] = append(out[id], model.Point{T: ts, V: r.Values[i] * scale})
			}
		}
		if res.NextToken == nil || *res.NextToken == "" {
			break
		}
		in.NextToken = res.NextToken
	}
	for id, pts := range out {
		out[id] = sortDedup(pts)
	}
	return out, st, nil
}
