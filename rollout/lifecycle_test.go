package rollout_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/perch-dev/perch/audit"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim/simtest"
)

// gatedRouter holds every WriteSplit until the test opens the gate.
type gatedRouter struct {
	rollout.Router
	entered chan struct{}
	gate    chan struct{}
}

func (g gatedRouter) WriteSplit(ctx context.Context, want model.Split) error {
	g.entered <- struct{}{}
	<-g.gate
	return g.Router.WriteSplit(ctx, want)
}

// closingLog is the audit log with a Close after which an append fails
// the test: nothing may be written once the session has shut down.
type closingLog struct {
	t      *testing.T
	log    *audit.Log
	mu     sync.Mutex
	closed bool
}

func (c *closingLog) Append(e model.AuditEntry) (model.AuditEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.t.Errorf("audit append after close: %+v", e)
	}
	return c.log.Append(e)
}

func (c *closingLog) Head() (int64, string, error) { return c.log.Head() }

func (c *closingLog) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.log.Close()
}

type firingAlarm struct{}

func (firingAlarm) Alarms(context.Context, []string) ([]model.Alarm, error) {
	return []model.Alarm{{Name: "checkout-5xx", State: model.AlarmAlarm, Reason: "test"}}, nil
}

// Quitting while the autopilot's rollback is in flight: stop waits for it,
// so the log holds its intent and its outcome, and nothing is appended
// after the log closes.
func TestStopWaitsForTheAutopilotsStepInFlight(t *testing.T) {
	var gr gatedRouter
	var guard *closingLog
	r := newALBRig(t, "healthy", func(env *simtest.Env, c *rollout.Config) {
		p, err := model.ParsePlan("10%:1h,100%")
		if err != nil {
			t.Fatal(err)
		}
		gr = gatedRouter{Router: c.Router, entered: make(chan struct{}), gate: make(chan struct{})}
		guard = &closingLog{t: t, log: c.Audit.(*audit.Log)}
		c.Router, c.Audit, c.Plan = gr, guard, &p
		c.Alarms, c.AlarmNames = firingAlarm{}, []string{"checkout-5xx"}
	})
	stop := r.engine.Start(context.Background())
	select {
	case <-gr.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the autopilot did not start its rollback")
	}
	stopped := make(chan struct{})
	go func() {
		stop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("stop returned while the rollback was still being written")
	default:
	}
	close(gr.gate)
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("stop did not return after the rollback finished")
	}
	guard.Close()
	// Nothing runs any more: an operator's late action is refused unwritten.
	if res := r.engine.Execute(context.Background(), model.Intent{Kind: model.StepUp, Actor: operator()}); res.Outcome != model.OutcomeRefused {
		t.Fatalf("action after stop: %+v", res)
	}
	r.env.Advance(time.Hour)

	entries, err := audit.ReadAll(r.path)
	if err != nil {
		t.Fatal(err)
	}
	if open := audit.PendingIntents(entries); len(open) != 0 {
		t.Fatalf("intents without an outcome: %+v", open)
	}
	var intent, outcome bool
	for _, e := range entries {
		if e.Action == "rollback" && e.Actor.Via == "autopilot" {
			intent = intent || e.Phase == model.PhaseIntent
			outcome = outcome || (e.Phase == model.PhaseOutcome && e.Verified)
		}
	}
	if !intent || !outcome {
		t.Fatalf("rollback intent %v, verified outcome %v in %+v", intent, outcome, entries)
	}
}
