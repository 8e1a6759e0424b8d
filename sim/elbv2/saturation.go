package elbv2

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/perch-dev/perch/sim/metrics"
	"github.com/perch-dev/perch/sim/scenario"
	"github.com/perch-dev/perch/sim/traffic"
)

// ECSNamespace is where ECS publishes service utilisation.
const ECSNamespace = "AWS/ECS"

// ECSServiceDimensions are the dimensions of an ECS service's
// CPUUtilization and MemoryUtilization.
func ECSServiceDimensions(cluster, service string) []metrics.Dimension {
	return []metrics.Dimension{{Name: "ClusterName", Value: cluster}, {Name: "ServiceName", Value: service}}
}

// publishSaturation publishes, for a canary whose scenario declares the
// ECS services behind its target groups, each service's utilisation in
// the period from its requests (CPU) and the time into the scenario
// (memory, for a leak), and each target group's connection errors. ECS
// publishes utilisation whether or not requests flow, so an idle side
// still has its resting values. The ECS API itself is not simulated
// here: only the metrics a cockpit reads.
func (t *albTraffic) publishSaturation(r *rand.Rand, c *canaryRun, from time.Time, n [2]int) {
	sat := c.spec.Saturation
	if sat == nil {
		return
	}
	since := from.Sub(t.Start())
	for i, side := range []struct {
		service string
		spec    scenario.SaturationSide
		tgDim   string
	}{{sat.StableService, sat.Stable, c.stableDim}, {sat.CanaryService, sat.Canary, c.canaryDim}} {
		dims := ECSServiceDimensions(sat.Cluster, side.service)
		// A percent or so of noise, as tasks' readings vary.
		cpu := clampPct(side.spec.CPUAt(float64(n[i])) + r.NormFloat64())
		mem := clampPct(side.spec.MemoryAt(since) + 0.5*r.NormFloat64())
		for _, m := range []struct {
			name string
			v    float64
		}{{"CPUUtilization", cpu}, {"MemoryUtilization", mem}} {
			t.store.Put(metrics.Datum{Namespace: ECSNamespace, MetricName: m.name, Dimensions: dims, Timestamp: from,
				Unit: "Percent", SampleCount: 1, Sum: m.v, Min: m.v, Max: m.v})
		}
		if k := traffic.Binomial(r, n[i], side.spec.ConnectionErrorRate); k > 0 {
			t.store.Put(metrics.Datum{Namespace: Namespace, MetricName: "TargetConnectionErrorCount",
				Dimensions: []metrics.Dimension{{Name: "LoadBalancer", Value: c.lbDim}, {Name: "TargetGroup", Value: side.tgDim}},
				Timestamp:  from, Unit: "Count", SampleCount: float64(k), Sum: float64(k), Min: 1, Max: 1})
		}
	}
}

func clampPct(v float64) float64 { return math.Max(0, math.Min(100, v)) }
