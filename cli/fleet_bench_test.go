package cli

import (
	"context"
	"testing"
)

// BenchmarkFleetPoll100 is one steady metrics poll of a 100-target fleet
// on the simulator: the shared GetMetricData fetch plus every engine's
// routing, health and alarms reads and judge. Reported per poll: the
// GetMetricData calls, queries and datapoints.
func BenchmarkFleetPoll100(b *testing.B) {
	fe := newFleetEnv(b, 100)
	ctx := context.Background()
	st := fe.s.fleet.PollOnce(ctx) // the history
	var calls, queries, points int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		fe.sim.Clock.Set(st.NextPoll)
		st = fe.s.fleet.PollOnce(ctx)
		calls += st.Last.Calls
		queries += st.Last.Queries
		points += st.Last.Datapoints
	}
	n := float64(b.N)
	b.ReportMetric(float64(calls)/n, "GMDcalls/poll")
	b.ReportMetric(float64(queries)/n, "queries/poll")
	b.ReportMetric(float64(points)/n, "datapoints/poll")
}

// BenchmarkNaivePoll100 is the poller perch does not use, on the same
// fleet: every metric in its own GetMetricData call, for the whole 3h
// window, every poll.
func BenchmarkNaivePoll100(b *testing.B) {
	fe := newFleetEnv(b, 100)
	ctx := context.Background()
	now := fe.sim.Clock.Now()
	var calls, points int
	b.ReportAllocs()
	for b.Loop() {
		c, p := naivePoll(ctx, b, fe.sim, now)
		calls += c
		points += p
	}
	n := float64(b.N)
	b.ReportMetric(float64(calls)/n, "GMDcalls/poll")
	b.ReportMetric(float64(calls)/n, "queries/poll")
	b.ReportMetric(float64(points)/n, "datapoints/poll")
}
