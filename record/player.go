package record

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/internal/broadcast"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
)

// Speeds are the replay speeds < and > step through.
var speeds = []float64{0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500}

// Player re-publishes a recording's snapshots on a clock, as a read-only
// engine for the cockpit (rollout.Control) with pause, seek and speed
// (ui.Replay).
type Player struct {
	rec  *Recording
	clk  clock.Clock
	kick chan struct{}

	mu sync.Mutex
	// The position is base at clock time since, moving speed times as
	// fast as the clock while playing.
	base    time.Time
	since   time.Time
	playing bool
	speed   float64
	shown   int // the frame published last
	cur     model.Snapshot
	subs    broadcast.Latest[model.Snapshot]
}

var _ rollout.Control = (*Player)(nil)

// NewPlayer starts at the first frame, playing at speed (<= 0: 1).
func NewPlayer(rec *Recording, clk clock.Clock, speed float64) *Player {
	if speed <= 0 {
		speed = 1
	}
	p := &Player{
		rec: rec, clk: clk, kick: make(chan struct{}, 1),
		base: rec.Start(), since: clk.Now(), playing: true, speed: speed,
	}
	p.cur = rec.Snapshot(0)
	return p
}

// Run moves through the recording until ctx ends.
func (p *Player) Run(ctx context.Context) {
	for {
		p.mu.Lock()
		now := p.clk.Now()
		pos := p.posLocked(now)
		if i := p.rec.FrameAt(pos); i != p.shown {
			p.showLocked(i)
		}
		var timer <-chan time.Time
		if p.playing && p.shown < len(p.rec.Frames)-1 {
			gap := p.rec.Frames[p.shown+1].At.Sub(pos)
			// Round up: landing a nanosecond short of the next frame
			// would wake the loop again and again without reaching it.
			wait := time.Duration(math.Ceil(float64(gap) / p.speed))
			timer = p.clk.After(max(wait, 1))
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-timer:
		case <-p.kick:
		}
	}
}

// posLocked is the recorded time shown at clock time now.
func (p *Player) posLocked(now time.Time) time.Time {
	pos := p.base
	if p.playing {
		pos = pos.Add(time.Duration(float64(now.Sub(p.since)) * p.speed))
	}
	if end := p.rec.End(); pos.After(end) {
		pos = end
	}
	if start := p.rec.Start(); pos.Before(start) {
		pos = start
	}
	return pos
}

func (p *Player) showLocked(i int) {
	p.shown = i
	p.cur = p.rec.Snapshot(i)
	p.subs.Publish(p.cur)
}

// control rebases the position to now, applies change, shows the frame
// at the new position and wakes Run to re-arm its timer.
func (p *Player) control(change func(pos time.Time)) {
	p.mu.Lock()
	now := p.clk.Now()
	pos := p.posLocked(now)
	p.base, p.since = pos, now
	change(pos)
	p.base = p.posLocked(now) // clamp
	if i := p.rec.FrameAt(p.base); i != p.shown {
		p.showLocked(i)
	}
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Snapshot is the frame shown now.
func (p *Player) Snapshot() model.Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// Subscribe delivers each frame shown, latest wins.
func (p *Player) Subscribe() (<-chan model.Snapshot, func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.subs.Subscribe(p.cur)
}

// Execute refuses every action, saying so: a recording cannot move
// traffic, steer an autopilot or mark a canary.
func (p *Player) Execute(_ context.Context, in model.Intent) model.Result {
	msg := "replay: a recording cannot move traffic"
	if !in.Kind.MovesTraffic() {
		msg = fmt.Sprintf("replay: %s is not available in a replay (the recording only shows what happened)", in.Kind.Action())
	}
	return model.Refused(in, model.ReasonUnsupported, msg)
}

// Replay says where the replay is.
func (p *Player) Replay() model.ReplayState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return model.ReplayState{
		Paused: !p.playing, Speed: p.speed,
		At: p.posLocked(p.clk.Now()), Start: p.rec.Start(), End: p.rec.End(),
	}
}

// TogglePause pauses or resumes; resuming at the end starts over.
func (p *Player) TogglePause() {
	p.control(func(pos time.Time) {
		if !p.playing && !pos.Before(p.rec.End()) {
			p.base = p.rec.Start()
		}
		p.playing = !p.playing
	})
}

// Seek moves by d within the recording.
func (p *Player) Seek(d time.Duration) {
	p.control(func(pos time.Time) { p.base = pos.Add(d) })
}

// SeekStart goes to the first frame.
func (p *Player) SeekStart() { p.control(func(time.Time) { p.base = p.rec.Start() }) }

// SeekEnd goes to the last frame.
func (p *Player) SeekEnd() { p.control(func(time.Time) { p.base = p.rec.End() }) }

// Faster and Slower step through the speeds.
func (p *Player) Faster() { p.control(func(time.Time) { p.speed = stepSpeed(p.speed, +1) }) }
func (p *Player) Slower() { p.control(func(time.Time) { p.speed = stepSpeed(p.speed, -1) }) }

func stepSpeed(cur float64, dir int) float64 {
	if dir > 0 {
		for _, s := range speeds {
			if s > cur*1.0001 {
				return s
			}
		}
		return speeds[len(speeds)-1]
	}
	for i := len(speeds) - 1; i >= 0; i-- {
		if speeds[i] < cur*0.9999 {
			return speeds[i]
		}
	}
	return speeds[0]
}
