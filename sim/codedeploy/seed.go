package codedeploy

import (
	"fmt"
	"math"
	"time"

	"github.com/perch-dev/perch/sim/ids"
	"github.com/perch-dev/perch/sim/scenario"
)

// Seed creates the scenario's custom configurations, applications and
// groups, and schedules the scripted deployments; albs are the manifest
// targets of the scenario's ALB canaries by name, start is the
// simulator's start. It returns the manifest targets. The groups' alarms
// are named but not created: the simulator creates them in CloudWatch.
// Deployment IDs come from a stream keyed by the group, so the manifest
// can name a deployment before it exists.
func (c *Service) Seed(sc *scenario.Scenario, albs map[string]scenario.ManifestTarget, seed int64, start time.Time) ([]scenario.ManifestTarget, error) {
	cd := sc.CodeDeploy
	if cd == nil {
		return nil, nil
	}
	for i, spec := range cd.Configs {
		c.configs[spec.Name] = &cdConfig{
			name: spec.Name, platform: spec.ComputePlatform, routing: spec.Type,
			percentage: spec.Percentage, interval: spec.Interval,
			id:      fmt.Sprintf("%08x-%04x-4%03x-9%03x-%012x", 0xc05700+i, i, i, i, 0xc0ffee0000+int64(i)),
			created: start.Add(-7 * 24 * time.Hour).Truncate(time.Second),
		}
	}
	var out []scenario.ManifestTarget
	for i := range cd.Groups {
		targets, err := c.seedGroup(sc, &cd.Groups[i], albs, seed, start)
		if err != nil {
			return nil, fmt.Errorf("codedeploy group %s/%s: %w", cd.Groups[i].Application, cd.Groups[i].Name, err)
		}
		out = append(out, targets...)
	}
	return out, nil
}

func (c *Service) seedGroup(sc *scenario.Scenario, spec *scenario.CodeDeployGroup, albs map[string]scenario.ManifestTarget,
	seed int64, start time.Time) ([]scenario.ManifestTarget, error) {
	gen := ids.NewSource(seed, "codedeploy:"+spec.Application+"/"+spec.Name)
	app := c.apps[spec.Application]
	if app == nil {
		app = &cdApp{name: spec.Application, id: gen.UUID(), platform: spec.ComputePlatform,
			created: start.Add(-30 * 24 * time.Hour).Truncate(time.Second), groups: map[string]*cdGroup{}}
		c.apps[app.name] = app
	} else if app.platform != spec.ComputePlatform {
		return nil, fmt.Errorf("application %s is %s, the group is %s", app.name, app.platform, spec.ComputePlatform)
	}
	g := &cdGroup{
		app: app, name: spec.Name, id: gen.UUID(), platform: spec.ComputePlatform, config: spec.DeploymentConfig,
		autoRollback: *spec.AutoRollback, installTime: spec.InstallTime.D(),
		readyWait: spec.ReadyWait.D(), terminationWait: spec.TerminationWait.D(),
	}
	if g.autoRollback {
		g.rollbackEvents = []string{cdOnFailure, cdOnAlarm}
	}
	for _, al := range spec.Alarms {
		g.alarms = append(g.alarms, al.Name)
	}
	target := scenario.ManifestTarget{Kind: "codedeploy", Name: app.name + "/" + g.name, ComputePlatform: g.platform,
		Application: app.name, DeploymentGroup: g.name}
	switch g.platform {
	case cdECS:
		alb := albs[spec.ALB]
		g.cluster, g.service, g.ruleARN, g.listenerARN = spec.Cluster, spec.Service, alb.RuleARN, alb.ListenerARN
		g.tgs = [2]cdTG{{alb.StableTargetGroupARN, c.deps.LoadBalancers.TargetGroupName(alb.StableTargetGroupARN)},
			{alb.CanaryTargetGroupARN, c.deps.LoadBalancers.TargetGroupName(alb.CanaryTargetGroupARN)}}
		for _, a := range sc.ALBs {
			if a.Name == spec.ALB {
				g.desired = *a.TargetsPerSide
			}
		}
		target.LoadBalancerARN, target.ListenerARN, target.RuleARN = alb.LoadBalancerARN, alb.ListenerARN, alb.RuleARN
		target.StableTargetGroupARN, target.CanaryTargetGroupARN = alb.StableTargetGroupARN, alb.CanaryTargetGroupARN
	case cdLambda:
		var l *scenario.Lambda
		for i := range sc.Lambdas {
			if sc.Lambdas[i].Name == spec.Lambda {
				l = &sc.Lambdas[i]
			}
		}
		g.function, g.alias, g.targetVersion = l.Name, l.Alias, l.CanaryVersion
		target.Function, target.Alias = l.Name, l.Alias
		target.AliasARN = c.deps.Functions.FunctionARN(l.Name) + ":" + l.Alias
		target.StableVersion, target.CanaryVersion = l.StableVersion, l.CanaryVersion
	case cdServer:
		for range spec.Instances {
			g.instances = append(g.instances, gen.Instance())
		}
		target.Note = "an EC2/on-premises (Server) deployment group: in-place deployments replace instances and shift no traffic"
	}
	target.Alarms = append([]string(nil), g.alarms...)
	app.groups[g.name] = g

	// The manifest names the first deployment still to come (or the last
	// scripted one); earlier ones are listed as finished extras.
	var featured string
	var past []string
	for i := range spec.Deployments {
		ds := &spec.Deployments[i]
		id := newDeploymentID(gen.Rand())
		c.pending = append(c.pending, &pendingDeployment{at: start.Add(ds.At.D()), id: id, group: g, spec: ds, stopAfter: ds.StopAfter.D()})
		if ds.At.D() >= 0 && featured == "" {
			featured = id
		} else if ds.At.D() < 0 {
			past = append(past, id)
		}
	}
	if featured == "" && len(past) > 0 {
		featured, past = past[len(past)-1], past[:len(past)-1]
	}
	main := target
	main.DeploymentID = featured
	out := []scenario.ManifestTarget{main}
	if g.platform != cdServer {
		for _, id := range past {
			t := target
			t.Name, t.DeploymentID = target.Name+"/"+id, id
			t.Note = "a deployment that finished before the simulation started (for read-only tests)"
			out = append(out, t)
		}
	}
	return out, nil
}

// DeploymentState is a deployment as the simulator holds it, for tests.
type DeploymentState struct {
	ID, Status, Creator     string
	ErrorCode, ErrorMessage string
	RollbackDeploymentID    string
	RollbackOf              string
	// GreenPercent is the replacement's share as CodeDeploy last set it.
	GreenPercent float64
}

// Deployment returns a deployment's state.
func (c *Service) Deployment(id string) (DeploymentState, error) {
	d := c.byID[id]
	if d == nil {
		return DeploymentState{}, fmt.Errorf("deployment %s: not found", id)
	}
	return DeploymentState{ID: d.id, Status: d.status, Creator: d.creator, ErrorCode: d.errCode, ErrorMessage: d.errMessage,
		RollbackDeploymentID: d.rollbackID, RollbackOf: d.rollbackOf, GreenPercent: math.Round(d.greenPct*100) / 100}, nil
}
