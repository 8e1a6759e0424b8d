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
	Poll     time.Duration // how often to poll; default DefaultPoll
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
	// Sides keeps the rollout marker on AWS and turns the router round
	// when the operator confirms the canary (ALB rules); nil for targets
	// whose sides AWS states itself.
	Sides SideKeeper
	// Logs, when set, watches the sides' logs for new error patterns
	// (logs.go).
	Logs *LogsConfig
}

// DefaultPoll is how often perch polls routing, health and alarms unless
// told otherwise: the one default every part of perch uses.
const DefaultPoll = 10 * time.Second

// DefaultCallTimeout bounds each AWS call, its retries included, unless
// told otherwise.
const DefaultCallTimeout = 10 * time.Second

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
	// hostCounts are the host counts of the last fed poll that had them.
	hostCounts *[2]model.Health
	// window is how much of each signal snapshots carry (0: all six
	// hours): SetSnapshotWindow.
	window time.Duration
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
	// flipped: the operator confirmed as the canary the side the metrics
	// reader was built to call stable, so its data is read the other way.
	flipped bool
	// stopped: Stop was called; actions are refused (guarded by actMu).
	stopped bool
	// strategy moves the traffic: perch's own writes, or a deployment's.
	strategy strategy
	// logs runs the log queries; nil when not watching logs.
	logs *logWatch
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
		cfg.Poll = DefaultPoll
	}
	if cfg.History <= 0 {
		cfg.History = 3 * time.Hour
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
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
		logs:        newLogWatch(cfg.Logs),
	}
	for _, side := range model.Sides {
		e.series[side] = map[model.Signal]*model.Series{}
	}
	e.strategy = weights{e}
	if cfg.Deployment != nil {
		e.strategy = deployment{e}
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
	t := e.cfg.Router.Target()
	if entry.Target == "" {
		entry.Target = t.ID()
	}
	if entry.Canary == "" && entry.Stable == "" {
		// Every entry says which side its percentages are the canary's.
		entry.Canary, entry.Stable = t.CanaryARN, t.StableARN
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
