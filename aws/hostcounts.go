package aws

import (
	"math"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/perch-dev/perch/model"
)

// Host-count query Ids: a target's own queries never start with "hc_".
var hostCountIDs = [2][2]string{
	{"hc_stable_healthy", "hc_stable_unhealthy"},
	{"hc_canary_healthy", "hc_canary_unhealthy"},
}

// HostCountQueries are the HealthyHostCount (Minimum) and
// UnHealthyHostCount (Maximum) of both sides' target groups: the
// pessimistic count of each minute, four metrics that ride in a fleet's
// GetMetricData calls instead of two DescribeTargetHealth calls a target.
func HostCountQueries(t model.Target) []MetricQuery {
	lb := lbDimension(t.LoadBalancerARN)
	var out []MetricQuery
	for _, side := range model.Sides {
		tg := t.StableARN
		if side == model.Canary {
			tg = t.CanaryARN
		}
		for j, m := range [2]struct{ name, stat string }{{"HealthyHostCount", "Minimum"}, {"UnHealthyHostCount", "Maximum"}} {
			out = append(out, MetricQuery{Side: side, Query: cwtypes.MetricDataQuery{
				Id: awssdk.String(hostCountIDs[side][j]),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{
						Namespace: awssdk.String("AWS/ApplicationELB"), MetricName: awssdk.String(m.name),
						Dimensions: []cwtypes.Dimension{
							{Name: awssdk.String("LoadBalancer"), Value: awssdk.String(lb)},
							{Name: awssdk.String("TargetGroup"), Value: awssdk.String(tgDimension(tg))},
						},
					},
					Period: awssdk.Int32(int32(metricPeriod / time.Second)), Stat: awssdk.String(m.stat),
				},
			}})
		}
	}
	return out
}

// WithHostCounts adds t's host-count queries to s; the pool then reports
// each side's counts at the newest minute all four have.
func (s SharedSource) WithHostCounts(t model.Target) SharedSource {
	s.Queries = append(append([]MetricQuery(nil), s.Queries...), HostCountQueries(t)...)
	s.Health = hostCountsFrom
	return s
}

// hostCountsFrom is the newest minute at which all four counts have a
// value; nil when there is none (no data yet: the caller asks
// DescribeTargetHealth).
func hostCountsFrom(got map[string][]model.Point) *[2]model.Health {
	var newest time.Time
	for _, p := range got[hostCountIDs[0][0]] {
		if p.T.After(newest) && hasAll(got, p.T) {
			newest = p.T
		}
	}
	if newest.IsZero() {
		return nil
	}
	var out [2]model.Health
	for side := range 2 {
		out[side].Healthy = int(math.Round(valueAt(got[hostCountIDs[side][0]], newest)))
		out[side].Unhealthy = int(math.Round(valueAt(got[hostCountIDs[side][1]], newest)))
	}
	return &out
}

func hasAll(got map[string][]model.Point, t time.Time) bool {
	for _, ids := range hostCountIDs {
		for _, id := range ids {
			if math.IsNaN(valueAt(got[id], t)) {
				return false
			}
		}
	}
	return true
}

func valueAt(pts []model.Point, t time.Time) float64 {
	for _, p := range pts {
		if p.T.Equal(t) {
			return p.V
		}
	}
	return math.NaN()
}
