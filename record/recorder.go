package record

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
)

// Recorder writes every snapshot an engine publishes, and every action
// sent through Engine(), to a Writer.
type Recorder struct {
	eng rollout.Control
	w   *Writer
	clk clock.Clock

	stopOnce sync.Once
	cancel   func()
	stop     chan struct{} // closed by Stop
	done     chan struct{} // closed by the loop as it ends

	mu      sync.Mutex
	cond    *sync.Cond
	written uint64 // Seq of the newest snapshot written
	err     error  // the first write error
}

// Start subscribes to eng and records until Stop. Frames are stamped with
// clk, the clock the engine runs on, so a replay keeps their spacing.
func Start(eng rollout.Control, w *Writer, clk clock.Clock) *Recorder {
	updates, cancel := eng.Subscribe()
	r := &Recorder{eng: eng, w: w, clk: clk, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{})}
	r.cond = sync.NewCond(&r.mu)
	go r.loop(updates)
	return r
}

func (r *Recorder) loop(updates <-chan model.Snapshot) {
	defer close(r.done)
	for {
		select {
		case s, ok := <-updates:
			if !ok {
				return
			}
			r.write(s)
		case <-r.stop:
			// Take the newest snapshot if one is waiting, then end.
			select {
			case s, ok := <-updates:
				if ok {
					r.write(s)
				}
			default:
			}
			return
		}
	}
}

func (r *Recorder) write(s model.Snapshot) {
	err := r.w.Snapshot(r.clk.Now(), s)
	r.mu.Lock()
	if err != nil && r.err == nil {
		r.err = err
	}
	if s.Seq > r.written {
		r.written = s.Seq
	}
	r.cond.Broadcast()
	r.mu.Unlock()
}

// Engine is eng with its actions recorded: the intent before it runs, the
// result after.
func (r *Recorder) Engine() rollout.Control { return recordingEngine{Control: r.eng, r: r} }

type recordingEngine struct {
	rollout.Control
	r *Recorder
}

func (e recordingEngine) Execute(ctx context.Context, in model.Intent) model.Result {
	e.r.action(in, nil)
	res := e.Control.Execute(ctx, in)
	e.r.action(in, &res)
	return res
}

func (r *Recorder) action(in model.Intent, res *model.Result) {
	if err := r.w.Action(r.clk.Now(), in, res); err != nil {
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
	}
}

// WaitSeq blocks until the snapshot numbered seq (or a newer one) has been
// written, or timeout passes. Tests use it; so does a clean shutdown.
func (r *Recorder) WaitSeq(seq uint64, timeout time.Duration) error {
	timer := time.AfterFunc(timeout, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.written < seq {
		if !time.Now().Before(deadline) {
			return fmt.Errorf("recorder: snapshot %d not written within %v (newest %d)", seq, timeout, r.written)
		}
		r.cond.Wait()
	}
	return r.err
}

// Err is the first write error, if any.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Stop unsubscribes, writes the newest snapshot if it was not yet, and
// closes the recording.
func (r *Recorder) Stop() error {
	var err error
	r.stopOnce.Do(func() {
		last := r.eng.Snapshot().Seq
		// Best effort: the loop may be one snapshot behind.
		_ = r.WaitSeq(last, 2*time.Second)
		close(r.stop)
		<-r.done
		r.cancel()
		err = errors.Join(r.Err(), r.w.Close())
	})
	return err
}
