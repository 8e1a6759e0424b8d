package rollout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/internal/broadcast"
	"github.com/perch-dev/perch/model"
)

// Config wires an engine to its sources. Router, Metrics, Clock and Audit
// are required; the rest are optional.
type Config struct {
	Router     Router
	Health     HealthReader
	Metrics    MetricsReader
	Alarms     AlarmReader
	AlarmNames []string
	Identity   IdentityReader
	Audit      AuditLog
	Clock      clock.Clock

	Ladder   model.Ladder
	Poll     time.Duration // how often to poll; default 10s
	History  time.Duration // metrics loaded on the first poll; default 3h
	ReadOnly bool
	// CallTimeout bounds each AWS call; default 10s.
	CallTimeout time.Duration
	// DescribeError turns an adapter error into one short line for the
	// screen; default err.Error().
	DescribeError func(error) string
	// Judge tunes the verdict computed at every poll.
	Judge model.JudgeConfig
	// Plan, when set, runs the autopilot: it advances the plan while the
	// judge says PASS and rolls back on FAIL or a watched alarm (as the
	// plan's policy says). It starts paused when StartPaused is set.
	Plan        *model.Plan
	StartPaused bool
	// AutopilotUser is the OS user the autopilot's audit entries name.
	AutopilotUser string
	// RecentAudit seeds the audit pane with entries already in the log.
	RecentAudit []model.AuditEntry
	Logger      *slog.Logger
	// Deployment, for a target whose traffic CodeDeploy moves, reads the
	// deployment at every poll; Controller stops or continues it. The
	// Router then only reads the split (see deployment.go).
	Deployment DeploymentReader
	Controller DeploymentController
}

const (
	seriesCapacity = 6 * 60 // six hours of one-minute periods
	auditTailLen   = 50
	// revisionLookback is how far back each incremental metrics poll
	// re-reads: CloudWatch fills in the newest periods late.
	revisionLookback = 5 * time.Minute
)

// Engine polls one target and executes intents against it. It is safe for
// concurrent use by any number of viewers.
type Engine struct {
	cfg Config

	// actMu serialises actions: two viewers never write at once.
	actMu sync.Mutex

	mu          sync.Mutex
	snap        model.Snapshot
	series      [2]map[model.Signal]*model.Series
	metricsFrom time.Time
	// lastSeen is the split as perch last knew it: after its own read or
	// its own verified write. A read that differs from it is drift.
	lastSeen model.Split
	haveSeen bool
	// splitSince is when the split last changed, by anyone: the judge
	// starts a fresh test there to catch a regression a step brings.
	splitSince  time.Time
	subs        broadcast.Latest[model.Snapshot]
	pollRequest chan struct{}
	auto        *autopilot
	// ownStop is the deployment perch stopped itself, so that its end is
	// not recorded a second time as CodeDeploy's doing.
	ownStop string
}

// New validates the config and returns an engine that has not polled yet.
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.Router == nil:
		return nil, errors.New("rollout: no router")
	case cfg.Metrics == nil:
		return nil, errors.New("rollout: no metrics reader")
	case cfg.Clock == nil:
		return nil, errors.New("rollout: no clock")
	case cfg.Audit == nil:
		return nil, errors.New("rollout: no audit log")
	}
	if len(cfg.Ladder) == 0 {
		cfg.Ladder = model.DefaultLadder()
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 10 * time.Second
	}
	if cfg.History <= 0 {
		cfg.History = 3 * time.Hour
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 10 * time.Second
	}
	if cfg.DescribeError == nil {
		cfg.DescribeError = func(err error) string { return err.Error() }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		cfg:         cfg,
		pollRequest: make(chan struct{}, 1),
	}
	for _, side := range model.Sides {
		e.series[side] = map[model.Signal]*model.Series{}
	}
	if cfg.Plan != nil && cfg.Deployment != nil {
		return nil, errors.New("rollout: a plan moves weights, and CodeDeploy shifts this target's traffic itself")
	}
	if cfg.Plan != nil {
		if len(cfg.Plan.Steps) == 0 {
			return nil, errors.New("rollout: the plan has no steps")
		}
		e.auto = &autopilot{plan: *cfg.Plan, state: model.PlanState{Paused: cfg.StartPaused}}
	}
	e.snap = model.Snapshot{
		Now:      cfg.Clock.Now(),
		Target:   cfg.Router.Target(),
		ReadOnly: cfg.ReadOnly,
		Ladder:   cfg.Ladder,
		Audit:    tail(cfg.RecentAudit, auditTailLen),
	}
	if e.auto != nil {
		e.snap.Autopilot = e.auto.status()
	}
	return e, nil
}

// Snapshot returns the newest snapshot.
func (e *Engine) Snapshot() model.Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.snap
}

// Subscribe delivers every new snapshot until cancel is called. A slow
// reader only ever misses intermediate snapshots, never the newest.
func (e *Engine) Subscribe() (<-chan model.Snapshot, func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.subs.Subscribe(e.snap)
}

// RequestPoll asks a running Run loop to poll now instead of at its next tick.
func (e *Engine) RequestPoll() {
	select {
	case e.pollRequest <- struct{}{}:
	default:
	}
}

// Run polls until ctx ends: once at once, then every Poll on the clock.
func (e *Engine) Run(ctx context.Context) {
	for {
		e.PollOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-e.cfg.Clock.After(e.cfg.Poll):
		case <-e.pollRequest:
		}
	}
}

// PollOnce reads identity (once), split, health, metrics and alarms, and
// publishes a new snapshot. Failures are recorded in the snapshot, never
// returned: a poll always yields the best honest picture.
func (e *Engine) PollOnce(ctx context.Context) model.Snapshot { return e.poll(ctx, nil, true) }

// Feed is metrics fetched for an engine by someone else: a fleet poller
// that batches many targets' queries into shared GetMetricData calls.
type Feed struct {
	Data []model.SeriesData
	Err  error
}

// PollFed is PollOnce with the metrics step done by the caller: feed's
// Data or Err stands in for the engine's own fetch. A nil feed polls
// routing, health and alarms only, and the signals and verdict stay as the
// last metrics poll left them (between two CloudWatch periods there is
// nothing new to fetch).
func (e *Engine) PollFed(ctx context.Context, feed *Feed) model.Snapshot {
	return e.poll(ctx, feed, false)
}

// PollRequests delivers RequestPoll's wake-ups to a caller that drives the
// engine with PollFed instead of Run.
func (e *Engine) PollRequests() <-chan struct{} { return e.pollRequest }

func (e *Engine) poll(ctx context.Context, feed *Feed, own bool) model.Snapshot {
	now := e.cfg.Clock.Now()

	// The deployment first: following a group, the router may move on to
	// another deployment, and everything below is then about that one.
	dep, depErr := e.readDeployment(ctx)
	switched := e.noticeDeploymentSwitch(dep)

	e.mu.Lock()
	needIdentity := e.snap.Identity.ARN == "" && e.cfg.Identity != nil
	from := e.metricsFrom
	e.mu.Unlock()

	var ident model.Identity
	var identErr error
	if needIdentity {
		ident, identErr = call(ctx, e.cfg.CallTimeout, e.cfg.Identity.CallerIdentity)
	}

	split, splitErr := call(ctx, e.cfg.CallTimeout, e.cfg.Router.ReadSplit)

	var health [2]model.Health
	var healthErr error
	if e.cfg.Health != nil {
		health, healthErr = call(ctx, e.cfg.CallTimeout, e.cfg.Health.Health)
	}

	if from.IsZero() {
		from = now.Add(-e.cfg.History)
	}
	from = from.Truncate(time.Minute)
	var data []model.SeriesData
	var metricsErr error
	switch {
	case own:
		data, metricsErr = call(ctx, e.cfg.CallTimeout, func(ctx context.Context) ([]model.SeriesData, error) {
			return e.cfg.Metrics.Fetch(ctx, from, now)
		})
	case feed != nil:
		data, metricsErr = feed.Data, feed.Err
	}
	skipMetrics := !own && feed == nil

	var alarms []model.Alarm
	var alarmsErr error
	if e.cfg.Alarms != nil && len(e.cfg.AlarmNames) > 0 {
		alarms, alarmsErr = call(ctx, e.cfg.CallTimeout, func(ctx context.Context) ([]model.Alarm, error) {
			return e.cfg.Alarms.Alarms(ctx, e.cfg.AlarmNames)
		})
	}

	e.mu.Lock()
	s := e.snap
	s.Now = now
	if needIdentity && identErr == nil {
		s.Identity = ident
	} else if identErr != nil {
		e.cfg.Logger.Warn("caller identity", "err", identErr)
	}
	var drift *model.Drift
	if splitErr != nil {
		s.SplitKnown = false
		s.SplitErr = e.cfg.DescribeError(splitErr)
	} else {
		s.Split, s.SplitKnown, s.SplitErr, s.SplitAt = split, true, "", now
		drift = e.noticeSplitLocked(split, now)
	}
	var events []model.AuditEntry
	if switched != nil {
		events = append(events, *switched)
	}
	if e.cfg.Deployment != nil {
		// CodeDeploy moves the traffic: a change is its doing, not drift.
		events = append(events, e.deploymentEventsLocked(&s, dep, depErr, drift, now)...)
		drift = nil
	} else if drift != nil {
		s.Drift = drift
	}
	if e.cfg.Health != nil {
		if healthErr != nil {
			// Yesterday's target health is not a fact about now: show
			// none (the capacity check then says nothing) until a read
			// succeeds.
			s.Health = [2]model.Health{}
			s.HealthErr = e.cfg.DescribeError(healthErr)
			e.cfg.Logger.Warn("target health", "err", healthErr)
		} else {
			s.Health, s.HealthErr = health, ""
		}
	}
	if skipMetrics {
		// Nothing fetched: keep the signals, verdict and any error.
	} else if metricsErr != nil {
		s.MetricsErr = e.cfg.DescribeError(metricsErr)
	} else {
		e.storeLocked(data)
		s.Signals = e.signalsLocked()
		s.MetricsAt, s.MetricsErr = now, ""
		e.metricsFrom = now.Add(-revisionLookback)
		stepStart, steps := e.splitSince, len(e.cfg.Ladder)
		if e.auto != nil {
			stepStart, steps = e.auto.state.EnteredAt, len(e.auto.plan.Steps)
		}
		v := model.JudgeSteps(s.Signals, e.cfg.Judge, now, stepStart, steps)
		s.Verdict = &v
	}
	if e.cfg.Alarms != nil && len(e.cfg.AlarmNames) > 0 {
		if alarmsErr != nil {
			s.AlarmsErr = e.cfg.DescribeError(alarmsErr)
		} else {
			s.Alarms, s.AlarmsAt, s.AlarmsErr = alarms, now, ""
		}
	}
	e.snap = s
	e.mu.Unlock()

	if drift != nil {
		e.recordDrift(*drift)
	}
	for _, ev := range events {
		e.appendAudit(ev)
	}
	snap := e.publish(func(*model.Snapshot) {})
	if e.auto != nil {
		e.stepAutopilot(ctx, snap)
		snap = e.Snapshot()
	}
	return snap
}

// noticeSplitLocked compares a fresh read with what perch last knew and
// remembers the read. It returns the drift when they differ.
func (e *Engine) noticeSplitLocked(split model.Split, at time.Time) *model.Drift {
	defer func() { e.lastSeen, e.haveSeen = split, true }()
	if !e.haveSeen || e.lastSeen.SameRouting(split) {
		return nil
	}
	e.splitSince = at
	return &model.Drift{From: e.lastSeen, To: split, At: at}
}

func (e *Engine) recordDrift(d model.Drift) {
	e.appendAudit(model.AuditEntry{
		Time:   d.At,
		Actor:  model.Actor{Via: "observed"},
		Action: "drift",
		Phase:  model.PhaseEvent,
		From:   model.Pct(d.From.CanaryPercent()),
		To:     model.Pct(d.To.CanaryPercent()),
		Detail: fmt.Sprintf("split changed outside perch: %s → %s", d.From, d.To),
	})
}

func (e *Engine) storeLocked(data []model.SeriesData) {
	for _, sd := range data {
		if sd.Side != model.Stable && sd.Side != model.Canary {
			continue
		}
		ser := e.series[sd.Side][sd.Signal]
		if ser == nil {
			ser = model.NewSeries(seriesCapacity)
			e.series[sd.Side][sd.Signal] = ser
		}
		ser.Upsert(sd.Points...)
	}
}

func (e *Engine) signalsLocked() model.Signals {
	var sig model.Signals
	for _, side := range model.Sides {
		sig[side] = model.SideSignals{}
		for name, ser := range e.series[side] {
			sig[side][name] = ser.Points()
		}
	}
	return sig
}

// publish applies change to the current snapshot, stamps it and hands it
// to every subscriber.
func (e *Engine) publish(change func(*model.Snapshot)) model.Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	change(&e.snap)
	e.snap.Seq++
	s := e.snap
	e.subs.Publish(s)
	return s
}

// appendAudit writes an entry and adds it to the audit pane. A failed
// append is returned: callers that are about to move traffic must stop.
func (e *Engine) appendAudit(entry model.AuditEntry) (model.AuditEntry, error) {
	if entry.Time.IsZero() {
		entry.Time = e.cfg.Clock.Now()
	}
	if entry.Target == "" {
		entry.Target = e.cfg.Router.Target().ID()
	}
	written, err := e.cfg.Audit.Append(entry)
	if err != nil {
		e.cfg.Logger.Error("audit append", "err", err, "action", entry.Action)
		return written, fmt.Errorf("append audit entry: %w", err)
	}
	e.mu.Lock()
	e.snap.Audit = tail(append(append([]model.AuditEntry(nil), e.snap.Audit...), written), auditTailLen)
	e.mu.Unlock()
	return written, nil
}

func call[T any](ctx context.Context, timeout time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return f(ctx)
}

func tail[T any](s []T, n int) []T {
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return append([]T(nil), s...)
}
