package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
)

// targetFlags name an ALB rule or a Lambda alias on any command that
// attaches to one.
type targetFlags struct {
	ruleARN     string
	listenerARN string
	canaryTG    string
	ladder      string
	alarms      []string
	plan        string
	paused      bool

	// Lambda: the alias, and the canary version when it has no routing yet.
	function      string
	alias         string
	canaryVersion string

	// CodeDeploy: a deployment, or the group whose newest one to follow.
	deploymentID    string
	application     string
	deploymentGroup string

	// ECS: a service deployment, or the service whose newest one to
	// follow.
	ecsCluster, ecsService, ecsDeploymentARN string

	// signals: saturation and logs (signals.go).
	signals signalFlags
}

func addTargetFlags(cmd *cobra.Command, t *targetFlags) {
	f := cmd.Flags()
	f.StringVar(&t.ruleARN, "rule-arn", "", "ALB listener rule whose forward action splits stable and canary")
	f.StringVar(&t.listenerARN, "listener-arn", "", "ALB listener whose default action splits stable and canary")
	f.StringVar(&t.canaryTG, "canary-target-group", "", "the canary's target group ARN or name (default: the rollout marker perch keeps on the rule, this machine's audit log, or at 100/0 the side at 0%; never the lower weight)")
	addLambdaFlags(cmd, t)
	addCodeDeployFlags(cmd, t)
	addECSFlags(cmd, t)
	f.StringVar(&t.ladder, "ladder", "0,1,5,10,25,50,100", "canary percentages that + and - step along")
	f.StringSliceVar(&t.alarms, "alarm", nil, "CloudWatch alarm to watch (repeatable); one in ALARM holds the plan and rolls back")
	addSignalFlags(cmd, &t.signals)
}

// addPlanFlags is for the cockpits: the autopilot runs from the poll loop,
// which the one-shot commands do not have.
func addPlanFlags(cmd *cobra.Command, t *targetFlags) {
	cmd.Flags().StringVar(&t.plan, "plan", "", `run a rollout plan on autopilot: "5%:10m,25%:10m,50%:10m,100%", a CodeDeploy configuration name (Canary10Percent5Minutes), or a YAML file`)
	cmd.Flags().BoolVar(&t.paused, "paused", false, "load the --plan paused (space resumes it)")
}

// loadPlan reads --plan: a YAML file when one exists at that path, else the
// inline or CodeDeploy-name form.
func (t *targetFlags) loadPlan() (*model.Plan, error) {
	if t.plan == "" || t.plan == "none" {
		return nil, nil
	}
	var p model.Plan
	var err error
	if data, readErr := os.ReadFile(t.plan); readErr == nil {
		p, err = model.ParsePlanYAML(data)
		if err != nil {
			return nil, usageErr("--plan %s: %v", t.plan, err)
		}
	} else {
		p, err = model.ParsePlan(t.plan)
		if err != nil {
			return nil, usageErr("--plan: %v", err)
		}
	}
	return &p, nil
}

func (t *targetFlags) validate() (model.Ladder, error) {
	if err := t.validateAnyTarget(); err != nil {
		return nil, err
	}
	l, err := model.ParseLadder(t.ladder)
	if err != nil {
		return nil, configErr(err)
	}
	return l, nil
}

// session is everything one attached target needs, wired.
type session struct {
	engine *rollout.Engine
	router rollout.Router
	audit  *audit.Log
	actor  model.Actor
	logger *slog.Logger
	// clock is the engine's: the cockpit's ages follow it.
	clock clock.Clock
	// close stops the engine (if start ran it) before it closes the audit
	// log: nothing is written after.
	close func()
	stop  func()
}

// start runs the engine's poll loop until close.
func (s *session) start(ctx context.Context) {
	s.stop = s.engine.Start(ctx)
}

type sessionOptions struct {
	clock       clock.Clock
	credentials awssdk.CredentialsProvider // static for the simulator
	auditPath   string                     // overrides the flag and default
	via         string
	// waitOut, when set, lets a CodeDeploy group with nothing in progress
	// be waited for, saying so there.
	waitOut io.Writer
	// history is the audit log's entries, read before the target is
	// resolved: which side was the canary is one of its facts.
	history []model.AuditEntry
}

// openSession resolves the target through the real SDK and builds the
// engine on it. Errors are one line with an exit code.
func openSession(ctx context.Context, g *globalFlags, t *targetFlags, o sessionOptions) (*session, error) {
	ladder, err := t.validate()
	if err != nil {
		return nil, err
	}
	plan, err := t.loadPlan()
	if err != nil {
		return nil, err
	}
	if g.poll <= 0 {
		return nil, usageErr("--poll must be positive, got %v", g.poll)
	}
	if g.callTimeout < 0 {
		return nil, usageErr("--call-timeout must be positive, got %v", g.callTimeout)
	}
	if g.reconcileAfter < 0 {
		return nil, usageErr("--reconcile-after must not be negative, got %v", g.reconcileAfter)
	}
	op, err := startOpening(g, "attach to target")
	if err != nil {
		return nil, err
	}
	logger := op.logger
	fail := func(err error) (*session, error) { return nil, op.fail(err) }

	cfg, err := perchaws.LoadConfig(ctx, perchaws.ConfigOptions{
		Profile: g.profile, Region: g.region, EndpointURL: g.endpointURL, Credentials: o.credentials, Logger: logger,
		CallTimeout: g.callTimeout,
	})
	if err != nil {
		return fail(configErr(err))
	}
	describe := func(err error) string { return perchaws.DescribeErrorWithProfile(err, g.profile) }

	log, path, err := op.openAudit(o.auditPath)
	if err != nil {
		return fail(err)
	}
	if o.history, err = audit.ReadAll(path); err != nil {
		return fail(withCode(ExitFailure, fmt.Errorf("read audit log: %w", err)))
	}
	ad, cd, err := openAnyTarget(ctx, cfg, t, o, g.poll)
	if err != nil {
		// stderr gets one described line; the log keeps the whole chain
		// for whoever debugs it later.
		logger.Error("open target", "err", err)
		return fail(classify(err, describe))
	}
	signals, err := t.signals.settings()
	if err != nil {
		return fail(err)
	}
	logsCfg, err := wireSignals(cfg, ad, signals, true)
	if err != nil {
		return fail(err)
	}
	router := ad.router
	clk := orReal(o.clock)
	target := router.Target()
	var recent []model.AuditEntry
	for _, e := range o.history {
		if e.Target == target.ID() {
			recent = append(recent, e)
		}
	}
	engine, err := rollout.New(engineConfig(g, log, clk, engineWiring{
		ad: ad, cd: cd, alarms: perchaws.NewAlarms(cfg), identity: perchaws.NewIdentity(cfg),
		alarmNames: t.alarms, ladder: ladder, plan: plan, paused: t.paused,
		recent: tailN(recent, 200), describe: describe, logger: logger,
		judge: model.JudgeConfig{Custom: signals.Judge}, logs: logsCfg,
	}))
	if err != nil {
		return fail(withCode(ExitFailure, err))
	}
	actor := model.Actor{OSUser: osUser(), Via: o.via}
	reconcileOpenIntents(ctx, []*rollout.Engine{engine}, path, clk.Now(), g.reconcileAfter, actor, logger)
	s := &session{
		engine: engine,
		router: router,
		audit:  log,
		actor:  actor,
		logger: logger,
		clock:  clk,
	}
	s.close = func() {
		if s.stop != nil {
			s.stop()
		} else {
			// Headless: no loop, but no action may outlive the log.
			engine.Stop()
		}
		op.close()
	}
	return s, nil
}

// opening is a session being set up: its logger, and what it has opened
// so far, closed in reverse order when setup fails or the session ends.
type opening struct {
	g       *globalFlags
	logger  *slog.Logger
	what    string // what the failure log line says was being done
	closers []func()
}

func startOpening(g *globalFlags, what string) (*opening, error) {
	logger, closeLog, err := openLogger(g)
	if err != nil {
		return nil, withCode(ExitFailure, err)
	}
	return &opening{g: g, logger: logger, what: what, closers: []func(){closeLog}}, nil
}

// fail logs err, closes everything opened and returns err.
func (op *opening) fail(err error) error {
	op.logger.Error(op.what, "err", err)
	op.close()
	return err
}

func (op *opening) close() {
	for i := len(op.closers) - 1; i >= 0; i-- {
		op.closers[i]()
	}
}

// openAudit opens the audit log at path, or --audit-log, or the one in
// the state directory, and returns the path it opened.
func (op *opening) openAudit(path string) (*audit.Log, string, error) {
	path, err := auditLogPath("audit.jsonl", path, op.g.auditLog)
	if err != nil {
		return nil, "", err
	}
	log, err := audit.Open(path)
	if err != nil {
		return nil, "", withCode(ExitFailure, fmt.Errorf("open audit log: %w", err))
	}
	op.closers = append(op.closers, func() { log.Close() })
	return log, path, nil
}

// auditLogPath is the first of paths that is set, or name in perch's state
// directory.
func auditLogPath(name string, paths ...string) (string, error) {
	for _, p := range paths {
		if p != "" {
			return p, nil
		}
	}
	dir, err := stateDir()
	if err != nil {
		return "", withCode(ExitFailure, err)
	}
	return filepath.Join(dir, name), nil
}

// orReal is clk, or the wall clock when the caller (the simulator, a
// test) brings none.
func orReal(clk clock.Clock) clock.Clock {
	if clk == nil {
		return clock.Real{}
	}
	return clk
}

// engineWiring is what sets one target's engine apart from another's.
type engineWiring struct {
	ad         adapters
	cd         *codeDeployTarget // nil unless CodeDeploy moves the traffic
	router     rollout.Router    // ad.router unless the caller renames it
	alarms     rollout.AlarmReader
	identity   rollout.IdentityReader
	alarmNames []string
	ladder     model.Ladder
	plan       *model.Plan
	paused     bool
	judge      model.JudgeConfig
	readOnly   bool // read-only whatever --read-only says (perch.yaml's profile)
	recent     []model.AuditEntry
	describe   func(error) string
	logger     *slog.Logger
	logs       *rollout.LogsConfig // nil: logs not watched
}

// engineConfig is the one place an engine's config is put together, for
// a single cockpit and for every target of a fleet alike.
func engineConfig(g *globalFlags, log rollout.AuditLog, clk clock.Clock, w engineWiring) rollout.Config {
	router := w.router
	if router == nil {
		router = w.ad.router
	}
	return withDeployment(rollout.Config{
		Router:        router,
		Health:        w.ad.health,
		Metrics:       w.ad.metrics,
		Sides:         w.ad.sides,
		Alarms:        w.alarms,
		AlarmNames:    w.alarmNames,
		Identity:      w.identity,
		Audit:         log,
		Clock:         clk,
		Ladder:        w.ladder,
		Plan:          w.plan,
		StartPaused:   w.paused,
		AutopilotUser: osUser(),
		Poll:          g.poll,
		CallTimeout:   g.callTimeout,
		ReadOnly:      g.readOnly || w.readOnly,
		DescribeError: w.describe,
		RecentAudit:   w.recent,
		Judge:         w.judge,
		Logger:        w.logger,
		Logs:          w.logs,
	}, w.cd)
}

// withDeployment steers a CodeDeploy deployment (cd nil: none) as perch
// codedeploy does: CodeDeploy watches the group's alarms, so the engine
// does too, and a finished deployment opens read-only, with nothing left
// to steer.
func withDeployment(cfg rollout.Config, cd *codeDeployTarget) rollout.Config {
	if cd == nil {
		return cfg
	}
	cfg.AlarmNames = mergeAlarms(cfg.AlarmNames, cd.router.AlarmNames())
	cfg.ReadOnly = cfg.ReadOnly || cd.finished
	cfg.Deployment, cfg.Controller = cd.router, cd.router
	return cfg
}

// reconcileOpenIntents closes the intents a crashed perch left without an
// outcome, reading the audit log once for every engine. Intents younger
// than minAge (a minute unless the hidden --reconcile-after says
// otherwise) may belong to another perch that is writing right now, so
// they are left alone.
func reconcileOpenIntents(ctx context.Context, engines []*rollout.Engine, path string, now time.Time, minAge time.Duration, actor model.Actor, logger *slog.Logger) {
	entries, err := audit.ReadAll(path)
	if err != nil {
		logger.Warn("read audit log for reconciliation", "err", err)
		return
	}
	open := map[string][]model.AuditEntry{}
	for _, in := range audit.PendingIntents(entries) {
		if now.Sub(in.Time) >= minAge {
			open[in.Target] = append(open[in.Target], in)
		}
	}
	for _, e := range engines {
		id := e.Snapshot().Target.ID()
		if len(open[id]) == 0 {
			continue
		}
		if written, err := e.Reconcile(ctx, open[id], actor); err != nil {
			logger.Warn("reconcile open intents", "target", id, "err", err)
		} else if len(written) > 0 {
			logger.Info("reconciled open intents", "target", id, "count", len(written))
		}
	}
}

// classify maps a target-resolution error to an exit code: anything the
// operator typed wrong is a usage error; the network is a failure. An
// error that already has its code keeps it.
func classify(err error, describe func(error) string) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	msg := describe(err)
	var nf *perchaws.NotFoundError
	var op *smithy.OperationError
	switch {
	case errors.As(err, &nf):
		return &exitError{code: ExitUsage, err: errors.New(msg)}
	case errors.As(err, &op):
		// An AWS call failed for a reason other than the named resource.
		return &exitError{code: ExitFailure, err: errors.New(msg)}
	}
	// Everything else is the adapter refusing the target's shape or ARN.
	return &exitError{code: ExitUsage, err: errors.New(msg)}
}

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

func staticCredentials() awssdk.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider("test", "test", "")
}
