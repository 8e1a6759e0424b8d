package aws

import (
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/perch-dev/perch/model"
)

// Saturation metrics ride in the same GetMetricData call as the target's
// own (AddQueries). What CloudWatch can split per side:
//
//   - ECS: CPUUtilization and MemoryUtilization (AWS/ECS, ClusterName +
//     ServiceName), per service: one service per side.
//   - Lambda: Duration Average per version (p99 is the latency signal
//     already). ConcurrentExecutions is published per function and per
//     alias, not per ExecutedVersion, so it cannot be split; Throttles are
//     already fetched.
//   - ALB: TargetConnectionErrorCount and TargetTLSNegotiationErrorCount
//     (HTTPS targets only) per target group. ClientTLSNegotiationErrorCount,
//     RejectedConnectionCount and ActiveConnectionCount are the load
//     balancer's, shared by both sides, and are not fetched.

// ECSService names one side's ECS service.
type ECSService struct{ Cluster, Service string }

func saturationQuery(id string, side model.Side, sig model.Signal, namespace, metric, stat string, dims ...string) MetricQuery {
	var ds []cwtypes.Dimension
	for i := 0; i+1 < len(dims); i += 2 {
		ds = append(ds, cwtypes.Dimension{Name: awssdk.String(dims[i]), Value: awssdk.String(dims[i+1])})
	}
	return MetricQuery{Side: side, Signal: sig, Scale: 1, Query: cwtypes.MetricDataQuery{
		Id: awssdk.String(id),
		MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: awssdk.String(namespace), MetricName: awssdk.String(metric), Dimensions: ds},
			Period: awssdk.Int32(int32(metricPeriod / time.Second)),
			Stat:   awssdk.String(stat),
		},
	}}
}

// ECSQueries are both sides' service CPU and memory (Average).
func ECSQueries(services [2]ECSService, idPrefix string) []MetricQuery {
	var out []MetricQuery
	for _, side := range model.Sides {
		s := services[side]
		if s.Service == "" {
			continue
		}
		for _, m := range []struct {
			sig  model.Signal
			name string
		}{{model.CPUUtilization, "CPUUtilization"}, {model.MemoryUtilization, "MemoryUtilization"}} {
			out = append(out, saturationQuery(idPrefix+side.String()+"_"+string(m.sig), side, m.sig, "AWS/ECS", m.name, "Average",
				"ClusterName", s.Cluster, "ServiceName", s.Service))
		}
	}
	return out
}

// ALBSaturationQueries are both target groups' connection errors.
func ALBSaturationQueries(t model.Target, idPrefix string) []MetricQuery {
	lb := lbDimension(t.LoadBalancerARN)
	var out []MetricQuery
	for _, side := range model.Sides {
		tg := t.StableARN
		if side == model.Canary {
			tg = t.CanaryARN
		}
		for _, m := range []struct {
			sig  model.Signal
			name string
		}{{model.ConnectionErrors, "TargetConnectionErrorCount"}, {model.TLSErrors, "TargetTLSNegotiationErrorCount"}} {
			out = append(out, saturationQuery(idPrefix+side.String()+"_"+string(m.sig), side, m.sig,
				"AWS/ApplicationELB", m.name, "Sum", "LoadBalancer", lb, "TargetGroup", tgDimension(tg)))
		}
	}
	return out
}

// LambdaSaturationQueries are both versions' average duration.
func LambdaSaturationQueries(function, alias, stableVersion, canaryVersion, idPrefix string) []MetricQuery {
	var out []MetricQuery
	for _, side := range model.Sides {
		v := stableVersion
		if side == model.Canary {
			v = canaryVersion
		}
		out = append(out, saturationQuery(idPrefix+side.String()+"_"+string(model.DurationAvg), side, model.DurationAvg,
			"AWS/Lambda", "Duration", "Average", "FunctionName", function, "Resource", function+":"+alias, "ExecutedVersion", v))
	}
	return out
}

// AddQueries adds queries to every Fetch, in the same batched call.
func (m *Metrics) AddQueries(qs []MetricQuery) { m.queries = append(m.queries, qs...) }

// AddQueries adds queries to every Fetch, in the same batched call.
func (m *LambdaMetrics) AddQueries(qs []MetricQuery) { m.queries = append(m.queries, qs...) }
