package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/perch-dev/perch/sim/elbv2"
	"github.com/perch-dev/perch/sim/ids"
	"github.com/perch-dev/perch/sim/lambda"
	"github.com/perch-dev/perch/sim/metrics"
)

// seedCodeDeploy creates the custom configurations, applications and
// groups (with their alarms), and schedules the scripted deployments.
// Deployment IDs come from a stream keyed by the group, so the manifest
// can name a deployment before it exists.
func (s *Sim) seedCodeDeploy() error {
	cd := s.scenario.CodeDeploy
	if cd == nil {
		return nil
	}
	c := s.codedeploy
	for i, spec := range cd.Configs {
		c.configs[spec.Name] = &cdConfig{
			name: spec.Name, platform: spec.ComputePlatform, routing: spec.Type,
			percentage: spec.Percentage, interval: spec.Interval,
			id:      fmt.Sprintf("%08x-%04x-4%03x-9%03x-%012x", 0xc05700+i, i, i, i, 0xc0ffee0000+int64(i)),
			created: s.start.Add(-7 * 24 * time.Hour).Truncate(time.Second),
		}
	}
	for i := range cd.Groups {
		if err := s.seedGroup(&cd.Groups[i]); err != nil {
			return fmt.Errorf("codedeploy group %s/%s: %w", cd.Groups[i].Application, cd.Groups[i].Name, err)
		}
	}
	return nil
}

func (s *Sim) seedGroup(spec *CodeDeployGroup) error {
	c := s.codedeploy
	gen := ids.NewSource(s.seed, "codedeploy:"+spec.Application+"/"+spec.Name)
	app := c.apps[spec.Application]
	if app == nil {
		app = &cdApp{name: spec.Application, id: gen.UUID(), platform: spec.ComputePlatform,
			created: s.start.Add(-30 * 24 * time.Hour).Truncate(time.Second), groups: map[string]*cdGroup{}}
		c.apps[app.name] = app
	} else if app.platform != spec.ComputePlatform {
		return fmt.Errorf("application %s is %s, the group is %s", app.name, app.platform, spec.ComputePlatform)
	}
	g := &cdGroup{
		app: app, name: spec.Name, id: gen.UUID(), platform: spec.ComputePlatform, config: spec.DeploymentConfig,
		autoRollback: *spec.AutoRollback, installTime: spec.InstallTime.D(),
		readyWait: spec.ReadyWait.D(), terminationWait: spec.TerminationWait.D(),
	}
	if g.autoRollback {
		g.rollbackEvents = []string{cdOnFailure, cdOnAlarm}
	}
	target := ManifestTarget{Kind: "codedeploy", Name: app.name + "/" + g.name, ComputePlatform: g.platform,
		Application: app.name, DeploymentGroup: g.name}
	switch g.platform {
	case cdECS:
		var alb ManifestTarget
		for _, t := range s.targets {
			if t.Kind == "alb" && t.Name == spec.ALB {
				alb = t
			}
		}
		g.cluster, g.service, g.ruleARN, g.listenerARN = spec.Cluster, spec.Service, alb.RuleARN, alb.ListenerARN
		g.tgs = [2]cdTG{{alb.StableTargetGroupARN, s.elb.TargetGroupName(alb.StableTargetGroupARN)},
			{alb.CanaryTargetGroupARN, s.elb.TargetGroupName(alb.CanaryTargetGroupARN)}}
		for _, a := range s.scenario.ALBs {
			if a.Name == spec.ALB {
				g.desired = *a.TargetsPerSide
			}
		}
		target.LoadBalancerARN, target.ListenerARN, target.RuleARN = alb.LoadBalancerARN, alb.ListenerARN, alb.RuleARN
		target.StableTargetGroupARN, target.CanaryTargetGroupARN = alb.StableTargetGroupARN, alb.CanaryTargetGroupARN
		for _, al := range spec.Alarms {
			tg := g.tgs[0]
			if al.Side == "canary" {
				tg = g.tgs[1]
			}
			lbARN := alb.LoadBalancerARN
			if err := s.cw.PutAlarm(alarmDef(al, elbv2.Namespace, elbv2.MetricDimensions(lbARN, tg.arn), fmt.Sprintf("%s %s of the %s target group %s, watched by CodeDeploy group %s", al.Statistic, al.Metric, al.Side, tg.name, g.name))); err != nil {
				return fmt.Errorf("alarm %s: %w", al.Name, err)
			}
			g.alarms = append(g.alarms, al.Name)
		}
	case cdLambda:
		var l *Lambda
		for i := range s.scenario.Lambdas {
			if s.scenario.Lambdas[i].Name == spec.Lambda {
				l = &s.scenario.Lambdas[i]
			}
		}
		g.function, g.alias, g.targetVersion = l.Name, l.Alias, l.CanaryVersion
		target.Function, target.Alias = l.Name, l.Alias
		target.AliasARN = s.lambda.FunctionARN(l.Name) + ":" + l.Alias
		target.StableVersion, target.CanaryVersion = l.StableVersion, l.CanaryVersion
		for _, al := range spec.Alarms {
			version := l.StableVersion
			if al.Side == "canary" {
				version = l.CanaryVersion
			}
			unit := ""
			if al.Metric == "Duration" {
				unit = "Milliseconds"
			}
			def := alarmDef(al, lambda.Namespace, []metrics.Dimension{
				{Name: "FunctionName", Value: l.Name}, {Name: "Resource", Value: l.Name + ":" + l.Alias},
				{Name: "ExecutedVersion", Value: version},
			}, fmt.Sprintf("%s %s of version %s through %s:%s, watched by CodeDeploy group %s", al.Statistic, al.Metric, version, l.Name, l.Alias, g.name))
			def.Unit = unit
			if err := s.cw.PutAlarm(def); err != nil {
				return fmt.Errorf("alarm %s: %w", al.Name, err)
			}
			g.alarms = append(g.alarms, al.Name)
		}
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
		c.pending = append(c.pending, &pendingDeployment{at: s.start.Add(ds.At.D()), id: id, group: g, spec: ds, stopAfter: ds.StopAfter.D()})
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
	s.targets = append(s.targets, main)
	if g.platform != cdServer {
		for _, id := range past {
			t := target
			t.Name, t.DeploymentID = target.Name+"/"+id, id
			t.Note = "a deployment that finished before the simulation started (for read-only tests)"
			s.targets = append(s.targets, t)
		}
	}
	return nil
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

// Deployment returns a deployment's state after bringing the simulation
// up to the clock's now.
func (s *Sim) Deployment(id string) (DeploymentState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	d := s.codedeploy.byID[id]
	if d == nil {
		return DeploymentState{}, fmt.Errorf("deployment %s: not found", id)
	}
	return DeploymentState{ID: d.id, Status: d.status, Creator: d.creator, ErrorCode: d.errCode, ErrorMessage: d.errMessage,
		RollbackDeploymentID: d.rollbackID, RollbackOf: d.rollbackOf, GreenPercent: math.Round(d.greenPct*100) / 100}, nil
}
