package model

import (
	"math"
	"time"
)

// rate is the recent canary traffic, for turning requests into time.
type rate struct {
	perMinute float64       // canary requests per minute, recent
	share     float64       // canary share of requests, recent (0-1)
	period    time.Duration // spacing of the data
	// paired is the chance that a canary request lands in a period where
	// stable served too: only those carry error-rate evidence. 1 at any
	// real traffic; small at a few requests an hour.
	paired float64
	start  time.Time // the recent window, [start, end)
	end    time.Time
}

// traffic measures the canary's recent request rate and share over the
// last cfg.RateWindow periods (or more: see below). The window ends at the newest period with
// data, unless that is more than three periods ago: CloudWatch publishes a
// minute or two late, and those not-yet-published periods are not idle
// ones, but a longer silence is.
func traffic(sig Signals, cfg JudgeConfig, now time.Time) rate {
	a := alignSince(cfg.Since, sig[Canary][Requests], sig[Stable][Requests])
	r := rate{period: cfg.Period}
	if len(a.times) == 0 {
		return r
	}
	end := a.times[len(a.times)-1].Add(r.period)
	if floor := now.Add(-3 * r.period); end.Before(floor) {
		end = floor
	}
	// At low traffic the last few periods are mostly empty and say
	// nothing; the window doubles until it holds enough requests to
	// estimate a rate from, or reaches back to Since.
	first := a.times[0]
	span := time.Duration(cfg.RateWindow) * r.period
	var c, s float64
	for {
		start := end.Add(-span)
		c, s = 0, 0
		for i, t := range a.times {
			if t.Before(start) || !t.Before(end) {
				continue
			}
			if x := a.vals[0][i]; x > 0 {
				c += x
			}
			if y := a.vals[1][i]; y > 0 {
				s += y
			}
		}
		r.start, r.end = start, end
		if (c >= minRateRequests && s >= minRateRequests) || !first.Before(start) {
			break
		}
		span *= 2
	}
	if r.start.Before(first) {
		// Before the first datum is before the canary took traffic.
		r.start = first
		span = end.Sub(first)
	}
	r.perMinute = c / span.Minutes()
	if c+s > 0 {
		r.share = c / (c + s)
	}
	// Expected rather than observed: with Poisson arrivals a period has
	// stable traffic with probability 1-exp(-stable requests per period),
	// which is smooth where the observed fraction of a few requests is not.
	r.paired = -math.Expm1(-s / (span.Minutes() / r.period.Minutes()))
	return r
}

// minRateRequests is how many requests a window needs on each side before
// its rate and share are taken as the current ones.
const minRateRequests = 10

// eta turns a number of canary requests into time at the recent rate.
func (r rate) eta(requests float64) time.Duration {
	if requests <= 0 {
		return 0
	}
	if !(r.perMinute > 0) || math.IsInf(requests, 1) {
		return -1
	}
	mins := requests / r.perMinute
	if mins > float64(math.MaxInt64/int64(time.Minute)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(mins * float64(time.Minute))
}
