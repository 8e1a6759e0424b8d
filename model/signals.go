package model

import "time"

// Side is one half of a canary.
type Side int

const (
	Stable Side = iota
	Canary
)

func (s Side) String() string {
	if s == Canary {
		return "canary"
	}
	return "stable"
}

// Sides lists both sides in display order.
var Sides = [2]Side{Stable, Canary}

// Signal names a measured quantity per side. Values are as CloudWatch
// returns them, except latency, which perch keeps in milliseconds for every
// target kind (ALB reports seconds, Lambda milliseconds).
type Signal string

const (
	Requests   Signal = "requests"    // count per period
	Errors5xx  Signal = "errors_5xx"  // count per period
	Errors4xx  Signal = "errors_4xx"  // count per period
	LatencyP50 Signal = "latency_p50" // milliseconds
	LatencyP99 Signal = "latency_p99" // milliseconds
	Throttles  Signal = "throttles"   // count per period (Lambda)
	// SlowRequests counts the requests slower than SlowThreshold, per
	// period (CloudWatch's TC(threshold:) on the latency metric).
	SlowRequests Signal = "slow_requests"
	// SlowThreshold is, for each period with a slow count, the latency in
	// milliseconds it counted above (taken from stable).
	SlowThreshold Signal = "slow_threshold"

	// Saturation: what a service runs out of before it fails. Judged only
	// when declared (perch.yaml's saturation), with a direction and a
	// tolerance like a custom signal.
	CPUUtilization    Signal = "cpu_utilization"    // percent, average over the ECS service's tasks
	MemoryUtilization Signal = "memory_utilization" // percent, likewise
	DurationAvg       Signal = "duration_avg"       // milliseconds (Lambda Duration, Average)
	ConnectionErrors  Signal = "connection_errors"  // count per period (ALB TargetConnectionErrorCount)
	TLSErrors         Signal = "tls_errors"         // count per period (ALB TargetTLSNegotiationErrorCount)
)

// SaturationSignals are the saturation signals perch can fetch, in the
// order the saturation row charts them.
var SaturationSignals = []Signal{CPUUtilization, MemoryUtilization, DurationAvg, ConnectionErrors, TLSErrors}

// Label is the signal's name in words, for verdicts and screens. It is
// deliberately not String: metric query IDs are built from the raw name.
func (s Signal) Label() string {
	switch s {
	case Requests:
		return "requests"
	case Errors5xx:
		return "errors"
	case Errors4xx:
		return "4xx errors"
	case LatencyP50:
		return "p50" // latency for an ALB, duration for Lambda
	case LatencyP99:
		return "p99"
	case Throttles:
		return "throttles"
	case SlowRequests:
		return "slow requests"
	case SlowThreshold:
		return "slow threshold"
	case CPUUtilization:
		return "cpu"
	case MemoryUtilization:
		return "memory"
	case DurationAvg:
		return "avg duration"
	case ConnectionErrors:
		return "conn errors"
	case TLSErrors:
		return "tls errors"
	}
	return string(s)
}

// FetchedSignals lists what the metrics adapter fetches for an ALB target.
var FetchedSignals = []Signal{Requests, Errors5xx, Errors4xx, LatencyP50, LatencyP99}

// SeriesData is what a metrics fetch returns for one side and signal.
type SeriesData struct {
	Side   Side    `json:"side"`
	Signal Signal  `json:"signal"`
	Points []Point `json:"points"`
}

// SideSignals holds each signal's points for one side, oldest first.
type SideSignals map[Signal][]Point

// Signals is both sides' data as of one snapshot.
type Signals [2]SideSignals

// ErrorRate derives the 5xx rate in percent per period from requests and
// errors; a period with no requests has no rate (a gap, not a zero).
func ErrorRate(requests, errors []Point) []Point {
	errAt := make(map[time.Time]float64, len(errors))
	for _, p := range errors {
		errAt[p.T] = p.V
	}
	out := make([]Point, 0, len(requests))
	for _, p := range requests {
		if p.V <= 0 {
			continue
		}
		out = append(out, Point{T: p.T, V: 100 * errAt[p.T] / p.V})
	}
	return out
}

// Sum adds up the values of points at or after since.
func Sum(pts []Point, since time.Time) float64 {
	var s float64
	for _, p := range pts {
		if !p.T.Before(since) {
			s += p.V
		}
	}
	return s
}
