package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/ui"
)

// fleetSession is every target of a config file, wired: one engine per
// target, one audit log, one shared metrics pool and the poller.
type fleetSession struct {
	fleet   *rollout.Fleet
	engines []*rollout.Engine
	pool    *perchaws.MetricsPool
	calls   *perchaws.CallCounter
	audit   *audit.Log
	actor   model.Actor
	logger  *slog.Logger
	// close stops the fleet (if start ran it) before it closes the audit
	// log: nothing is written after.
	close func()
	stop  func()
	// production says whether a target's account (or any profile of the
	// file) is production by perch.yaml's pattern.
	production func(account string) bool
}

type fleetOptions struct {
	clock       clock.Clock
	credentials awssdk.CredentialsProvider // static for the simulator
	auditPath   string
	via         string
	parallel    int // targets resolved at once; default 8
}

// openFleet resolves every target of f through the real SDK. A target's
// own region and profile (or the file's defaults) win over --region and
// --profile, which only fill in what the file leaves open.
func openFleet(ctx context.Context, g *globalFlags, f *config.File, o fleetOptions) (*fleetSession, error) {
	if g.poll <= 0 {
		return nil, usageErr("--poll must be positive, got %v", g.poll)
	}
	if len(f.Targets) == 0 {
		return nil, usageErr("%s: no targets", f.Path)
	}
	op, err := startOpening(g, "open fleet")
	if err != nil {
		return nil, err
	}
	logger := op.logger
	fail := func(err error) (*fleetSession, error) { return nil, op.fail(err) }
	log, path, err := op.openAudit(o.auditPath)
	if err != nil {
		return fail(err)
	}
	history, err := audit.ReadAll(path)
	if err != nil {
		return fail(withCode(ExitFailure, fmt.Errorf("read audit log: %w", err)))
	}
	clk := orReal(o.clock)
	counter := perchaws.NewCallCounter()
	rates, err := perchaws.ParseRates(g.apiRates)
	if err != nil {
		return fail(usageErr("%v", err))
	}
	groups := &fleetGroups{g: g, creds: o.credentials, counter: counter, rates: rates, clock: clk, logger: logger, history: history, cfgs: map[string]*fleetGroup{}}
	pool := perchaws.NewMetricsPool()
	recent := map[string][]model.AuditEntry{}
	for _, e := range history {
		recent[e.Target] = append(recent[e.Target], e)
	}

	opened, err := groups.openAll(ctx, f, o.parallel)
	if err != nil {
		return fail(err)
	}

	actor := model.Actor{OSUser: osUser(), Via: o.via}
	members, engines, pre, err := groups.members(f, opened, log, pool, recent)
	if err != nil {
		return fail(err)
	}
	reconcileOpenIntents(ctx, engines, path, clk.Now(), g.reconcileAfter, actor, logger)

	fl, err := rollout.NewFleet(rollout.FleetConfig{
		Members:      members,
		Shared:       sharedMetrics{pool},
		Clock:        clk,
		PublishDelay: f.PublishDelay,
		Lookback:     f.Lookback,
		Poll:         g.poll,
		Prefetch:     pre.prefetch,
		// Rows hold what they draw; the open cockpit gets everything.
		SnapshotWindow: ui.FleetSnapshotWindow,
		Calls:          func() (int64, int64) { return perchaws.CallTotals(counter.Counts()) },
		CallsBy:        func() map[string]int64 { return perchaws.CallsByService(counter.Counts()) },
		Logger:         logger,
	})
	if err != nil {
		return fail(withCode(ExitFailure, err))
	}
	profiles := []string{g.profile}
	for _, t := range f.Targets {
		profiles = append(profiles, t.Profile)
	}
	s := &fleetSession{
		fleet: fl, engines: engines, pool: pool, calls: counter, audit: log, actor: actor, logger: logger,
		production: func(account string) bool { return f.IsProduction(append(profiles, account)...) },
	}
	s.close = func() {
		if s.stop != nil {
			s.stop()
		}
		for _, e := range engines {
			e.Stop()
		}
		op.close()
	}
	return s, nil
}

// openAll resolves every target of f, parallel at a time (8 when not
// set): a few describe calls each, most of them shared.
func (gs *fleetGroups) openAll(ctx context.Context, f *config.File, parallel int) ([]fleetTarget, error) {
	openCtx, err := gs.prefetchOpen(ctx, f.Targets)
	if err != nil {
		return nil, err
	}
	opened := make([]fleetTarget, len(f.Targets))
	errs := make([]error, len(f.Targets))
	if parallel <= 0 {
		parallel = 8
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, t := range f.Targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			opened[i], errs[i] = gs.open(openCtx(i), t)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			continue
		}
		t := f.Targets[i]
		what := "target " + t.Name
		if t.Line > 0 {
			what += fmt.Sprintf(" (%s:%d)", f.Path, t.Line)
		}
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, &exitError{code: ee.code, err: fmt.Errorf("%s: %w", what, ee.err)}
		}
		return nil, withCode(ExitFailure, fmt.Errorf("%s: %w", what, err))
	}
	return opened, nil
}

// members builds each opened target's engine and its place in the fleet's
// shared reads: its metrics in the pool where they can be, its routing
// and alarms in the poll's prefetch.
func (gs *fleetGroups) members(f *config.File, opened []fleetTarget, log rollout.AuditLog, pool *perchaws.MetricsPool,
	recent map[string][]model.AuditEntry) ([]rollout.FleetMember, []*rollout.Engine, *fleetPrefetch, error) {
	members := make([]rollout.FleetMember, len(opened))
	engines := make([]*rollout.Engine, len(opened))
	pre := &fleetPrefetch{members: make([]prefetchMember, len(opened))}
	for i, ot := range opened {
		t := f.Targets[i]
		cfg := engineConfig(gs.g, log, gs.clock, engineWiring{
			ad: ot.ad, cd: ot.cd, router: namedRouter{Router: ot.ad.router, name: t.Name},
			alarms: perchaws.NewAlarms(ot.group.cfg), identity: ot.group,
			alarmNames: t.Alarms, ladder: t.Ladder, plan: t.Plan, paused: t.Paused,
			judge: model.JudgeConfig{Custom: t.Judge()}, logs: ot.logs,
			readOnly: !gs.g.readOnlySet && f.ReadOnlyProfiles[ot.group.profile],
			recent:   tailN(recent[ot.ad.router.Target().ID()], 50), describe: ot.group.describe,
			logger: gs.logger.With("target", t.Name),
		})
		pre.members[i] = newPrefetchMember(ot.group, ot.ad.router, cfg.AlarmNames)
		engine, err := rollout.New(cfg)
		if err != nil {
			return nil, nil, nil, withCode(ExitFailure, fmt.Errorf("target %s: %w", t.Name, err))
		}
		member := rollout.FleetMember{Engine: engine, Metrics: -1}
		if ot.shared != nil {
			if member.Metrics, err = pool.Add(ot.group.key, ot.group.cfg, *ot.shared); err != nil {
				return nil, nil, nil, withCode(ExitUsage, fmt.Errorf("target %s: %w", t.Name, err))
			}
		} else if q, ok := ot.ad.metrics.(interface{ Queries() []perchaws.MetricQuery }); ok {
			member.OwnMetrics = len(q.Queries())
		}
		members[i] = member
		engines[i] = engine
	}
	return members, engines, pre, nil
}

// start runs the fleet's poller until close.
func (s *fleetSession) start(ctx context.Context) { s.stop = s.fleet.Start(ctx) }

func tailN(es []model.AuditEntry, n int) []model.AuditEntry {
	if len(es) > n {
		return es[len(es)-n:]
	}
	return es
}

// namedRouter gives a target the name the config file gives it: the
// name the fleet view lists and --target selects.
type namedRouter struct {
	rollout.Router
	name string
}

func (r namedRouter) Target() model.Target {
	t := r.Router.Target()
	t.Name = r.name
	return t
}
