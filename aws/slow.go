package aws

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/perch-dev/perch/model"
)

// slowCounts reads latency as counts: per side and period, how many
// requests were slower than a threshold taken from stable, with
// CloudWatch's trimmed count TC(threshold:) on the same latency metric the
// p99 comes from (ALB TargetResponseTime, Lambda Duration: one sample per
// request). The judge compares the canary's share of slow requests with its
// share of requests, as it does errors; a count keeps the magnitude a
// per-period p99 comparison throws away.
//
// The threshold is the median of stable's per-period p99 over the first
// window read (the history perch loads at attach), learnt from the p99s that
// read already returns and fixed from then on: any threshold fixed from
// stable alone keeps "same distribution on both sides" meaning "same share
// of slow requests", and a fixed one makes every period count the same
// thing.
type slowCounts struct {
	mu sync.Mutex
	// key is the stable latency metric the threshold was learnt on; a
	// CodeDeploy target that moves on to another deployment learns anew.
	key       string
	threshold float64 // in the metric's own unit (s for ALB, ms for Lambda); 0: not yet known
}

// minBaselinePeriods is how many periods with a trustworthy stable p99
// (at least minBaselineRequests requests) the threshold needs: a median of
// fewer would move with the noise of one minute.
const (
	minBaselinePeriods  = 5
	minBaselineRequests = 100
)

// p99Queries finds the latency p99 query of each side among base.
func p99Queries(base []MetricQuery) (stable, canary *MetricQuery) {
	for i := range base {
		q := &base[i]
		if q.Signal != model.LatencyP99 || q.Query.MetricStat == nil {
			continue
		}
		if q.Side == model.Stable {
			stable = q
		} else {
			canary = q
		}
	}
	return stable, canary
}

func metricKey(q *MetricQuery) string {
	ms := q.Query.MetricStat
	k := awssdk.ToString(ms.Metric.Namespace) + "|" + awssdk.ToString(ms.Metric.MetricName)
	for _, d := range ms.Metric.Dimensions {
		k += "|" + awssdk.ToString(d.Name) + "=" + awssdk.ToString(d.Value)
	}
	return k
}

// queries returns the TC queries for both sides, or none while the
// threshold is unknown.
func (s *slowCounts) queries(base []MetricQuery) []MetricQuery {
	stable, canary := p99Queries(base)
	if stable == nil || canary == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != metricKey(stable) {
		s.key, s.threshold = metricKey(stable), 0
	}
	if s.threshold <= 0 {
		return nil
	}
	stat := "TC(" + formatBound(s.threshold) + ":)"
	out := make([]MetricQuery, 0, 2)
	for _, p := range []*MetricQuery{stable, canary} {
		ms := *p.Query.MetricStat
		ms.Stat = awssdk.String(stat)
		out = append(out, MetricQuery{
			Side: p.Side, Signal: model.SlowRequests, Scale: 1,
			Query: cwtypes.MetricDataQuery{Id: awssdk.String(p.ID() + "_slow"), MetricStat: &ms},
		})
	}
	return out
}

// thresholdMs is the threshold in milliseconds (the unit of every latency
// signal), given the p99 queries' scale; 0 when unknown.
func (s *slowCounts) thresholdMs(base []MetricQuery) float64 {
	stable, _ := p99Queries(base)
	if stable == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	scale := stable.Scale
	if scale == 0 {
		scale = 1
	}
	return s.threshold * scale
}

// learn sets the threshold from stable's p99s in got, if it is not set and
// there are enough periods with enough requests. It reports whether it set
// it now.
func (s *slowCounts) learn(base []MetricQuery, got map[string][]model.Point) bool {
	stable, _ := p99Queries(base)
	if stable == nil {
		return false
	}
	var requests []model.Point
	for _, q := range base {
		if q.Side == model.Stable && q.Signal == model.Requests {
			requests = got[q.ID()]
		}
	}
	enough := make(map[int64]bool, len(requests))
	for _, p := range requests {
		if p.V >= minBaselineRequests {
			enough[p.T.Unix()] = true
		}
	}
	scale := stable.Scale
	if scale == 0 {
		scale = 1
	}
	var p99s []float64
	for _, p := range got[stable.ID()] {
		if enough[p.T.Unix()] && p.V > 0 && !math.IsInf(p.V, 0) {
			p99s = append(p99s, p.V/scale) // back to the metric's own unit
		}
	}
	if len(p99s) < minBaselinePeriods {
		return false
	}
	sort.Float64s(p99s)
	median := p99s[len(p99s)/2]
	if len(p99s)%2 == 0 {
		median = (p99s[len(p99s)/2-1] + median) / 2
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.threshold > 0 || s.key != metricKey(stable) {
		return false
	}
	s.threshold = roundSignificant(median, 3)
	return s.threshold > 0
}

// roundSignificant keeps n significant digits: a statistic's bound has at
// most ten decimals, and 180.4 ms says no more than 180 ms.
func roundSignificant(v float64, n int) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(v)))
	return math.Round(v*p) / p
}

// formatBound writes a statistic bound without an exponent and with at
// most ten decimals, as CloudWatch's syntax wants.
func formatBound(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e10)/1e10, 'f', -1, 64)
}

// fetchWithSlow runs base (plus the slow counts, once the threshold is
// known) in one batched read. On the read that first learns the threshold
// it asks for the slow counts of the same window in a second call, so the
// history loaded at attach is judged by counts too. It returns the
// queries whose results got holds.
func fetchWithSlow(ctx context.Context, b *Batcher, slow *slowCounts, base []MetricQuery, start, end time.Time) ([]MetricQuery, map[string][]model.Point, error) {
	qs := append(append([]MetricQuery(nil), base...), slow.queries(base)...)
	got, err := b.Fetch(ctx, qs, start, end)
	if err != nil {
		return nil, nil, err
	}
	if len(qs) > len(base) || !slow.learn(base, got) {
		return qs, got, nil
	}
	extra := slow.queries(base)
	more, err := b.Fetch(ctx, extra, start, end)
	if err != nil {
		return nil, nil, fmt.Errorf("read the slow-request counts at %s ms: %w", formatBound(slow.thresholdMs(base)), err)
	}
	for id, pts := range more {
		got[id] = pts
	}
	return append(qs, extra...), got, nil
}

// slowSeries completes the slow counts in series: a period with requests
// but no count has none (TC over a period is 0, yet a missing datapoint
// must not read as missing data), and each period counted carries the
// threshold it was counted at, so the judge and the screen can say what
// "slow" meant.
func slowSeries(series []model.SeriesData, thresholdMs float64) []model.SeriesData {
	if thresholdMs <= 0 {
		return series
	}
	requests := map[model.Side][]model.Point{}
	for _, sd := range series {
		if sd.Signal == model.Requests {
			requests[sd.Side] = sd.Points
		}
	}
	var counted []model.Point
	for i, sd := range series {
		if sd.Signal != model.SlowRequests {
			continue
		}
		pts := fillZeros(sd.Points, requests[sd.Side])
		series[i].Points = pts
		if sd.Side == model.Stable {
			counted = pts
		}
	}
	th := make([]model.Point, len(counted))
	for i, p := range counted {
		th[i] = model.Point{T: p.T, V: thresholdMs}
	}
	return append(series, model.SeriesData{Side: model.Stable, Signal: model.SlowThreshold, Points: th})
}
