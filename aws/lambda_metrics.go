package aws

import (
	"context"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/perch-dev/perch/model"
)

type lambdaMetric struct {
	signal model.Signal
	name   string
	stat   string
}

// lambdaMetrics map AWS/Lambda onto perch's signals: Invocations are the
// requests, Errors (function errors) the errors, Duration (already in
// milliseconds) the latency.
var lambdaMetrics = []lambdaMetric{
	{model.Requests, "Invocations", "Sum"},
	{model.Errors5xx, "Errors", "Sum"},
	{model.LatencyP50, "Duration", "p50"},
	{model.LatencyP99, "Duration", "p99"},
	{model.Throttles, "Throttles", "Sum"},
}

// LambdaQueries lists the queries for both versions of a weighted alias.
// Only {FunctionName, Resource=function:alias, ExecutedVersion} separates
// the versions' traffic through the alias (Resource=function:version counts
// direct calls of that version only). idPrefix is as for ALBQueries.
func LambdaQueries(function, alias, stableVersion, canaryVersion, idPrefix string) []MetricQuery {
	var out []MetricQuery
	for _, side := range model.Sides {
		version := stableVersion
		if side == model.Canary {
			version = canaryVersion
		}
		for _, m := range lambdaMetrics {
			out = append(out, MetricQuery{
				Side: side, Signal: m.signal, Scale: 1,
				Query: cwtypes.MetricDataQuery{
					Id: awssdk.String(idPrefix + side.String() + "_" + string(m.signal)),
					MetricStat: &cwtypes.MetricStat{
						Metric: &cwtypes.Metric{
							Namespace:  awssdk.String("AWS/Lambda"),
							MetricName: awssdk.String(m.name),
							Dimensions: []cwtypes.Dimension{
								{Name: awssdk.String("FunctionName"), Value: awssdk.String(function)},
								{Name: awssdk.String("Resource"), Value: awssdk.String(function + ":" + alias)},
								{Name: awssdk.String("ExecutedVersion"), Value: awssdk.String(version)},
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

// LambdaMetrics fetches a weighted alias's signals for both versions in
// one batched GetMetricData call.
type LambdaMetrics struct {
	batcher *Batcher
	queries []MetricQuery
	slow    slowCounts
}

// NewLambdaMetrics prepares the ten queries (two versions × five signals)
// for the router's alias.
func NewLambdaMetrics(cfg awssdk.Config, r *LambdaRouter) *LambdaMetrics {
	t := r.Target()
	stable, canary := r.Versions()
	return &LambdaMetrics{batcher: NewBatcher(cfg), queries: LambdaQueries(t.Function, t.Alias, stable, canary, "")}
}

// QueryCount is how many metrics each Fetch requests.
func (m *LambdaMetrics) QueryCount() int { return len(m.queries) + len(m.slow.queries(m.queries)) }

// Queries returns the queries a shared poll can batch with other targets':
// the ten without the slow counts, whose threshold is learnt per reader.
func (m *LambdaMetrics) Queries() []MetricQuery { return append([]MetricQuery(nil), m.queries...) }

// Fetch returns a SeriesData for every side × signal, Points possibly
// empty; once the slow-invocation threshold is known (from stable's
// Duration p99, see slowCounts), also the slow counts.
func (m *LambdaMetrics) Fetch(ctx context.Context, start, end time.Time) ([]model.SeriesData, error) {
	qs, got, err := fetchWithSlow(ctx, m.batcher, &m.slow, m.queries, start, end)
	if err != nil {
		return nil, err
	}
	return slowSeries(LambdaSeriesFrom(qs, got), m.slow.thresholdMs(m.queries)), nil
}

// LambdaSeriesFrom is SeriesFrom for Lambda queries. Lambda publishes
// Throttles only for periods with throttles, so where a version has
// invocations but no throttle count the count is 0: a gap would read as
// missing data. (Errors are filled the same way by SeriesFrom.)
func LambdaSeriesFrom(queries []MetricQuery, got map[string][]model.Point) []model.SeriesData {
	out := SeriesFrom(queries, got)
	requests := map[model.Side][]model.Point{}
	for _, sd := range out {
		if sd.Signal == model.Requests {
			requests[sd.Side] = sd.Points
		}
	}
	for i, sd := range out {
		if sd.Signal == model.Throttles {
			if pts := fillZeros(sd.Points, requests[sd.Side]); len(pts) > 0 {
				out[i].Points = pts
			}
		}
	}
	return out
}
