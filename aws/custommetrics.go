package aws

import (
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/perch-dev/perch/internal/metricmath"
	"github.com/perch-dev/perch/model"
)

// SideValues are the ${side.KEY} placeholder values of one side of a
// resolved target: the same dimension values perch's own queries use, so a
// business metric published per target group or per version lines up with
// the built-in signals.
func SideValues(t model.Target, side model.Side) map[string]string {
	name := t.StableName
	if side == model.Canary {
		name = t.CanaryName
	}
	vals := map[string]string{"name": name}
	switch t.Kind {
	case model.KindALB:
		arn := t.StableARN
		if side == model.Canary {
			arn = t.CanaryARN
		}
		tgName := tgNameFromARN(arn)
		if tgName == "" {
			tgName = name
		}
		vals["target_group"] = tgDimension(arn)
		vals["target_group_name"] = tgName
		vals["target_group_arn"] = arn
		vals["load_balancer"] = lbDimension(t.LoadBalancerARN)
	case model.KindLambda:
		vals["function"] = t.Function
		vals["alias"] = t.Alias
		vals["version"] = name
		vals["resource"] = t.Function + ":" + t.Alias
	}
	return vals
}

// CustomMetric is one side's definition of a custom business metric with
// its placeholders already filled (from SideValues): one CloudWatch
// metric, or a metric-math Expression over Inputs, which it names by ID.
// It is aws's own type so the adapters do not depend on the config file's.
type CustomMetric struct {
	Name       string
	Side       model.Side
	Period     time.Duration // 0: perch's metric period
	Metric     *model.MetricStat
	Expression string
	Inputs     []model.MetricInput
}

// CustomQueries builds the queries for a target's custom metrics, in the
// order given. Each custom metric is one returned query whose Signal is
// the metric's name; an expression's inputs ride along with ReturnData
// false and no Signal.
func CustomQueries(customs []CustomMetric) ([]MetricQuery, error) {
	var out []MetricQuery
	for _, c := range customs {
		qs, err := customQueries(c)
		if err != nil {
			return nil, err
		}
		out = append(out, qs...)
	}
	return out, nil
}

func customQueries(c CustomMetric) ([]MetricQuery, error) {
	period := int32(c.Period / time.Second)
	if period <= 0 {
		period = int32(metricPeriod / time.Second)
	}
	side := c.Side
	id := side.String() + "_" + c.Name
	if c.Metric != nil {
		return []MetricQuery{{
			Side: side, Signal: model.Signal(c.Name), Scale: 1,
			Query: cwtypes.MetricDataQuery{Id: awssdk.String(id), MetricStat: metricStat(*c.Metric, period)},
		}}, nil
	}
	if c.Expression == "" {
		return nil, fmt.Errorf("custom metric %s (%s): neither a metric nor an expression", c.Name, side)
	}
	rename := make(map[string]string, len(c.Inputs))
	out := make([]MetricQuery, 0, 1+len(c.Inputs))
	for _, in := range c.Inputs {
		inID := id + "__" + in.ID
		rename[in.ID] = inID
		out = append(out, MetricQuery{
			Side: side, Scale: 1,
			Query: cwtypes.MetricDataQuery{
				Id: awssdk.String(inID), MetricStat: metricStat(in.Metric, period),
				ReturnData: awssdk.Bool(false),
			},
		})
	}
	out = append(out, MetricQuery{
		Side: side, Signal: model.Signal(c.Name), Scale: 1,
		Query: cwtypes.MetricDataQuery{
			Id:         awssdk.String(id),
			Expression: awssdk.String(metricmath.Rename(c.Expression, rename)),
			Period:     awssdk.Int32(period),
		},
	})
	return out, nil
}

func metricStat(m model.MetricStat, period int32) *cwtypes.MetricStat {
	dims := make([]cwtypes.Dimension, len(m.Dimensions))
	for i, d := range m.Dimensions {
		dims[i] = cwtypes.Dimension{Name: awssdk.String(d.Name), Value: awssdk.String(d.Value)}
	}
	return &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: awssdk.String(m.Namespace), MetricName: awssdk.String(m.Name), Dimensions: dims},
		Period: awssdk.Int32(period),
		Stat:   awssdk.String(m.Stat),
	}
}

// customSeries turns the returned custom queries' results into series;
// inputs (no Signal) are left out.
func customSeries(queries []MetricQuery, got map[string][]model.Point) []model.SeriesData {
	var out []model.SeriesData
	for _, q := range queries {
		if q.Signal == "" {
			continue
		}
		pts := got[q.ID()]
		if pts == nil {
			pts = []model.Point{}
		}
		out = append(out, model.SeriesData{Side: q.Side, Signal: q.Signal, Points: pts})
	}
	return out
}
