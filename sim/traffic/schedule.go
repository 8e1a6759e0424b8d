// Package traffic is what the simulator's traffic models share: the
// publishing schedule (a period is generated once it has ended and the
// publish delay has passed), a target's routing history and scripted weight
// events, and the seeded samplers that turn rates into counts and latency
// histograms. The models themselves live with the service whose metrics they
// publish (elbv2 for AWS/ApplicationELB, lambda for AWS/Lambda).
package traffic

import (
	"time"

	"github.com/perch-dev/perch/sim/metrics"
)

// Schedule is the publishing clock the traffic models share: a
// period is generated once it has ended and the publish delay has passed,
// lazily, whenever the simulator's clock is read.
type Schedule struct {
	start     time.Time
	delay     time.Duration
	retention time.Duration

	next time.Time // start of the next period to generate
	now  time.Time // the time advance was last called with
}

// NewSchedule starts publishing history before start, each period delay
// after it ends.
func NewSchedule(start time.Time, history, delay time.Duration) Schedule {
	return Schedule{
		start:     start,
		delay:     delay,
		retention: max(history, 6*time.Hour),
		next:      start.Add(-history).Truncate(metrics.Period),
		now:       start,
	}
}

// Start is the simulator's start, which scripted events count from.
func (s *Schedule) Start() time.Time { return s.start }

// Now is the latest time Advance was called with.
func (s *Schedule) Now() time.Time { return s.now }

// Advance moves the schedule to now (never back), lets script play the
// scripted changes due by then, and calls publish for every period that
// has become visible. It returns the start of the next ungenerated period:
// routing changes before it are no longer needed.
func (s *Schedule) Advance(now time.Time, script func(now time.Time), publish func(from time.Time)) time.Time {
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

// Routing is one target's traffic split over time as the traffic models
// see it, and its scripted canary_weight events: a second operator
// rewriting the weights at set times.
type Routing[S any] struct {
	// history holds every change still needed to generate ungenerated
	// periods; history[0] is in force before all others.
	history []routingChange[S]
	script  []WeightEvent
	played  int // index of the next script event to play
}

// WeightEvent is a scripted canary_weight: the canary's Percent from At
// (after the simulator's start) on.
type WeightEvent struct {
	At      time.Duration
	Percent float64
}

// NewRouting starts a routing history with the split in force now and the
// scripted events to play.
func NewRouting[S any](initial S, script []WeightEvent) Routing[S] {
	return Routing[S]{history: []routingChange[S]{{shares: initial}}, script: script}
}

// Changes is how many changes the history holds (pruning keeps it short).
func (r *Routing[S]) Changes() int { return len(r.history) }

func (r *Routing[S]) lastAt() time.Time { return r.history[len(r.history)-1].at }

// Record adds the split in force from at on.
func (r *Routing[S]) Record(at time.Time, s S) {
	last := &r.history[len(r.history)-1]
	if !at.After(last.at) {
		// Several changes at one instant: the last one wins.
		last.shares = s
		return
	}
	r.history = append(r.history, routingChange[S]{at: at, shares: s})
}

// PlayScript plays the script's events due by now: rewrite applies one
// (an error means the target can no longer take it, and it is skipped),
// then recorded notes the change at the event's own time, or at the latest
// recorded change if that is later.
func (r *Routing[S]) PlayScript(start, now time.Time, rewrite func(percent float64) error, recorded func(at time.Time)) {
	for ; r.played < len(r.script); r.played++ {
		ev := r.script[r.played]
		at := start.Add(ev.At)
		if at.After(now) {
			return
		}
		if rewrite(ev.Percent) != nil {
			continue
		}
		if last := r.lastAt(); at.Before(last) {
			at = last
		}
		recorded(at)
	}
}

// Prune drops changes that no period from next on can need.
func (r *Routing[S]) Prune(next time.Time) {
	i := 0
	for i+1 < len(r.history) && !r.history[i+1].at.After(next) {
		i++
	}
	if i > 0 {
		r.history = append(r.history[:0], r.history[i:]...)
	}
}

// Over walks [from, from+period) in the spans each split was in force
// (a change mid-period routes the rest of it the new way, as AWS does),
// calling add with the split and how long it held.
func (r *Routing[S]) Over(from time.Time, add func(s S, d time.Duration)) {
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
