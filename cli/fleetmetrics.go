package cli

import (
	"context"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
)

// sharedMetrics is the aws metrics pool in the terms of rollout's fleet
// poller (its SharedMetrics port). It lives here, where both are wired,
// so that the aws adapters never import the engine.
type sharedMetrics struct{ pool *perchaws.MetricsPool }

func (s sharedMetrics) FetchShared(ctx context.Context, reqs []rollout.MetricsRequest) ([]rollout.MetricsResult, model.FetchCost) {
	in := make([]perchaws.PoolRequest, len(reqs))
	for i, r := range reqs {
		in[i] = perchaws.PoolRequest{Member: r.Member, Start: r.Start, End: r.End}
	}
	res, st := s.pool.Fetch(ctx, in)
	out := make([]rollout.MetricsResult, len(res))
	for i, r := range res {
		out[i] = rollout.MetricsResult{Member: r.Member, Data: r.Data, Health: r.Health, Err: r.Err}
	}
	return out, st
}

// customMetrics expands a config target's custom metrics for both sides of
// t, placeholders filled from the values perch's own queries use, in the
// order the queries go out: every metric of the stable side, then the
// canary's.
func customMetrics(t model.Target, customs []config.Custom) ([]perchaws.CustomMetric, error) {
	var out []perchaws.CustomMetric
	for _, side := range model.Sides {
		vals := perchaws.SideValues(t, side)
		for _, c := range customs {
			def, err := c.Expand(side, vals)
			if err != nil {
				return nil, err
			}
			cm := perchaws.CustomMetric{Name: c.Name, Side: side, Period: c.Period, Expression: def.Expression}
			cm.Metric, cm.Inputs = def.Metric, def.Inputs
			out = append(out, cm)
		}
	}
	return out, nil
}
