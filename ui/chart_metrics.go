package ui

import (
	"fmt"
	"math"
	"time"

	"github.com/perch-dev/perch/model"
)

// metric is one chart: how to get each side's series from a snapshot and
// how to say a value in words.
type metric struct {
	title  string
	floor  float64 // the Y axis goes at least this high
	series func(s model.Snapshot, side model.Side, period time.Duration) []model.Point
	format func(v float64) string
}

// errorRate charts errors per request (per invocation, for Lambda).
func errorRate(title string) metric {
	return metric{
		title: title,
		floor: 1,
		series: func(s model.Snapshot, side model.Side, _ time.Duration) []model.Point {
			sig := s.Signals[side]
			if sig == nil {
				return nil
			}
			return model.ErrorRate(sig[model.Requests], sig[model.Errors5xx])
		},
		format: func(v float64) string { return fmt.Sprintf("%.1f%%", v) },
	}
}

// p99 charts the p99 latency signal, in milliseconds for every kind.
func p99(title string) metric {
	return metric{
		title: title,
		floor: 10,
		series: func(s model.Snapshot, side model.Side, _ time.Duration) []model.Point {
			if s.Signals[side] == nil {
				return nil
			}
			return s.Signals[side][model.LatencyP99]
		},
		format: func(v float64) string { return fmt.Sprintf("%.0f ms", v) },
	}
}

// perMinute charts a count signal as a rate per minute.
func perMinute(title string, sig model.Signal, floor float64) metric {
	return metric{
		title: title,
		floor: floor,
		series: func(s model.Snapshot, side model.Side, period time.Duration) []model.Point {
			if s.Signals[side] == nil {
				return nil
			}
			// Periods may be shorter or longer than a minute; say it per minute.
			f := float64(time.Minute) / float64(period)
			src := s.Signals[side][sig]
			out := make([]model.Point, len(src))
			for i, p := range src {
				out[i] = model.Point{T: p.T, V: p.V * f}
			}
			return out
		},
		format: func(v float64) string { return num(math.Round(v)) + "/min" },
	}
}

// metricsFor is the chart set for a target kind, in Lambda's own words for
// a Lambda alias: errors per invocation, duration, and throttles, which
// are how a Lambda canary usually fails when it is slower than stable.
func metricsFor(kind model.TargetKind) []metric {
	if kind == model.KindLambda {
		return []metric{
			errorRate("error rate %"),
			p99("p99 duration ms"),
			perMinute("throttles /min", model.Throttles, 1),
			perMinute("invocations /min", model.Requests, 10),
		}
	}
	return []metric{
		errorRate("5xx rate %"),
		p99("p99 latency ms"),
		perMinute("requests /min", model.Requests, 10),
	}
}
