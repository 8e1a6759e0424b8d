package rollout

import (
	"context"
	"fmt"
	"time"

	"github.com/perch-dev/perch/model"
)

// RequestPoll asks a running Run loop to poll now instead of at its next tick.
func (e *Engine) RequestPoll() {
	select {
	case e.pollRequest <- struct{}{}:
	default:
	}
}

// Run polls until ctx ends: once at once, then every Poll on the clock.
// Start runs it in the background with an orderly stop.
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
func (e *Engine) PollOnce(ctx context.Context) model.Snapshot { return e.poll(ctx, e.fetchOwn) }

// Feed is metrics fetched for an engine by someone else: a fleet poller
// that batches many targets' queries into shared GetMetricData calls.
type Feed struct {
	Data []model.SeriesData
	Err  error
	// Health, when set, is each side's healthy and unhealthy host counts
	// from CloudWatch (read in the same GetMetricData calls): the engine
	// takes them for its health and reads the target health API only
	// when they change.
	Health *[2]model.Health
}

// PollFed is PollOnce with the metrics step done by the caller: feed's
// Data or Err stands in for the engine's own fetch. A nil feed polls
// routing, health and alarms only, and the signals and verdict stay as the
// last metrics poll left them (between two CloudWatch periods there is
// nothing new to fetch).
func (e *Engine) PollFed(ctx context.Context, feed *Feed) model.Snapshot {
	if feed == nil {
		return e.poll(ctx, nil)
	}
	return e.pollWith(ctx, func(context.Context, time.Time, time.Time) ([]model.SeriesData, error) {
		return feed.Data, feed.Err
	}, feed.Health)
}

// fetchOwn is the engine's own metrics read, bounded like every AWS call.
func (e *Engine) fetchOwn(ctx context.Context, from, now time.Time) ([]model.SeriesData, error) {
	return call(ctx, e.cfg.CallTimeout, func(ctx context.Context) ([]model.SeriesData, error) {
		return e.cfg.Metrics.Fetch(ctx, from, now)
	})
}

// PollRequests delivers RequestPoll's wake-ups to a caller that drives the
// engine with PollFed instead of Run.
func (e *Engine) PollRequests() <-chan struct{} { return e.pollRequest }

// metricsFetch reads both sides' signals for periods in [from, now).
type metricsFetch func(ctx context.Context, from, now time.Time) ([]model.SeriesData, error)

// pollReads is everything one poll read, before any of it is believed.
type pollReads struct {
	now        time.Time
	routing    routingRead
	ident      *model.Identity // nil: not asked, or the read failed
	split      model.Split
	splitErr   error
	health     [2]model.Health
	healthErr  error
	fetched    bool // metrics were read (or failed): see data, metricsErr
	data       []model.SeriesData
	metricsErr error
	alarms     []model.Alarm
	alarmsErr  error
}

// poll reads everything, folds it into a new snapshot, records what it
// saw and publishes. fetch reads the metrics from the given start; nil
// skips them, leaving the signals and verdict as they were.
func (e *Engine) poll(ctx context.Context, fetch metricsFetch) model.Snapshot {
	return e.pollWith(ctx, fetch, nil)
}

// pollWith is poll with host counts (nil: none) standing in for the
// health read while they do not change.
func (e *Engine) pollWith(ctx context.Context, fetch metricsFetch, counts *[2]model.Health) model.Snapshot {
	r := e.read(ctx, fetch, counts)
	e.mu.Lock()
	s := e.snap
	s.Now = r.now
	e.foldIdentityLocked(&s, r)
	drift := e.foldSplitLocked(&s, r)
	events, drift := e.strategy.foldLocked(&s, r.routing, drift, r.now)
	e.foldHealthLocked(&s, r)
	e.foldMetricsLocked(&s, r)
	e.foldLogsLocked(&s)
	e.foldAlarmsLocked(&s, r)
	e.snap = s
	e.mu.Unlock()

	if drift != nil {
		e.recordDrift(*drift)
	}
	for _, ev := range events {
		e.appendAudit(ev)
	}
	seq, head := e.auditHead()
	snap := e.publish(func(s *model.Snapshot) { s.AuditSeq, s.AuditHead = seq, head })
	if e.auto != nil {
		e.stepAutopilot(ctx, snap)
		snap = e.Snapshot()
	}
	return snap
}

// read asks AWS for everything a poll shows, each call bounded.
func (e *Engine) read(ctx context.Context, fetch metricsFetch, counts *[2]model.Health) pollReads {
	r := pollReads{now: e.cfg.Clock.Now()}
	// The routing first: following a group, the router may move on to
	// another deployment, and everything below is then about that one.
	r.routing = e.strategy.readRouting(ctx)

	e.mu.Lock()
	needIdentity := e.snap.Identity.ARN == "" && e.cfg.Identity != nil
	from := e.metricsFrom
	e.mu.Unlock()
	if needIdentity {
		if ident, err := call(ctx, e.cfg.CallTimeout, e.cfg.Identity.CallerIdentity); err != nil {
			e.cfg.Logger.Warn("caller identity", "err", err)
		} else {
			r.ident = &ident
		}
	}
	r.split, r.splitErr = call(ctx, e.cfg.CallTimeout, e.cfg.Router.ReadSplit)
	if e.cfg.Health != nil {
		if h, ok := e.healthFromCounts(counts); ok {
			r.health = h
		} else {
			r.health, r.healthErr = call(ctx, e.cfg.CallTimeout, e.cfg.Health.Health)
		}
	}
	if fetch != nil {
		if from.IsZero() {
			from = r.now.Add(-e.cfg.History)
		}
		r.fetched = true
		r.data, r.metricsErr = fetch(ctx, from.Truncate(time.Minute), r.now)
	}
	e.readLogs(ctx, r.now)
	if e.watchesAlarms() {
		r.alarms, r.alarmsErr = call(ctx, e.cfg.CallTimeout, func(ctx context.Context) ([]model.Alarm, error) {
			return e.cfg.Alarms.Alarms(ctx, e.cfg.AlarmNames)
		})
	}
	return r
}

// healthFromCounts is the health to show without asking the health API:
// the counts themselves the first time, the last health shown while the
// counts stay the same (it may have the detail the API gives, such as
// draining targets). When they change, or there are none, ok is false
// and the caller asks the API.
func (e *Engine) healthFromCounts(counts *[2]model.Health) (h [2]model.Health, ok bool) {
	if counts == nil {
		return h, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	prev := e.hostCounts
	c := *counts
	e.hostCounts = &c
	switch {
	case prev == nil:
		return c, true
	case *prev != c:
		return h, false
	case e.snap.HealthErr == "" && e.snap.Health[0].Total()+e.snap.Health[1].Total() > 0:
		return e.snap.Health, true
	}
	return c, true
}

func (e *Engine) watchesAlarms() bool { return e.cfg.Alarms != nil && len(e.cfg.AlarmNames) > 0 }

func (e *Engine) foldIdentityLocked(s *model.Snapshot, r pollReads) {
	if r.ident != nil {
		s.Identity = *r.ident
	}
}

// foldSplitLocked takes the split read and returns the drift it shows.
func (e *Engine) foldSplitLocked(s *model.Snapshot, r pollReads) *model.Drift {
	if r.splitErr != nil {
		s.SplitKnown, s.SplitErr = false, e.cfg.DescribeError(r.splitErr)
		return nil
	}
	s.Split, s.SplitKnown, s.SplitErr, s.SplitAt = r.split, true, "", r.now
	return e.noticeSplitLocked(r.split, r.now)
}

func (e *Engine) foldHealthLocked(s *model.Snapshot, r pollReads) {
	switch {
	case e.cfg.Health == nil:
	case r.healthErr != nil:
		// Yesterday's target health is not a fact about now: show none
		// (the capacity check then says nothing) until a read succeeds.
		s.Health = [2]model.Health{}
		s.HealthErr = e.cfg.DescribeError(r.healthErr)
		e.cfg.Logger.Warn("target health", "err", r.healthErr)
	default:
		s.Health, s.HealthErr = r.health, ""
	}
}

// foldMetricsLocked stores the signals read and judges them. Nothing
// fetched keeps the signals, verdict and any error as they were.
func (e *Engine) foldMetricsLocked(s *model.Snapshot, r pollReads) {
	switch {
	case !r.fetched:
	case r.metricsErr != nil:
		s.MetricsErr = e.cfg.DescribeError(r.metricsErr)
	default:
		e.storeLocked(r.data)
		s.Signals = e.signalsLocked(r.now)
		s.MetricsAt, s.MetricsErr = r.now, ""
		e.metricsFrom = r.now.Add(-revisionLookback)
		e.judgeLocked(s, r.now)
	}
}

// judgeLocked gives s the judge's verdict on its signals.
func (e *Engine) judgeLocked(s *model.Snapshot, now time.Time) {
	stepStart, steps := e.splitSince, len(e.cfg.Ladder)
	if e.auto != nil {
		stepStart, steps = e.auto.state.EnteredAt, len(e.auto.plan.Steps)
	}
	// On every point held, whatever the snapshot's window.
	v := model.JudgeSteps(e.signalsViewLocked(), e.cfg.Judge, now, stepStart, steps)
	s.Verdict = &v
}

func (e *Engine) foldAlarmsLocked(s *model.Snapshot, r pollReads) {
	switch {
	case !e.watchesAlarms():
	case r.alarmsErr != nil:
		s.AlarmsErr = e.cfg.DescribeError(r.alarmsErr)
	default:
		s.Alarms, s.AlarmsAt, s.AlarmsErr = r.alarms, r.now, ""
	}
}

// auditHead is the log's newest entry, or "" when it cannot be read (the
// screen then shows none rather than an old one).
func (e *Engine) auditHead() (int64, string) {
	seq, hash, err := e.cfg.Audit.Head()
	if err != nil {
		e.cfg.Logger.Warn("audit log head", "err", err)
		return 0, ""
	}
	return seq, hash
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
		side := e.sideOfLocked(sd.Side)
		ser := e.series[side][sd.Signal]
		if ser == nil {
			ser = model.NewSeries(seriesCapacity)
			e.series[side][sd.Signal] = ser
		}
		ser.Upsert(sd.Points...)
	}
}

// signalsLocked copies the signals a snapshot carries: the window's
// newest points up to now (all of them with no window).
func (e *Engine) signalsLocked(now time.Time) model.Signals {
	var sig model.Signals
	for _, side := range model.Sides {
		sig[side] = model.SideSignals{}
		for name, ser := range e.series[side] {
			if e.window > 0 {
				sig[side][name] = ser.Since(now.Add(-e.window))
			} else {
				sig[side][name] = ser.Points()
			}
		}
	}
	return sig
}

// signalsViewLocked is every point held, uncopied: for the judge, which
// only reads them, under e.mu.
func (e *Engine) signalsViewLocked() model.Signals {
	var sig model.Signals
	for _, side := range model.Sides {
		sig[side] = model.SideSignals{}
		for name, ser := range e.series[side] {
			sig[side][name] = ser.View()
		}
	}
	return sig
}

// SetSnapshotWindow makes snapshots carry only the last d of each signal
// (0: all of them) and publishes one at once. The judge always reads
// everything held. A fleet sets its rows' sparkline window on every
// engine and lifts it for the one whose cockpit is open, whose charts
// can show hours.
func (e *Engine) SetSnapshotWindow(d time.Duration) {
	e.mu.Lock()
	same := e.window == max(d, 0)
	e.window = max(d, 0)
	e.mu.Unlock()
	if same {
		return
	}
	e.publish(func(s *model.Snapshot) {
		if !s.MetricsAt.IsZero() {
			s.Signals = e.signalsLocked(s.MetricsAt)
		}
	})
}
