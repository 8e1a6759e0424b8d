package ui

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/perch-dev/perch/model"
)

// fakeEngine fakes perch's own Engine interface with hand-built snapshots.
// With apply set it moves the split as asked and publishes a new snapshot,
// like the real engine does after a verified write.
type fakeEngine struct {
	mu       sync.Mutex
	snap     model.Snapshot
	subs     map[int]chan model.Snapshot
	nextSub  int
	executed []model.Intent
	apply    bool
	block    chan struct{} // when set, Execute waits for it to close
	refuse   *model.Result // when set, Execute answers every intent with it
}

func newFake(s model.Snapshot) *fakeEngine {
	return &fakeEngine{snap: s, subs: map[int]chan model.Snapshot{}}
}

func (f *fakeEngine) Snapshot() model.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeEngine) Subscribe() (<-chan model.Snapshot, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan model.Snapshot, 1)
	id := f.nextSub
	f.nextSub++
	f.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			delete(f.subs, id)
			close(ch)
		})
	}
}

// publish replaces the snapshot and delivers it, latest wins.
func (f *fakeEngine) publish(s model.Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap = s
	for _, ch := range f.subs {
		select {
		case <-ch:
		default:
		}
		ch <- s
	}
}

func (f *fakeEngine) Execute(ctx context.Context, in model.Intent) model.Result {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	f.executed = append(f.executed, in)
	s := f.snap
	f.mu.Unlock()
	res := model.Result{Intent: in, From: s.Split, To: s.Split}
	if f.refuse != nil {
		res = *f.refuse
		res.Intent = in
		return res
	}
	if in.Kind == model.Pause || in.Kind == model.Resume {
		res.Outcome, res.Verified = model.OutcomeOK, true
		return res
	}
	if !f.apply {
		res.Outcome, res.Err = model.OutcomeRefused, "fake engine does not apply intents"
		return res
	}
	to, err := in.Target(s.Split, s.Ladder)
	if err != nil {
		res.Outcome, res.Err = model.OutcomeRefused, err.Error()
		return res
	}
	s.Seq++
	s.Split = s.Split.WithCanaryPercent(to)
	res.Outcome, res.To, res.Verified = model.OutcomeOK, s.Split, true
	s.Last = &res
	s.Audit = append(append([]model.AuditEntry(nil), s.Audit...), model.AuditEntry{
		Seq: int64(len(s.Audit) + 1), Time: s.Now, Actor: in.Actor, Target: s.Target.Name,
		Action: in.Kind.Action(), Phase: model.PhaseOutcome, Outcome: model.OutcomeOK,
		From: model.Pct(res.From.CanaryPercent()), To: model.Pct(to), Verified: true, Reason: in.Reason,
	})
	f.publish(s)
	return res
}

func (f *fakeEngine) intents() []model.Intent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.Intent(nil), f.executed...)
}

// asciiRenderer forces the no-colour profile so output does not depend on
// the terminal running the tests.
func asciiRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

var (
	fixNow   = time.Date(2025, 3, 4, 7, 42, 10, 0, time.UTC)
	fixActor = model.Actor{ARN: "arn:aws:sts::123456789012:assumed-role/Deployer/alice", OSUser: "alice", Via: "cockpit"}
)

// seriesFor builds per-minute points over the last 3h (newest two minutes
// not yet published, as with CloudWatch), starting at since, with value
// fn(minutes ago) plus seeded noise.
func seriesFor(rng *rand.Rand, since time.Time, noise float64, fn func(ago float64) float64) []model.Point {
	end := fixNow.Truncate(time.Minute).Add(-2 * time.Minute)
	var out []model.Point
	for t := end.Add(-3 * time.Hour); !t.After(end); t = t.Add(time.Minute) {
		if t.Before(since) {
			continue
		}
		ago := fixNow.Sub(t).Minutes()
		v := fn(ago) * (1 + noise*(rng.Float64()*2-1))
		out = append(out, model.Point{T: t, V: math.Max(0, math.Round(v*10)/10)})
	}
	return out
}

// signals builds both sides; canaryErr gives the canary's 5xx rate (%) by
// minutes ago. The canary only has traffic for its last 25 minutes.
func signals(canaryErr func(ago float64) float64, canaryP99 func(ago float64) float64) model.Signals {
	rng := rand.New(rand.NewPCG(7, 11))
	canarySince := fixNow.Add(-25 * time.Minute)
	stReq := seriesFor(rng, time.Time{}, 0.05, func(float64) float64 { return 900 })
	caReq := seriesFor(rng, canarySince, 0.08, func(float64) float64 { return 100 })
	errs := func(req []model.Point, rate func(float64) float64) []model.Point {
		out := make([]model.Point, len(req))
		for i, p := range req {
			out[i] = model.Point{T: p.T, V: math.Round(p.V * rate(fixNow.Sub(p.T).Minutes()) / 100)}
		}
		return out
	}
	return model.Signals{
		model.Stable: model.SideSignals{
			model.Requests:   stReq,
			model.Errors5xx:  errs(stReq, func(float64) float64 { return 0.5 }),
			model.LatencyP99: seriesFor(rng, time.Time{}, 0.1, func(float64) float64 { return 120 }),
		},
		model.Canary: model.SideSignals{
			model.Requests:   caReq,
			model.Errors5xx:  errs(caReq, canaryErr),
			model.LatencyP99: seriesFor(rng, canarySince, 0.1, canaryP99),
		},
	}
}

func healthySnapshot() model.Snapshot {
	split := model.Split{StableID: "tg-stable", CanaryID: "tg-canary", StableWeight: 90, CanaryWeight: 10}
	prev := model.Split{StableID: "tg-stable", CanaryID: "tg-canary", StableWeight: 95, CanaryWeight: 5}
	last := model.Result{Intent: model.Intent{Kind: model.StepUp, Actor: fixActor}, Outcome: model.OutcomeOK,
		From: prev, To: split, Verified: true}
	return model.Snapshot{
		Seq: 42, Now: fixNow,
		Target: model.Target{Kind: model.KindALB, Name: "checkout-api", Region: "us-east-1",
			StableName: "checkout-blue", CanaryName: "checkout-green"},
		Identity:   model.Identity{ARN: fixActor.ARN, Account: "123456789012"},
		Ladder:     model.DefaultLadder(),
		Split:      split,
		SplitKnown: true,
		SplitAt:    fixNow.Add(-3 * time.Second),
		Health:     [2]model.Health{{Healthy: 3}, {Healthy: 2}},
		Signals: signals(func(float64) float64 { return 0.6 },
			func(float64) float64 { return 125 }),
		MetricsAt: fixNow.Add(-8 * time.Second),
		Alarms: []model.Alarm{
			{Name: "checkout-5xx", State: model.AlarmOK},
			{Name: "checkout-p99", State: model.AlarmOK},
			{Name: "checkout-canary-errors", State: model.AlarmInsufficientData},
		},
		AlarmsAt: fixNow.Add(-3 * time.Second),
		Verdict: &model.Verdict{Overall: model.VerdictInsufficient,
			Summary: "INSUFFICIENT: errors needs ~4.2k more canary requests (~44m at 95/min)"},
		Last: &last,
		Audit: []model.AuditEntry{
			{Seq: 1, Time: fixNow.Add(-25 * time.Minute), Actor: fixActor, Action: "shift", Phase: model.PhaseIntent,
				From: model.Pct(0), To: model.Pct(1), Reason: "start canary v2.14"},
			{Seq: 2, Time: fixNow.Add(-25 * time.Minute), Actor: fixActor, Action: "shift", Phase: model.PhaseOutcome,
				Outcome: model.OutcomeOK, From: model.Pct(0), To: model.Pct(1), Verified: true},
			{Seq: 3, Time: fixNow.Add(-15 * time.Minute), Actor: fixActor, Action: "shift", Phase: model.PhaseOutcome,
				Outcome: model.OutcomeOK, From: model.Pct(1), To: model.Pct(5), Verified: true},
			{Seq: 4, Time: fixNow.Add(-4 * time.Minute), Actor: fixActor, Action: "shift", Phase: model.PhaseOutcome,
				Outcome: model.OutcomeOK, From: model.Pct(5), To: model.Pct(10), Verified: true},
		},
	}
}

func errorSpikeSnapshot() model.Snapshot {
	s := healthySnapshot()
	s.Signals = signals(func(ago float64) float64 {
		if ago > 12 {
			return 0.6
		}
		return 0.6 + (12-ago)*0.75
	}, func(ago float64) float64 {
		if ago > 12 {
			return 125
		}
		return 125 + (12-ago)*30
	})
	s.Alarms[0] = model.Alarm{Name: "checkout-canary-5xx", State: model.AlarmAlarm,
		Reason: "Threshold Crossed: 1 datapoint [8.1] was greater than the threshold (5.0)."}
	s.Alarms = append(s.Alarms, model.Alarm{Name: "checkout-saturation", State: model.AlarmMissing})
	s.Verdict = &model.Verdict{Overall: model.VerdictFail,
		Summary: "FAIL: errors canary 8.1% vs stable 0.6% (13.5x), evidence 3.1e+04 ≥ 200"}
	s.Autopilot = &model.AutopilotStatus{
		Plan:     model.Plan{Steps: []model.PlanStep{{Percent: 10, Bake: 5 * time.Minute}, {Percent: 25, Bake: 5 * time.Minute}, {Percent: 100}}},
		State:    model.PlanState{Step: 0, EnteredAt: fixNow.Add(-4 * time.Minute)},
		Decision: model.PlanDecision{Action: model.PlanHold, Reason: "baking step 1 (10%): 1m left"},
		Running:  true,
	}
	return s
}

func unknownSnapshot() model.Snapshot {
	s := healthySnapshot()
	s.SplitKnown = false
	s.SplitAt = fixNow.Add(-45 * time.Second)
	s.SplitErr = "describe rules arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/1/2/3: AccessDenied: not authorized"
	return s
}

func driftSnapshot() model.Snapshot {
	s := healthySnapshot()
	was := s.Split
	s.Split = s.Split.WithCanaryPercent(30)
	at := fixNow.Add(-68 * time.Second)
	s.Drift = &model.Drift{From: was, To: s.Split, At: at}
	s.Audit = append(s.Audit, model.AuditEntry{Seq: 5, Time: at, Action: "drift", Phase: model.PhaseEvent,
		From: model.Pct(10), To: model.Pct(30), Detail: "weights changed outside perch"})
	return s
}

func confirmSnapshot() model.Snapshot {
	s := healthySnapshot()
	s.Split = s.Split.WithCanaryPercent(25)
	s.Health = [2]model.Health{{Healthy: 1, Unhealthy: 2}, {Healthy: 3}}
	s.Target.StickinessSeconds = 3600
	return s
}
