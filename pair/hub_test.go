package pair

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
)

var t0 = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

func actor(name string) model.Actor {
	return model.Actor{OSUser: name, Via: "ssh:" + name + " SHA256:test"}
}

// waitDriver waits (bounded) until s's view says who drives.
func waitDriver(t *testing.T, s *Seat, want string) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		if got := s.Pair().Driver; got == want {
			return
		}
		select {
		case <-s.Changed():
		case <-deadline.C:
			t.Fatalf("%s: driver is %q, want %q", s.Name(), s.Pair().Driver, want)
		}
	}
}

func TestFirstToJoinDrivesAndLeavingPassesOn(t *testing.T) {
	h := NewHub(clock.NewManual(t0), time.Minute)
	defer h.Close()
	ana := h.Join("ana", actor("ana"))
	bob := h.Join("bob", actor("bob"))
	bob2 := h.Join("bob", actor("bob"))
	if bob2.Name() != "bob#2" {
		t.Errorf("second bob is %q, want bob#2", bob2.Name())
	}
	d, w := h.State()
	if d != "ana" || strings.Join(w, ",") != "bob,bob#2" {
		t.Fatalf("state %q %v", d, w)
	}
	p := bob.Pair()
	if p.Driving || p.Driver != "ana" || p.Me != "bob" || len(p.Watchers) != 2 {
		t.Errorf("bob sees %+v", p)
	}
	if !ana.Pair().Driving || !ana.Driving() || bob.Driving() {
		t.Error("ana should drive, bob not")
	}
	ana.Leave()
	ana.Leave() // twice is harmless
	if d, w := h.State(); d != "bob" || strings.Join(w, ",") != "bob#2" {
		t.Fatalf("after the driver left: %q %v, want the longest-connected watcher to drive", d, w)
	}
	bob.Leave()
	bob2.Leave()
	if d, w := h.State(); d != "" || len(w) != 0 {
		t.Fatalf("empty hub: %q %v", d, w)
	}
	cy := h.Join("cy", actor("cy"))
	if !cy.Driving() {
		t.Error("the first to join an empty hub drives")
	}
}

func TestHandOverAndKeep(t *testing.T) {
	clk := clock.NewManual(t0)
	h := NewHub(clk, time.Minute)
	defer h.Close()
	ana, bob := h.Join("ana", actor("ana")), h.Join("bob", actor("bob"))

	// Only a watcher can ask, only the driver can answer.
	ana.AskForWheel()
	bob.HandOver()
	bob.KeepWheel()
	if bob.Pair().Asker != "" || !ana.Driving() {
		t.Fatalf("nothing should have changed: %+v", bob.Pair())
	}

	bob.AskForWheel()
	p := ana.Pair()
	if p.Asker != "bob" || !p.PassesAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("ana sees %+v, want bob asking, passing at %v", p, t0.Add(time.Minute))
	}
	ana.KeepWheel()
	if ana.Pair().Asker != "" || !ana.Driving() {
		t.Fatalf("kept: %+v", ana.Pair())
	}
	bob.AskForWheel()
	ana.HandOver()
	if !bob.Driving() || ana.Driving() || bob.Pair().Asker != "" {
		t.Fatalf("handed over: bob %+v", bob.Pair())
	}
	// A declined or answered request leaves no timer behind that could
	// pass the wheel later.
	clk.Advance(2 * time.Minute)
	if !bob.Driving() {
		t.Fatal("a stale timer moved the wheel")
	}
}

func TestIdleDriverLosesTheWheelOnTheClock(t *testing.T) {
	clk := clock.NewManual(t0)
	h := NewHub(clk, time.Minute)
	defer h.Close()
	ana, bob := h.Join("ana", actor("ana")), h.Join("bob", actor("bob"))

	clk.Advance(10 * time.Second)
	ana.Active()
	bob.AskForWheel() // ana typed 0s ago: the request waits
	if !ana.Driving() {
		t.Fatal("an active driver lost the wheel at once")
	}
	clk.BlockUntil(1)
	clk.Advance(30 * time.Second)
	ana.Active() // still at the keyboard: the deadline moves
	if got := bob.Pair().PassesAt; !got.Equal(clk.Now().Add(time.Minute)) {
		t.Errorf("PassesAt %v, want a minute after ana's last key", got)
	}
	clk.Advance(30 * time.Second) // the first timer fires, finds ana active
	clk.BlockUntil(1)             // and waits again from her last key
	if !ana.Driving() {
		t.Fatal("the wheel passed although the driver typed 30s ago")
	}
	clk.Advance(30 * time.Second)
	waitDriver(t, bob, "bob")
	if ana.Driving() {
		t.Fatal("two drivers")
	}
}

func TestAskingAnAlreadyIdleDriverPassesAtOnce(t *testing.T) {
	clk := clock.NewManual(t0)
	h := NewHub(clk, time.Minute)
	defer h.Close()
	ana, bob := h.Join("ana", actor("ana")), h.Join("bob", actor("bob"))
	clk.Advance(61 * time.Second)
	bob.AskForWheel()
	if !bob.Driving() || ana.Driving() {
		t.Fatal("the driver had been idle over a minute: the wheel should pass at once")
	}
	// The new driver is not idle just because they have not typed yet.
	ana.AskForWheel()
	if !bob.Driving() || ana.Pair().Asker != "ana" {
		t.Fatalf("bob just got the wheel; ana's request should wait: %+v", ana.Pair())
	}
}

func TestChangedIsSignalledToEverySeat(t *testing.T) {
	h := NewHub(clock.NewManual(t0), time.Minute)
	defer h.Close()
	ana := h.Join("ana", actor("ana"))
	<-ana.Changed() // her own join
	bob := h.Join("bob", actor("bob"))
	select {
	case <-ana.Changed():
	default:
		t.Fatal("ana was not told bob joined")
	}
	<-bob.Changed()
	bob.AskForWheel()
	for _, s := range []*Seat{ana, bob} {
		select {
		case <-s.Changed():
		default:
			t.Fatalf("%s was not told about the request", s.Name())
		}
	}
}

// recordingEngine is a rollout.Control that records what reaches Execute.
type recordingEngine struct {
	mu  sync.Mutex
	got []model.Intent
}

func (e *recordingEngine) Snapshot() model.Snapshot { return model.Snapshot{} }
func (e *recordingEngine) Subscribe() (<-chan model.Snapshot, func()) {
	return make(chan model.Snapshot), func() {}
}
func (e *recordingEngine) Execute(_ context.Context, in model.Intent) model.Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, in)
	return model.Result{Intent: in, Outcome: model.OutcomeOK}
}

func TestSeatEngineRefusesWatchersAndStampsTheActor(t *testing.T) {
	h := NewHub(clock.NewManual(t0), time.Minute)
	defer h.Close()
	ana, bob := h.Join("ana", actor("ana")), h.Join("bob", actor("bob"))
	eng := &recordingEngine{}
	ctx := context.Background()

	forged := model.Intent{Kind: model.StepUp, Actor: model.Actor{OSUser: "root", Via: "cockpit"}}
	res := bob.Engine(eng).Execute(ctx, forged)
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, "ana drives") {
		t.Fatalf("watcher's intent: %+v", res)
	}
	res = ana.Engine(eng).Execute(ctx, forged)
	if res.Outcome != model.OutcomeOK {
		t.Fatalf("driver's intent: %+v", res)
	}
	if len(eng.got) != 1 || eng.got[0].Actor != actor("ana") {
		t.Fatalf("engine saw %+v; want one intent sent as ana's seat, whatever the cockpit claimed", eng.got)
	}
}

// Pausing the autopilot is an intent like any other: the driver's seat
// passes it on, a watcher's refuses it with the reason.
func TestSeatEngineSteersTheAutopilotOnlyForTheDriver(t *testing.T) {
	h := NewHub(clock.NewManual(t0), time.Minute)
	defer h.Close()
	ana, bob := h.Join("ana", actor("ana")), h.Join("bob", actor("bob"))
	eng := &recordingEngine{}
	ctx := context.Background()
	for _, kind := range []model.IntentKind{model.Pause, model.Resume, model.ConfirmCanary} {
		if res := bob.Engine(eng).Execute(ctx, model.Intent{Kind: kind}); res.Outcome != model.OutcomeRefused || res.Reason != model.ReasonNotDriving {
			t.Fatalf("watcher's %s: %+v", kind, res)
		}
		if res := ana.Engine(eng).Execute(ctx, model.Intent{Kind: kind}); res.Outcome != model.OutcomeOK {
			t.Fatalf("driver's %s: %+v", kind, res)
		}
	}
	if len(eng.got) != 3 || eng.got[0].Kind != model.Pause || eng.got[1].Kind != model.Resume || eng.got[0].Actor != actor("ana") {
		t.Fatalf("engine saw %+v", eng.got)
	}
}
