package ecs

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/ids"
	"github.com/perch-dev/perch/sim/scenario"
)

// pendingDeployment is a scripted UpdateService not made yet.
type pendingDeployment struct {
	at        time.Time
	id        string
	svc       *service
	taskDef   string
	stopAfter time.Duration
}

// Service is the simulated ECS. Its methods run with the Sim's mutex
// held: the server holds it for every request, and the Sim's own entry
// points take it.
type Service struct {
	deps            Deps
	region, account string
	clusters        map[string]*cluster
	byARN           map[string]*deployment
	revisions       map[string]*revision
	pending         []*pendingDeployment
	ids             *rand.Rand
	now             time.Time
}

// New is an account's ECS in region; from is where simulated time begins
// (the start of the backfilled history), seed drives the IDs.
func New(deps Deps, region, account string, seed int64, from time.Time) *Service {
	return &Service{
		deps: deps, region: region, account: account,
		clusters:  map[string]*cluster{},
		byARN:     map[string]*deployment{},
		revisions: map[string]*revision{},
		ids:       rand.New(rand.NewPCG(uint64(seed), 0xec5)),
		now:       from,
	}
}

// newID is a service deployment ID: 22 letters and digits.
func newID(r *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	for range 22 {
		b.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func (e *Service) newID() string { return newID(e.ids) }

func (e *Service) arnPrefix() string { return fmt.Sprintf("arn:aws:ecs:%s:%s:", e.region, e.account) }

// addCluster creates (or returns) a cluster.
func (e *Service) addCluster(name string, at time.Time) *cluster {
	if c := e.clusters[name]; c != nil {
		return c
	}
	c := &cluster{name: name, arn: e.arnPrefix() + "cluster/" + name, created: at, services: map[string]*service{}}
	e.clusters[name] = c
	return c
}

// addService creates a service with its first revision already serving.
func (e *Service) addService(c *cluster, name, taskDef string, cfg deployConfig, lb *lbConfig, at time.Time, revID string) *service {
	s := &service{cluster: c, name: name, arn: e.arnPrefix() + "service/" + c.name + "/" + name, created: at,
		createdBy: "arn:aws:iam::" + e.account + ":role/deployer", taskDef: taskDef, desired: 3, launchType: "FARGATE",
		cfg: cfg, lb: lb, scaleUp: time.Minute}
	tg := ""
	if lb != nil {
		tg = lb.targetGroup
	}
	s.seq++
	s.current = s.nextRevision(taskDef, tg, fmt.Sprintf("%d%s", s.seq, revID[:8]), at)
	e.revisions[s.current.arn] = s.current
	c.services[name] = s
	return s
}

// Seed creates the scenario's clusters and services and schedules the
// scripted deployments; albs are the manifest targets of the scenario's
// ALB canaries by name. It returns the manifest targets. The services'
// alarms are named but not created: the simulator creates them in
// CloudWatch. IDs come from a stream keyed by the service, so the
// manifest can name a deployment before it exists.
func (e *Service) Seed(sc *scenario.Scenario, albs map[string]scenario.ManifestTarget, seed int64, start time.Time) []scenario.ManifestTarget {
	if sc.ECS == nil {
		return nil
	}
	var out []scenario.ManifestTarget
	for i := range sc.ECS.Services {
		out = append(out, e.seedService(&sc.ECS.Services[i], albs, seed, start)...)
	}
	sort.SliceStable(e.pending, func(i, j int) bool { return e.pending[i].at.Before(e.pending[j].at) })
	return out
}

func (e *Service) seedService(spec *scenario.ECSService, albs map[string]scenario.ManifestTarget, seed int64, start time.Time) []scenario.ManifestTarget {
	gen := ids.NewSource(seed, "ecs:"+spec.Cluster+"/"+spec.Name)
	created := start.Add(-30 * 24 * time.Hour).Truncate(time.Second)
	c := e.addCluster(spec.Cluster, created)
	cfg := configFrom(spec, e.account)
	var lb *lbConfig
	target := scenario.ManifestTarget{Kind: "ecs", Name: spec.Cluster + "/" + spec.Name, Cluster: spec.Cluster, Service: spec.Name,
		Strategy: spec.Strategy, Alarms: append([]string(nil), cfg.alarms...)}
	if spec.ALB != "" {
		alb := albs[spec.ALB]
		lb = &lbConfig{targetGroup: alb.StableTargetGroupARN, containerName: spec.Name, containerPort: 8080}
		if *spec.Advanced {
			lb.alternate, lb.prodRule, lb.advanced = alb.CanaryTargetGroupARN, alb.RuleARN, true
			lb.roleARN = "arn:aws:iam::" + e.account + ":role/ecsInfrastructureRoleForLoadBalancers"
		}
		target.LoadBalancerARN, target.ListenerARN, target.RuleARN = alb.LoadBalancerARN, alb.ListenerARN, alb.RuleARN
		target.StableTargetGroupARN, target.CanaryTargetGroupARN = alb.StableTargetGroupARN, alb.CanaryTargetGroupARN
	}
	s := e.addService(c, spec.Name, spec.Name+":1", cfg, lb, created, newID(gen.Rand()))
	s.scaleUp = spec.ScaleUp.D()
	if spec.Strategy == scenario.ECSRolling || !*spec.Advanced {
		target.Note = "a service perch cannot watch: its deployments shift no traffic by themselves (for bad-input tests)"
	}
	// The manifest features the first deployment still to come; earlier
	// ones are listed as finished extras.
	depARN := func(id string) string {
		return fmt.Sprintf("%sservice-deployment/%s/%s/%s", e.arnPrefix(), spec.Cluster, spec.Name, id)
	}
	var past []string
	for i, ds := range spec.Deployments {
		id := newID(gen.Rand())
		td := ds.TaskDefinition
		if td == "" {
			td = fmt.Sprintf("%s:%d", spec.Name, i+2)
		}
		e.pending = append(e.pending, &pendingDeployment{at: start.Add(ds.At.D()), id: id, svc: s, taskDef: td, stopAfter: ds.StopAfter.D()})
		switch {
		case ds.At.D() < 0:
			past = append(past, id)
		case target.DeploymentARN == "":
			target.DeploymentARN = depARN(id)
		}
	}
	out := []scenario.ManifestTarget{target}
	for _, id := range past {
		t := target
		t.Name, t.DeploymentARN = target.Name+"/"+id, depARN(id)
		t.Note = "a deployment that finished before the simulation started (for read-only tests)"
		out = append(out, t)
	}
	return out
}

// configFrom is a scenario service's deploymentConfiguration.
func configFrom(spec *scenario.ECSService, account string) deployConfig {
	cfg := deployConfig{strategy: spec.Strategy, canaryPct: spec.CanaryPercent, stepPct: spec.StepPercent,
		bake: int(spec.BakeTime.D() / time.Minute)}
	if spec.CanaryBake != nil {
		cfg.canaryBake = int(spec.CanaryBake.D() / time.Minute)
	}
	if spec.StepBake != nil {
		cfg.stepBake = int(spec.StepBake.D() / time.Minute)
	}
	for _, al := range spec.Alarms {
		cfg.alarms = append(cfg.alarms, al.Name)
	}
	cfg.alarmsEnable, cfg.alarmsRB = len(cfg.alarms) > 0, len(cfg.alarms) > 0
	for i, h := range spec.Hooks {
		cfg.hooks = append(cfg.hooks, hookSpec{
			targetARN:     fmt.Sprintf("arn:aws:lambda:us-east-1:%s:function:%s-approval-%d", account, spec.Name, i+1),
			roleARN:       "arn:aws:iam::" + account + ":role/ecsLifecycleHooks",
			stages:        []string{h.Stage},
			timeout:       h.Timeout.D(),
			timeoutAction: h.TimeoutAction,
		})
	}
	return cfg
}

// DeploymentState is a deployment as the simulator holds it, for tests.
type DeploymentState struct {
	ARN, Status, Stage string
	// TargetPercent is the target revision's share as ECS last set it.
	TargetPercent float64
	HookID        string
}

// Deployment returns a deployment's state.
func (e *Service) Deployment(arn string) (DeploymentState, error) {
	d := e.byARN[arn]
	if d == nil {
		return DeploymentState{}, fmt.Errorf("service deployment %s: not found", arn)
	}
	st := DeploymentState{ARN: d.arn, Status: d.status, Stage: d.stage, TargetPercent: d.pct}
	if d.hook != nil {
		st.HookID = d.hook.id
	}
	return st, nil
}
