package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

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
	close   func()
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
	clk := orReal(o.clock)
	counter := perchaws.NewCallCounter()
	groups := &fleetGroups{g: g, creds: o.credentials, counter: counter, clock: clk, cfgs: map[string]*fleetGroup{}}
	pool := perchaws.NewMetricsPool()
	recent := map[string][]model.AuditEntry{}
	for _, e := range log.Tail(5000) {
		recent[e.Target] = append(recent[e.Target], e)
	}

	// Resolving a target is a few describe calls: do several at once.
	opened := make([]fleetTarget, len(f.Targets))
	errs := make([]error, len(f.Targets))
	parallel := o.parallel
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
			opened[i], errs[i] = groups.open(ctx, t)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t := f.Targets[i]
			what := "target " + t.Name
			if t.Line > 0 {
				what += fmt.Sprintf(" (%s:%d)", f.Path, t.Line)
			}
			var ee *exitError
			if errors.As(err, &ee) {
				return fail(&exitError{code: ee.code, err: fmt.Errorf("%s: %w", what, ee.err)})
			}
			return fail(withCode(ExitFailure, fmt.Errorf("%s: %w", what, err)))
		}
	}

	actor := model.Actor{OSUser: osUser(), Via: o.via}
	members := make([]rollout.FleetMember, len(opened))
	engines := make([]*rollout.Engine, len(opened))
	for i, ot := range opened {
		t := f.Targets[i]
		engine, err := rollout.New(withDeployment(rollout.Config{
			Router:        namedRouter{Router: ot.ad.router, name: t.Name},
			Health:        ot.ad.health,
			Metrics:       ot.ad.metrics,
			Alarms:        perchaws.NewAlarms(ot.group.cfg),
			AlarmNames:    t.Alarms,
			Identity:      ot.group,
			Audit:         log,
			Clock:         clk,
			Ladder:        t.Ladder,
			Plan:          t.Plan,
			StartPaused:   t.Paused,
			AutopilotUser: osUser(),
			Poll:          g.poll,
			ReadOnly:      g.readOnly,
			DescribeError: ot.group.describe,
			RecentAudit:   tailN(recent[ot.ad.router.Target().ID()], 50),
			Judge:         model.JudgeConfig{Custom: t.Judge()},
			Logger:        logger.With("target", t.Name),
		}, ot.cd))
		if err != nil {
			return fail(withCode(ExitFailure, fmt.Errorf("target %s: %w", t.Name, err)))
		}
		member := rollout.FleetMember{Engine: engine, Metrics: -1}
		if ot.shared != nil {
			if member.Metrics, err = pool.Add(ot.group.key, ot.group.cfg, *ot.shared); err != nil {
				return fail(withCode(ExitUsage, fmt.Errorf("target %s: %w", t.Name, err)))
			}
		} else if q, ok := ot.ad.metrics.(interface{ Queries() []perchaws.MetricQuery }); ok {
			member.OwnMetrics = len(q.Queries())
		}
		members[i] = member
		engines[i] = engine
	}
	reconcileOpenIntents(ctx, engines, path, clk.Now(), g.reconcileAfter, actor, logger)

	fl, err := rollout.NewFleet(rollout.FleetConfig{
		Members:      members,
		Shared:       sharedMetrics{pool},
		Clock:        clk,
		PublishDelay: f.PublishDelay,
		Lookback:     f.Lookback,
		Poll:         g.poll,
		Calls:        func() (int64, int64) { return perchaws.CallTotals(counter.Counts()) },
		Logger:       logger,
	})
	if err != nil {
		return fail(withCode(ExitFailure, err))
	}
	return &fleetSession{
		fleet: fl, engines: engines, pool: pool, calls: counter, audit: log, actor: actor, logger: logger,
		close: op.close,
	}, nil
}

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

// fleetGroup is one AWS config (profile, region, endpoint): a CloudWatch
// client for the shared pool, and one caller identity for all its targets.
type fleetGroup struct {
	key      string
	profile  string
	cfg      awssdk.Config
	describe func(error) string
	identity rollout.IdentityReader

	mu     sync.Mutex
	ident  model.Identity
	cached bool
}

// CallerIdentity is asked once per group: every target in it acts as the
// same principal.
func (g *fleetGroup) CallerIdentity(ctx context.Context) (model.Identity, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cached {
		return g.ident, nil
	}
	id, err := g.identity.CallerIdentity(ctx)
	if err != nil {
		return id, err
	}
	g.ident, g.cached = id, true
	return id, nil
}

type fleetGroups struct {
	g       *globalFlags
	creds   awssdk.CredentialsProvider
	counter *perchaws.CallCounter
	clock   clock.Clock

	mu   sync.Mutex
	cfgs map[string]*fleetGroup
}

func (gs *fleetGroups) group(ctx context.Context, profile, region string) (*fleetGroup, error) {
	if profile == "" {
		profile = gs.g.profile
	}
	if region == "" {
		region = gs.g.region
	}
	key := profile + "|" + region + "|" + gs.g.endpointURL
	gs.mu.Lock()
	defer gs.mu.Unlock()
	if fg, ok := gs.cfgs[key]; ok {
		return fg, nil
	}
	cfg, err := perchaws.LoadConfig(ctx, perchaws.ConfigOptions{
		Profile: profile, Region: region, EndpointURL: gs.g.endpointURL, Credentials: gs.creds,
	})
	if err != nil {
		return nil, usageErr("%v", err)
	}
	gs.counter.Attach(&cfg)
	fg := &fleetGroup{
		key: key, profile: profile, cfg: cfg, identity: perchaws.NewIdentity(cfg),
		describe: func(err error) string { return perchaws.DescribeErrorWithProfile(err, profile) },
	}
	gs.cfgs[key] = fg
	return fg, nil
}

// fleetTarget is one resolved target.
type fleetTarget struct {
	ad     adapters
	cd     *codeDeployTarget // for a CodeDeploy deployment
	group  *fleetGroup
	shared *perchaws.SharedSource
}

func (gs *fleetGroups) open(ctx context.Context, t config.Target) (fleetTarget, error) {
	tf, err := flagsFor(t)
	if err != nil {
		return fleetTarget{}, err
	}
	fg, err := gs.group(ctx, t.Profile, t.Region)
	if err != nil {
		return fleetTarget{}, err
	}
	// A CodeDeploy group with nothing in progress is an error here rather
	// than a wait: one idle group must not hold up the whole fleet.
	ad, cd, err := openAnyTarget(ctx, fg.cfg, tf, sessionOptions{clock: gs.clock}, gs.g.poll)
	if err != nil {
		return fleetTarget{}, classify(err, fg.describe)
	}
	out := fleetTarget{ad: ad, cd: cd, group: fg}
	defs, err := customMetrics(ad.router.Target(), t.Custom)
	if err != nil {
		return fleetTarget{}, usageErr("%v", err)
	}
	custom, err := perchaws.CustomQueries(defs)
	if err != nil {
		return fleetTarget{}, usageErr("%v", err)
	}
	if src, ok := perchaws.SharedFrom(ad.metrics, custom); ok {
		out.shared = &src
	} else if len(t.Custom) > 0 {
		return fleetTarget{}, usageErr("custom metrics are not supported on a %s target yet", t.Kind)
	}
	return out, nil
}

// flagsFor turns a config target into the flags openTarget reads.
func flagsFor(t config.Target) (*targetFlags, error) {
	tf := &targetFlags{}
	switch t.Kind {
	case model.KindALB:
		tf.ruleARN, tf.listenerARN, tf.canaryTG = t.RuleARN, t.ListenerARN, t.CanaryTargetGroup
	case model.KindLambda:
		tf.function, tf.alias, tf.canaryVersion = t.Function, t.Alias, t.CanaryVersion
	case model.KindCodeDeploy:
		tf.deploymentID, tf.application, tf.deploymentGroup = t.DeploymentID, t.Application, t.DeploymentGroup
	default:
		return nil, usageErr("%s targets cannot be opened from a config file yet", t.Kind)
	}
	return tf, nil
}

// runFleet runs the poller and the fleet view until the view quits.
func runFleet(ctx context.Context, s *fleetSession, g *globalFlags, title, open string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.fleet.Run(ctx)
	// A cockpit calls data stale after three polls; in a fleet, metrics
	// arrive once a period, so a period is the shortest honest interval.
	m := ui.NewFleet(newUIFleet(s.fleet), ui.FleetOptions{
		Title: title, Actor: s.actor, ReadOnly: g.readOnly, Poll: max(g.poll, time.Minute), Open: open,
	})
	if _, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx)).Run(); err != nil {
		return withCode(ExitFailure, fmt.Errorf("fleet view: %w", err))
	}
	return nil
}

// uiFleet adapts the poller to the fleet view's port.
type uiFleet struct {
	f       *rollout.Fleet
	engines []ui.Engine
}

func newUIFleet(f *rollout.Fleet) *uiFleet {
	u := &uiFleet{f: f}
	for _, e := range f.Engines() {
		u.engines = append(u.engines, e)
	}
	return u
}

func (u *uiFleet) Engines() []ui.Engine { return u.engines }
func (u *uiFleet) Focus(i int)          { u.f.Focus(i) }
func (u *uiFleet) Status() ui.FleetStatus {
	return toUIStatus(u.f.Stats())
}

func (u *uiFleet) Subscribe() (<-chan ui.FleetStatus, func()) {
	in, cancel := u.f.Subscribe()
	out := make(chan ui.FleetStatus, 1)
	done := make(chan struct{})
	go func() {
		defer close(out)
		for {
			select {
			case <-done:
				return
			case st := <-in:
				select {
				case <-out:
				default:
				}
				out <- toUIStatus(st)
			}
		}
	}()
	var once sync.Once
	return out, func() { once.Do(func() { close(done); cancel() }) }
}

func toUIStatus(s rollout.FleetStats) ui.FleetStatus {
	return ui.FleetStatus{
		Polls: s.Polls, LastPoll: s.LastPoll, NextPoll: s.NextPoll,
		Calls: s.Last.Calls, Queries: s.Last.Queries, Metrics: s.Last.Metrics, Datapoints: s.Last.Datapoints,
		Failed: s.Failed, APICallsPerHour: s.APICallsPerHour, MetricsPerHour: s.MetricsPerHour, CostPerHour: s.CostPerHour,
	}
}

// addFleetFlags puts --target on the root command, which opens the fleet
// of --config (or, with --target, one target's cockpit).
func addFleetFlags(root *cobra.Command, g *globalFlags) {
	var target string
	root.Flags().StringVar(&target, "target", "", "with --config: open this target's cockpit (esc shows the rest of the fleet)")
	root.Args = cobra.NoArgs
	root.Long += "\n\nWatch many canaries at once:  perch --config perch.yaml  (perch config validate checks it)"
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if g.config == "" {
			if target != "" {
				return usageErr("--target names a target of --config FILE")
			}
			return cmd.Help()
		}
		f, err := loadConfig(g.config)
		if err != nil {
			return err
		}
		if target != "" {
			if _, ok := f.ByName(target); !ok {
				return usageErr("%s has no target %q (have %v)", g.config, target, f.Names())
			}
		}
		ctx := cmd.Context()
		s, err := openFleet(ctx, g, f, fleetOptions{via: "cockpit"})
		if err != nil {
			return err
		}
		defer s.close()
		return runFleet(ctx, s, g, filepath.Base(g.config), target)
	}
}

// loadConfig reads --config; its problems are a usage error listing each
// with its line.
func loadConfig(path string) (*config.File, error) {
	f, err := config.Load(path)
	if err != nil {
		var es *config.Errors
		if errors.As(err, &es) {
			return nil, &exitError{code: ExitUsage, err: es}
		}
		return nil, usageErr("%v", err)
	}
	return f, nil
}
