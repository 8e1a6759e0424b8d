package evaluate

import (
	"context"
	"errors"
	"sync"
	"time"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
)

// requestTally counts requests per period once, however often a period is
// read again.
type requestTally [2]map[time.Time]float64

func (t *requestTally) put(side model.Side, pts []model.Point) {
	if t[side] == nil {
		t[side] = map[time.Time]float64{}
	}
	for _, p := range pts {
		t[side][p.T] = p.V
	}
}

func (t *requestTally) add(sig model.Signals) {
	for _, side := range model.Sides {
		t.put(side, sig[side][model.Requests])
	}
}

func (t *requestTally) addData(data []model.SeriesData) {
	for _, sd := range data {
		if sd.Signal == model.Requests {
			t.put(sd.Side, sd.Points)
		}
	}
}

// totals adds up the periods that start before end.
func (t *requestTally) totals(end time.Time) (canary, all float64) {
	for _, side := range model.Sides {
		for at, v := range t[side] {
			if !at.Before(end) {
				continue
			}
			all += v
			if side == model.Canary {
				canary += v
			}
		}
	}
	return canary, all
}

// periodMetrics reads through the real adapter only when a period has
// become visible since its last read: the simulator publishes a period
// once, publish_delay after it ends, so a read in between returns what the
// last one did. Answering it from memory gives the engine the same data
// at every poll for a sixth of the calls.
type periodMetrics struct {
	inner   *perchaws.Metrics
	delay   time.Duration
	last    []model.SeriesData
	visible time.Time // newest period end visible at the last read
	fetches int
}

// stale reports whether a period has become visible since the last read
// (or nothing was read yet): only then can a read at now bring new data.
func (p *periodMetrics) stale(now time.Time) bool {
	return p.last == nil || now.Add(-p.delay).Truncate(time.Minute).After(p.visible)
}

func (p *periodMetrics) Fetch(ctx context.Context, start, end time.Time) ([]model.SeriesData, error) {
	visible := end.Add(-p.delay).Truncate(time.Minute)
	if p.last != nil && !visible.After(p.visible) {
		return p.last, nil
	}
	data, err := p.inner.Fetch(ctx, start, end)
	p.fetches++
	if err != nil {
		return nil, err
	}
	p.last, p.visible = data, visible
	return data, nil
}

// scriptedRouter reads the split through the real router at attach and
// again after each scripted weight change; nothing else moves it, since
// an evaluation never writes.
type scriptedRouter struct {
	inner   *perchaws.ALBRouter
	clock   clock.Clock
	start   time.Time
	changes []time.Duration

	mu    sync.Mutex
	split model.Split
	read  time.Time
	ok    bool
}

func (r *scriptedRouter) Target() model.Target { return r.inner.Target() }

func (r *scriptedRouter) ReadSplit(ctx context.Context) (model.Split, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	stale := !r.ok
	for _, c := range r.changes {
		if at := r.start.Add(c); at.After(r.read) && !at.After(now) {
			stale = true
		}
	}
	if !stale {
		return r.split, nil
	}
	s, err := r.inner.ReadSplit(ctx)
	if err != nil {
		return model.Split{}, err
	}
	r.split, r.read, r.ok = s, now, true
	return s, nil
}

func (r *scriptedRouter) WriteSplit(context.Context, model.Split) error {
	return errors.New("evaluate never moves traffic")
}

// discardAudit: an evaluation changes nothing, and there is nothing to
// keep of the engine's drift notes.
type discardAudit struct{}

func (discardAudit) Append(e model.AuditEntry) (model.AuditEntry, error) { return e, nil }

// Head: a log that keeps nothing has no head to show.
func (discardAudit) Head() (int64, string, error) { return 0, "", nil }
