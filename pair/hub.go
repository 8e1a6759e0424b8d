// Package pair shares one live engine among SSH viewers: each gets its own
// cockpit, exactly one of them drives, and every action is attributed to
// the SSH user and key that made it.
package pair

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/ui"
)

// DefaultHandOverIdle is how long a driver must have been idle before a
// request for the wheel passes without their answer.
const DefaultHandOverIdle = time.Minute

// Hub tracks the seats of one shared session and which of them drives. The
// first to join drives; when the driver leaves, the longest-connected
// watcher takes over.
type Hub struct {
	clk  clock.Clock
	idle time.Duration
	done chan struct{}

	mu     sync.Mutex
	seats  []*Seat // in joining order
	driver *Seat
	asker  *Seat
	// askGen invalidates idle timers armed for an earlier request.
	askGen int
	closed bool
}

// NewHub makes a hub whose hand-over timeout runs on clk. idle <= 0 means
// DefaultHandOverIdle.
func NewHub(clk clock.Clock, idle time.Duration) *Hub {
	if idle <= 0 {
		idle = DefaultHandOverIdle
	}
	return &Hub{clk: clk, idle: idle, done: make(chan struct{})}
}

// Close stops the hub's timers. Seats stay readable.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// Seat is one viewer of a shared session. It implements ui.Pairing.
type Seat struct {
	hub     *Hub
	name    string
	actor   model.Actor
	changed chan struct{}
	// lastActive is guarded by hub.mu.
	lastActive time.Time
	left       bool
}

var _ ui.Pairing = (*Seat)(nil)

// Join adds a viewer. name is what others see (made unique with a suffix
// when two people log in as the same user); actor is who their intents
// are sent as.
func (h *Hub) Join(name string, actor model.Actor) *Seat {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &Seat{hub: h, name: h.uniqueLocked(name), actor: actor, changed: make(chan struct{}, 1), lastActive: h.clk.Now()}
	h.seats = append(h.seats, s)
	if h.driver == nil {
		h.driver = s
	}
	h.notifyLocked()
	return s
}

func (h *Hub) uniqueLocked(name string) string {
	if name == "" {
		name = "?"
	}
	taken := func(n string) bool {
		for _, s := range h.seats {
			if s.name == n {
				return true
			}
		}
		return false
	}
	out := name
	for i := 2; taken(out); i++ {
		out = name + "#" + strconv.Itoa(i)
	}
	return out
}

// Leave removes the seat; a departing driver hands the wheel to the
// longest-connected watcher.
func (s *Seat) Leave() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.left {
		return
	}
	s.left = true
	for i, o := range h.seats {
		if o == s {
			h.seats = append(h.seats[:i], h.seats[i+1:]...)
			break
		}
	}
	if h.asker == s {
		h.asker = nil
		h.askGen++
	}
	if h.driver == s {
		h.driver = nil
		if len(h.seats) > 0 {
			h.passLocked(h.seats[0])
		}
	}
	h.notifyLocked()
}

// Name is the seat's display name.
func (s *Seat) Name() string { return s.name }

// Actor is who this seat's intents are sent as.
func (s *Seat) Actor() model.Actor { return s.actor }

// Driving reports whether this seat drives now.
func (s *Seat) Driving() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.hub.driver == s
}

// Pair is the session as this seat sees it.
func (s *Seat) Pair() ui.PairState {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	p := ui.PairState{Me: s.name, Driving: h.driver == s}
	if h.driver != nil {
		p.Driver = h.driver.name
	}
	for _, o := range h.seats {
		if o != h.driver {
			p.Watchers = append(p.Watchers, o.name)
		}
	}
	if h.asker != nil {
		p.Asker = h.asker.name
		if h.driver != nil {
			p.PassesAt = h.driver.lastActive.Add(h.idle)
		}
	}
	return p
}

// Changed is signalled whenever Pair may have changed.
func (s *Seat) Changed() <-chan struct{} { return s.changed }

// Active records a key press: a driver who types is not idle.
func (s *Seat) Active() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	s.lastActive = h.clk.Now()
	if h.driver == s && h.asker != nil {
		// The deadline shown to everyone moved.
		h.notifyLocked()
	}
}

// AskForWheel asks the driver for the wheel. It passes at once when the
// driver has been idle for the hub's timeout (or there is no driver), and
// later by itself if the driver stays idle until then.
func (s *Seat) AskForWheel() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.left || h.driver == s {
		return
	}
	if h.driver == nil || !h.clk.Now().Before(h.driver.lastActive.Add(h.idle)) {
		h.passLocked(s)
		h.notifyLocked()
		return
	}
	h.asker = s
	h.askGen++
	h.armLocked(h.askGen)
	h.notifyLocked()
}

// HandOver passes the wheel to whoever asked; only the driver can.
func (s *Seat) HandOver() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.driver != s || h.asker == nil {
		return
	}
	h.passLocked(h.asker)
	h.notifyLocked()
}

// KeepWheel declines the pending request; only the driver can.
func (s *Seat) KeepWheel() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.driver != s || h.asker == nil {
		return
	}
	h.asker = nil
	h.askGen++
	h.notifyLocked()
}

func (h *Hub) passLocked(to *Seat) {
	h.driver = to
	h.asker = nil
	h.askGen++
	// The new driver starts with a clean idle record: the next request
	// must not pass straight back because they have not typed yet.
	to.lastActive = h.clk.Now()
}

// armLocked waits on the clock until the driver's idle time would reach
// the timeout, then passes the wheel if they are still idle, or waits
// again from their newer activity.
func (h *Hub) armLocked(gen int) {
	wait := h.driver.lastActive.Add(h.idle).Sub(h.clk.Now())
	timer := h.clk.After(wait)
	go func() {
		select {
		case <-h.done:
			return
		case <-timer:
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if gen != h.askGen || h.asker == nil || h.driver == nil {
			return
		}
		if h.clk.Now().Before(h.driver.lastActive.Add(h.idle)) {
			h.armLocked(gen)
			return
		}
		h.passLocked(h.asker)
		h.notifyLocked()
	}()
}

func (h *Hub) notifyLocked() {
	for _, s := range h.seats {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}

// State says who drives and who watches, for logs and tests.
func (h *Hub) State() (driver string, watchers []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.driver != nil {
		driver = h.driver.name
	}
	for _, s := range h.seats {
		if s != h.driver {
			watchers = append(watchers, s.name)
		}
	}
	return driver, watchers
}

// Engine wraps eng for this seat: intents are refused unless the seat
// drives when they reach the engine, and are always sent as the seat's
// actor, whatever the cockpit put in them.
func (s *Seat) Engine(eng rollout.Control) rollout.Control { return seatEngine{Control: eng, seat: s} }

type seatEngine struct {
	rollout.Control
	seat *Seat
}

func (e seatEngine) Execute(ctx context.Context, in model.Intent) model.Result {
	in.Actor = e.seat.actor
	if !e.seat.Driving() {
		driver, _ := e.seat.hub.State()
		return model.Refused(in, model.ReasonNotDriving, "you are watching: "+driver+" drives, nothing was sent")
	}
	return e.Control.Execute(ctx, in)
}
