package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/cloudwatch"
	"github.com/perch-dev/perch/sim/elbv2"
	"github.com/perch-dev/perch/sim/lambda"
	"github.com/perch-dev/perch/sim/logs"
	"github.com/perch-dev/perch/sim/metrics"
	"github.com/perch-dev/perch/sim/scenario"
)

// seedScenario has each service seed its part of the scenario, in the
// order that fixes the manifest's (ALBs, Lambdas, CodeDeploy groups), and
// creates the scenario's alarms in CloudWatch; the traffic models publish
// to sink.
func (s *Sim) seedScenario(sink metrics.Sink) error {
	sc := s.scenario
	s.elb.StartTraffic(sink, s.seed, s.start, sc.History.D(), sc.PublishDelay.D())
	for i := range sc.ALBs {
		a := &sc.ALBs[i]
		targets := s.elb.SeedALB(a, elbv2.Seeding{Seed: s.seed, Start: s.start, History: sc.History.D(), Caller: s.callerARN})
		names, err := s.albAlarms(a, targets[0])
		if err != nil {
			return fmt.Errorf("alb %s: %w", a.Name, err)
		}
		targets[0].Alarms = names
		s.targets = append(s.targets, targets...)
	}
	s.lambda.StartTraffic(sink, s.seed, s.start, sc.History.D(), sc.PublishDelay.D())
	for i := range sc.Lambdas {
		s.targets = append(s.targets, s.lambda.SeedFunction(&sc.Lambdas[i], s.seed, s.start)...)
	}
	albs := map[string]ManifestTarget{}
	for _, t := range s.targets {
		if t.Kind == "alb" {
			albs[t.Name] = t
		}
	}
	s.seedLogs(albs)
	targets, err := s.codedeploy.Seed(sc, albs, s.seed, s.start)
	if err != nil {
		return err
	}
	s.targets = append(s.targets, targets...)
	if sc.CodeDeploy != nil {
		for i := range sc.CodeDeploy.Groups {
			g := &sc.CodeDeploy.Groups[i]
			if err := s.groupAlarms(g, albs[g.ALB]); err != nil {
				return fmt.Errorf("codedeploy group %s/%s: %w", g.Application, g.Name, err)
			}
		}
	}
	return s.seedECS(albs)
}

// seedECS seeds the ECS services and creates their alarms, on the target
// groups of the ALB each shifts, which ECS watches.
func (s *Sim) seedECS(albs map[string]ManifestTarget) error {
	sc := s.scenario
	s.targets = append(s.targets, s.ecs.Seed(sc, albs, s.seed, s.start)...)
	if sc.ECS == nil {
		return nil
	}
	for _, svc := range sc.ECS.Services {
		alb := albs[svc.ALB]
		for _, al := range svc.Alarms {
			tgARN := alb.StableTargetGroupARN
			if al.Side == "canary" {
				tgARN = alb.CanaryTargetGroupARN
			}
			def := alarmDef(al, elbv2.Namespace, elbv2.MetricDimensions(alb.LoadBalancerARN, tgARN),
				fmt.Sprintf("%s %s of the %s target group %s, watched by ECS service %s/%s", al.Statistic, al.Metric, al.Side, s.elb.TargetGroupName(tgARN), svc.Cluster, svc.Name))
			if err := s.cw.PutAlarm(def); err != nil {
				return fmt.Errorf("ecs service %s/%s: alarm %s: %w", svc.Cluster, svc.Name, al.Name, err)
			}
		}
	}
	return nil
}

// albAlarms creates an ALB canary's scenario alarms, on the metrics of
// the side each watches, and returns their names.
func (s *Sim) albAlarms(a *ALB, t ManifestTarget) ([]string, error) {
	var names []string
	for _, al := range a.Alarms {
		tgARN := t.StableTargetGroupARN
		if al.Side == "canary" {
			tgARN = t.CanaryTargetGroupARN
		}
		def := alarmDef(al, elbv2.Namespace, elbv2.MetricDimensions(t.LoadBalancerARN, tgARN),
			fmt.Sprintf("%s %s of %s on %s (from scenario %s)", al.Statistic, al.Metric, al.Side, a.Name, s.scenario.Name))
		if err := s.cw.PutAlarm(def); err != nil {
			return nil, fmt.Errorf("alarm %s: %w", al.Name, err)
		}
		names = append(names, al.Name)
	}
	return names, nil
}

// groupAlarms creates a CodeDeploy group's alarms, which CodeDeploy
// watches: on the target groups of the ALB an ECS group shifts (alb), or on
// the per-version metrics of the alias a Lambda group routes.
func (s *Sim) groupAlarms(g *CodeDeployGroup, alb ManifestTarget) error {
	for _, al := range g.Alarms {
		var def cloudwatch.AlarmDef
		switch g.ComputePlatform {
		case scenario.PlatformECS:
			tgARN := alb.StableTargetGroupARN
			if al.Side == "canary" {
				tgARN = alb.CanaryTargetGroupARN
			}
			def = alarmDef(al, elbv2.Namespace, elbv2.MetricDimensions(alb.LoadBalancerARN, tgARN),
				fmt.Sprintf("%s %s of the %s target group %s, watched by CodeDeploy group %s", al.Statistic, al.Metric, al.Side, s.elb.TargetGroupName(tgARN), g.Name))
		case scenario.PlatformLambda:
			var l *Lambda
			for i := range s.scenario.Lambdas {
				if s.scenario.Lambdas[i].Name == g.Lambda {
					l = &s.scenario.Lambdas[i]
				}
			}
			version := l.StableVersion
			if al.Side == "canary" {
				version = l.CanaryVersion
			}
			def = alarmDef(al, lambda.Namespace, []metrics.Dimension{
				{Name: "FunctionName", Value: l.Name}, {Name: "Resource", Value: l.Name + ":" + l.Alias},
				{Name: "ExecutedVersion", Value: version},
			}, fmt.Sprintf("%s %s of version %s through %s:%s, watched by CodeDeploy group %s", al.Statistic, al.Metric, version, l.Name, l.Alias, g.Name))
			if al.Metric == "Duration" {
				def.Unit = "Milliseconds"
			}
		}
		if err := s.cw.PutAlarm(def); err != nil {
			return fmt.Errorf("alarm %s: %w", al.Name, err)
		}
	}
	return nil
}

// alarmDef is a scenario alarm as CloudWatch's PutMetricAlarm takes it.
func alarmDef(al Alarm, namespace string, dims []metrics.Dimension, desc string) cloudwatch.AlarmDef {
	def := cloudwatch.AlarmDef{
		Name: al.Name, Description: desc, Namespace: namespace, MetricName: al.Metric, Dimensions: dims,
		Period:             int64(al.Period.D() / time.Second),
		EvaluationPeriods:  int64(al.EvaluationPeriods),
		DatapointsToAlarm:  int64(al.DatapointsToAlarm),
		Threshold:          al.Threshold,
		ComparisonOperator: al.Comparison,
		TreatMissingData:   al.TreatMissingData,
	}
	if strings.HasPrefix(al.Statistic, "p") {
		def.ExtendedStatistic = al.Statistic
	} else {
		def.Statistic = al.Statistic
	}
	return def
}

// seedLogs has the scenario's canaries log: each side's lines follow its
// target group's (or version's) published request and 5xx counts.
func (s *Sim) seedLogs(albs map[string]ManifestTarget) {
	for i := range s.scenario.ALBs {
		a := &s.scenario.ALBs[i]
		t := albs[a.Name]
		side := func(tg string) logs.SideMetrics {
			return logs.SideMetrics{Namespace: elbv2.Namespace, Requests: "RequestCount", Errors: "HTTPCode_Target_5XX_Count",
				Dimensions: elbv2.MetricDimensions(t.LoadBalancerARN, tg)}
		}
		s.logs.AddALB(a, [2]logs.SideMetrics{side(t.StableTargetGroupARN), side(t.CanaryTargetGroupARN)})
		s.describeSignals(a)
	}
	for i := range s.scenario.Lambdas {
		l := &s.scenario.Lambdas[i]
		side := func(version string) logs.SideMetrics {
			return logs.SideMetrics{Namespace: lambda.Namespace, Requests: "Invocations", Errors: "Errors",
				Dimensions: []metrics.Dimension{{Name: "FunctionName", Value: l.Name}, {Name: "Resource", Value: l.Name + ":" + l.Alias},
					{Name: "ExecutedVersion", Value: version}}}
		}
		s.logs.AddLambda(l, [2]logs.SideMetrics{side(l.StableVersion), side(l.CanaryVersion)})
		if l.Logs != nil {
			for i := range s.targets {
				if t := &s.targets[i]; t.Kind == "lambda" && t.Function == l.Name && t.Note == "" {
					t.LogGroup = l.Logs.Group
				}
			}
		}
	}
}

// describeSignals puts an ALB canary's log group and ECS services in the
// manifest, so a client (the demo) can watch them.
func (s *Sim) describeSignals(a *ALB) {
	for i := range s.targets {
		t := &s.targets[i]
		if t.Kind != "alb" || t.Name != a.Name || t.Note != "" {
			continue
		}
		if a.Logs != nil {
			t.LogGroup, t.StableStreamPrefix, t.CanaryStreamPrefix = a.Logs.Group, a.Name+"-stable/", a.Name+"-canary/"
		}
		if sat := a.Saturation; sat != nil {
			t.ECSCluster, t.StableECSService, t.CanaryECSService = sat.Cluster, sat.StableService, sat.CanaryService
		}
	}
}
