package cli

import (
	"context"
	"log/slog"
	"sync"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
)

// fleetGroup is one AWS config (profile, region, endpoint): a CloudWatch
// client for the shared pool, and one caller identity for all its targets.
type fleetGroup struct {
	key      string
	profile  string
	cfg      awssdk.Config
	describe func(error) string
	identity rollout.IdentityReader
	reader   *perchaws.PollReader // a fleet poll's shared reads

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
	rates   map[string]perchaws.ServiceRates
	clock   clock.Clock
	logger  *slog.Logger
	history []model.AuditEntry // the audit log, for each target's canary

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
		Profile: profile, Region: region, EndpointURL: gs.g.endpointURL, Credentials: gs.creds, Logger: gs.logger,
		CallTimeout: gs.g.callTimeout,
	})
	if err != nil {
		return nil, configErr(err)
	}
	gs.counter.Attach(&cfg)
	// One budget per profile and region: AWS's limits are per account
	// and region. On the session's clock, so a demo's budget is in
	// simulated time like the simulator's limits.
	perchaws.NewRateLimiter(gs.clock, gs.rates).Attach(&cfg)
	fg := &fleetGroup{
		key: key, profile: profile, cfg: cfg, identity: perchaws.NewIdentity(cfg), reader: perchaws.NewPollReader(cfg),
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
	logs   *rollout.LogsConfig // nil: the target's logs are not watched
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
	ad, cd, err := openAnyTarget(ctx, fg.cfg, tf, sessionOptions{clock: gs.clock, history: gs.history}, gs.g.poll)
	if err != nil {
		return fleetTarget{}, classify(err, fg.describe)
	}
	out := fleetTarget{ad: ad, cd: cd, group: fg}
	// Saturation queries join the target's own before they are shared.
	if out.logs, err = wireSignals(fg.cfg, ad, t.Signals, false); err != nil {
		return fleetTarget{}, err
	}
	defs, err := customMetrics(ad.router.Target(), t.Custom)
	if err != nil {
		return fleetTarget{}, configErr(err)
	}
	custom, err := perchaws.CustomQueries(defs)
	if err != nil {
		return fleetTarget{}, configErr(err)
	}
	if src, ok := perchaws.SharedFrom(ad.metrics, custom); ok {
		if t.Kind == model.KindALB {
			// Target health rides in the metrics calls.
			src = src.WithHostCounts(ad.router.Target())
		}
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
	case model.KindECS:
		tf.ecsCluster, tf.ecsService, tf.ecsDeploymentARN = t.Cluster, t.Service, t.DeploymentARN
	default:
		return nil, usageErr("%s targets cannot be opened from a config file yet", t.Kind)
	}
	return tf, nil
}
