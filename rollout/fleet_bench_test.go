package rollout

import (
	"context"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
)

// dayShared answers every member's window with the five ALB signals per
// side and minute, deterministic and a little noisy, as CloudWatch would.
type dayShared struct{}

func (dayShared) FetchShared(_ context.Context, reqs []MetricsRequest) ([]MetricsResult, model.FetchCost) {
	out := make([]MetricsResult, len(reqs))
	var cost model.FetchCost
	cost.Calls = (len(reqs)*10 + 499) / 500
	for i, r := range reqs {
		out[i].Member = r.Member
		cost.Queries += 10
		cost.Metrics += 10
		for _, side := range model.Sides {
			rate := 900.0
			if side == model.Canary {
				rate = 100
			}
			series := map[model.Signal][]model.Point{}
			for t := r.Start; t.Before(r.End); t = t.Add(time.Minute) {
				k := float64(t.Unix()/60 + int64(r.Member))
				req := rate * (1 + 0.1*math.Sin(k))
				series[model.Requests] = append(series[model.Requests], model.Point{T: t, V: math.Round(req)})
				series[model.Errors5xx] = append(series[model.Errors5xx], model.Point{T: t, V: math.Round(req * 0.005 * (1 + math.Cos(k)))})
				series[model.Errors4xx] = append(series[model.Errors4xx], model.Point{T: t, V: math.Round(req * 0.01)})
				series[model.LatencyP50] = append(series[model.LatencyP50], model.Point{T: t, V: 40 + 5*math.Sin(k/3)})
				series[model.LatencyP99] = append(series[model.LatencyP99], model.Point{T: t, V: 180 + 20*math.Sin(k/7)})
			}
			for sig, pts := range series {
				cost.Datapoints += len(pts)
				out[i].Data = append(out[i].Data, model.SeriesData{Side: side, Signal: sig, Points: pts})
			}
		}
	}
	return out, cost
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// BenchmarkFleetVirtualDay100 runs a 100-target fleet through a virtual
// day, one metrics poll a minute (1,440 polls, each judged on every
// engine), on perch's own ports with in-memory fakes: what it measures is
// perch's memory, not the SDK's or the simulator's. It reports the heap
// in use after the first hour and after the day (after a GC), which the
// engines' fixed six-hour ring buffers keep flat, and the allocations per
// poll.
func BenchmarkFleetVirtualDay100(b *testing.B) { virtualDay(b, 100, 1) }

// BenchmarkFleetVirtualDay500 is the same at 500 targets, bounded: a
// metrics poll every five virtual minutes (288 polls, each reading the
// five minutes since the last), so that a day of 500 judged engines takes
// minutes, not a quarter of an hour, on a shared 2-vCPU machine. The
// buffers fill the same way: six hours of one-minute periods.
func BenchmarkFleetVirtualDay500(b *testing.B) { virtualDay(b, 500, 5) }

func virtualDay(b *testing.B, n, every int) {
	for b.Loop() {
		start := time.Date(2026, 11, 26, 0, 0, 30, 0, time.UTC)
		clk := clock.NewManual(start)
		var members []FleetMember
		for i := range n {
			r := &fakeRouter{
				split:  model.Split{StableID: "s", CanaryID: "c"}.WithCanaryPercent(10),
				target: model.Target{Kind: model.KindALB, Name: "t", RuleARN: "arn:rule/" + string(rune('a'+i%26))},
			}
			e, err := New(Config{Router: r, Metrics: &fakeMetrics{}, Audit: &memAudit{}, Clock: clk, AlarmNames: nil})
			if err != nil {
				b.Fatal(err)
			}
			members = append(members, FleetMember{Engine: e, Metrics: i})
		}
		f, err := NewFleet(FleetConfig{Members: members, Shared: dayShared{}, Clock: clk, PublishDelay: 30 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		base := heapInUse()
		at := map[int]uint64{}
		var at10 uint64
		for poll := range 24 * 60 / every {
			st := f.PollOnce(ctx)
			switch minute := (poll + 1) * every; minute {
			case 10:
				at10 = heapInUse()
			case 60, 6 * 60, 12 * 60, 24 * 60:
				at[minute/60] = heapInUse()
			}
			clk.Set(st.NextPoll.Add(time.Duration(every-1) * time.Minute))
		}
		b.ReportMetric(float64(at10-base)/(1<<20), "heapMB@10m")
		for _, h := range []int{1, 6, 12, 24} {
			b.ReportMetric(float64(at[h]-base)/(1<<20), "heapMB@"+itoa(h)+"h")
		}
		b.ReportMetric(float64(f.Stats().Total.Datapoints)/float64(f.Stats().Polls), "datapoints/poll")
		runtime.KeepAlive(f)
	}
}
