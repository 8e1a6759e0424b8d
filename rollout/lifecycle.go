package rollout

import (
	"context"
	"sync"
)

// Start runs the poll loop in the background. The returned stop ends it in
// order: new actions are refused, the one in flight (an operator's or the
// autopilot's) finishes and is audited, then the loop is cancelled and
// waited for. After stop returns the engine writes nothing more, so the
// audit log can be closed.
func (e *Engine) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.Run(ctx)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			e.Stop()
			cancel()
			wg.Wait()
			e.StopLogQueries()
		})
	}
}

// Stop refuses every action from now on and waits for the one in flight,
// if any, to finish with its outcome audited.
func (e *Engine) Stop() {
	e.actMu.Lock()
	defer e.actMu.Unlock()
	e.stopped = true
}

// Start runs the fleet's poller in the background; stop ends it as
// Engine.Start's does, for every member.
func (f *Fleet) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.Run(ctx)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			for _, m := range f.cfg.Members {
				m.Engine.Stop()
			}
			cancel()
			wg.Wait()
			for _, m := range f.cfg.Members {
				m.Engine.StopLogQueries()
			}
		})
	}
}
