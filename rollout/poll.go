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
	return e.poll(ctx, func(context.Context, time.Time, time.Time) ([]model.SeriesData, error) {
		return feed.Data, feed.Err
	})
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

// poll reads everything and publishes the new snapshot. fetch reads the
// metrics from the given start; nil skips them, leaving the signals and
// verdict as they were.
func (e *Engine) poll(ctx context.Context, fetch func(ctx context.Context, from, now time.Time) ([]model.SeriesData, error)) model.Snapshot {
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
	if fetch != nil {
		data, metricsErr = fetch(ctx, from, now)
	}

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
	if fetch == nil {
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
	seq, head := e.auditHead()
	snap := e.publish(func(s *model.Snapshot) { s.AuditSeq, s.AuditHead = seq, head })
	if e.auto != nil {
		e.stepAutopilot(ctx, snap)
		snap = e.Snapshot()
	}
	return snap
}

// headReader is an audit log that can say what its newest entry is (the
// file-backed audit.Log can; the evaluation harness's discarding log has
// no head to show).
type headReader interface {
	Head() (seq int64, hash string, err error)
}

// auditHead is the log's newest entry, or "" when the log cannot say (the
// screen then shows none rather than an old one).
func (e *Engine) auditHead() (int64, string) {
	h, ok := e.cfg.Audit.(headReader)
	if !ok {
		return 0, ""
	}
	seq, hash, err := h.Head()
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
