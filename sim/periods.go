package sim

import (
	"time"

	"github.com/perch-dev/perch/sim/metrics"
)

// periodSchedule is the publishing clock both traffic models share: a
// period is generated once it has ended and the publish delay has passed,
// lazily, whenever the simulator's clock is read.
type periodSchedule struct {
	start     time.Time
	delay     time.Duration
	retention time.Duration

	next time.Time // start of the next period to generate
	now  time.Time // the time advance was last called with
}

func newPeriodSchedule(start time.Time, sc *Scenario) periodSchedule {
	return periodSchedule{
		start:     start,
		delay:     sc.PublishDelay.D(),
		retention: max(sc.History.D(), 6*time.Hour),
		next:      start.Add(-sc.History.D()).Truncate(metrics.Period),
		now:       start,
	}
}

// advance moves the schedule to now (never back), lets script play the
// scripted changes due by then, and calls publish for every period that
// has become visible. It returns the start of the next ungenerated period:
// routing changes before it are no longer needed.
func (s *periodSchedule) advance(now time.Time, script func(now time.Time), publish func(from time.Time)) time.Time {
	if now.After(s.now) {
		s.now = now
	}
	now = s.now
	script(now)
	// Periods older than the store keeps would be pruned at once.
	if floor := now.Add(-s.retention - s.delay - metrics.Period).Truncate(metrics.Period); s.next.Before(floor) {
		s.next = floor
	}
	for !s.next.Add(metrics.Period + s.delay).After(now) {
		publish(s.next)
		s.next = s.next.Add(metrics.Period)
	}
	return s.next
}

// routingChange is a target's split of traffic from a moment on.
type routingChange[S any] struct {
	at     time.Time
	shares S
}

// routing is one target's traffic split over time as the traffic models
// see it, and its scripted canary_weight events: a second operator
// rewriting the weights at set times.
type routing[S any] struct {
	// history holds every change still needed to generate ungenerated
	// periods; history[0] is in force before all others.
	history []routingChange[S]
	script  []weightEvent
	played  int // index of the next script event to play
}

// weightEvent is a scripted canary_weight: the canary's percent from at
// (after the simulator's start) on.
type weightEvent struct {
	at      time.Duration
	percent float64
}

func (r *routing[S]) lastAt() time.Time { return r.history[len(r.history)-1].at }

// record adds the split in force from at on.
func (r *routing[S]) record(at time.Time, s S) {
	last := &r.history[len(r.history)-1]
	if !at.After(last.at) {
		// Several changes at one instant: the last one wins.
		last.shares = s
		return
	}
	r.history = append(r.history, routingChange[S]{at: at, shares: s})
}

// playScript plays the script's events due by now: rewrite applies one
// (an error means the target can no longer take it, and it is skipped),
// then recorded notes the change at the event's own time, or at the latest
// recorded change if that is later.
func (r *routing[S]) playScript(start, now time.Time, rewrite func(percent float64) error, recorded func(at time.Time)) {
	for ; r.played < len(r.script); r.played++ {
		ev := r.script[r.played]
		at := start.Add(ev.at)
		if at.After(now) {
			return
		}
		if rewrite(ev.percent) != nil {
			continue
		}
		if last := r.lastAt(); at.Before(last) {
			at = last
		}
		recorded(at)
	}
}

// prune drops changes that no period from next on can need.
func (r *routing[S]) prune(next time.Time) {
	i := 0
	for i+1 < len(r.history) && !r.history[i+1].at.After(next) {
		i++
	}
	if i > 0 {
		r.history = append(r.history[:0], r.history[i:]...)
	}
}

// over walks [from, from+period) in the spans each split was in force
// (a change mid-period routes the rest of it the new way, as AWS does),
// calling add with the split and how long it held.
func (r *routing[S]) over(from time.Time, add func(s S, d time.Duration)) {
	to := from.Add(metrics.Period)
	cur := r.history[0]
	pos := from
	for _, h := range r.history[1:] {
		if !h.at.After(pos) {
			cur = h
			continue
		}
		if !h.at.Before(to) {
			break
		}
		add(cur.shares, h.at.Sub(pos))
		pos, cur = h.at, h
	}
	add(cur.shares, to.Sub(pos))
}
