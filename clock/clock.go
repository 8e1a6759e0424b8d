// Package clock gives the engine and the simulator their notion of time, so
// that a 30-minute rollout can run in a test in milliseconds.
package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock is the time source everything in perch is given instead of calling
// time.Now directly.
type Clock interface {
	Now() time.Time
	// After fires once the clock has advanced by at least d.
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock.
type Real struct{}

func (Real) Now() time.Time                         { return time.Now() }
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Scaled runs speed times faster than the wall clock from a chosen origin.
// The demo gives the same Scaled clock to the simulator and the engine, so
// both agree on simulated time.
type Scaled struct {
	origin    time.Time
	wallStart time.Time
	speed     float64
}

// NewScaled starts a clock that reads origin now and advances speed times
// faster than wall time. speed <= 0 is treated as 1.
func NewScaled(origin time.Time, speed float64) *Scaled {
	if speed <= 0 {
		speed = 1
	}
	return &Scaled{origin: origin, wallStart: time.Now(), speed: speed}
}

func (s *Scaled) Now() time.Time {
	elapsed := time.Since(s.wallStart)
	return s.origin.Add(time.Duration(float64(elapsed) * s.speed))
}

func (s *Scaled) After(d time.Duration) <-chan time.Time {
	out := make(chan time.Time, 1)
	wall := time.Duration(float64(d) / s.speed)
	time.AfterFunc(wall, func() { out <- s.Now() })
	return out
}

// Speed reports how many simulated seconds pass per wall second.
func (s *Scaled) Speed() float64 { return s.speed }

// Manual only moves when told to: tests advance it explicitly.
type Manual struct {
	mu      sync.Mutex
	armed   *sync.Cond // signalled whenever a timer is armed
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewManual returns a manual clock reading start.
func NewManual(start time.Time) *Manual {
	m := &Manual{now: start}
	m.armed = sync.NewCond(&m.mu)
	return m
}

func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *Manual) After(d time.Duration) <-chan time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := m.now.Add(d)
	if d <= 0 {
		ch <- m.now
		return ch
	}
	m.waiters = append(m.waiters, waiter{at: at, ch: ch})
	m.armed.Broadcast()
	return ch
}

// Advance moves the clock forward by d and fires every timer that fell due,
// in due order.
func (m *Manual) Advance(d time.Duration) {
	m.Set(m.Now().Add(d))
}

// Set moves the clock to t (never backwards) and fires due timers.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	if t.After(m.now) {
		m.now = t
	}
	now := m.now
	var due, rest []waiter
	for _, w := range m.waiters {
		if !w.at.After(now) {
			due = append(due, w)
		} else {
			rest = append(rest, w)
		}
	}
	m.waiters = rest
	m.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, w := range due {
		w.ch <- now
	}
}

// BlockUntil waits until at least n timers are armed: a test uses it to
// know a loop is waiting on the clock before advancing it, without sleeping.
func (m *Manual) BlockUntil(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.waiters) < n {
		m.armed.Wait()
	}
}

// Pending reports how many timers are waiting; tests use it to know a loop
// has armed its next tick before advancing.
func (m *Manual) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.waiters)
}
