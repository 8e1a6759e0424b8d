package ecs

import (
	"github.com/perch-dev/perch/sim/awsproto"
)

// CreateService and UpdateService: the calls that make services and
// start their deployments.

type deploymentConfigIn struct {
	Strategy            string `json:"strategy"`
	BakeTimeInMinutes   *int   `json:"bakeTimeInMinutes"`
	CanaryConfiguration *struct {
		CanaryPercent           *float64 `json:"canaryPercent"`
		CanaryBakeTimeInMinutes *int     `json:"canaryBakeTimeInMinutes"`
	} `json:"canaryConfiguration"`
	LinearConfiguration *struct {
		StepPercent           *float64 `json:"stepPercent"`
		StepBakeTimeInMinutes *int     `json:"stepBakeTimeInMinutes"`
	} `json:"linearConfiguration"`
	Alarms *struct {
		AlarmNames []string `json:"alarmNames"`
		Enable     bool     `json:"enable"`
		Rollback   bool     `json:"rollback"`
	} `json:"alarms"`
}

type loadBalancerIn struct {
	TargetGroupArn        string `json:"targetGroupArn"`
	ContainerName         string `json:"containerName"`
	ContainerPort         int    `json:"containerPort"`
	AdvancedConfiguration *struct {
		AlternateTargetGroupArn string `json:"alternateTargetGroupArn"`
		ProductionListenerRule  string `json:"productionListenerRule"`
		TestListenerRule        string `json:"testListenerRule"`
		RoleArn                 string `json:"roleArn"`
	} `json:"advancedConfiguration"`
}

// apply folds a deploymentConfiguration into cfg, with ECS's defaults.
func (in *deploymentConfigIn) apply(cfg deployConfig) (deployConfig, *awsproto.Error) {
	if in == nil {
		return cfg, nil
	}
	if in.Strategy != "" {
		cfg.strategy = in.Strategy
	}
	switch cfg.strategy {
	case strRolling, strBlueGreen, strCanary, strLinear:
	default:
		return cfg, invalid("deploymentConfiguration.strategy must be ROLLING, BLUE_GREEN, CANARY or LINEAR.")
	}
	if in.BakeTimeInMinutes != nil {
		cfg.bake = *in.BakeTimeInMinutes
	}
	if cfg.strategy == strCanary {
		cfg.canaryPct, cfg.canaryBake = orF(cfg.canaryPct, 5), orI(cfg.canaryBake, 10)
		if c := in.CanaryConfiguration; c != nil {
			cfg.canaryPct, cfg.canaryBake = derefF(c.CanaryPercent, cfg.canaryPct), derefI(c.CanaryBakeTimeInMinutes, cfg.canaryBake)
		}
		if cfg.canaryPct < 0.1 || cfg.canaryPct > 100 || cfg.canaryBake < 0 || cfg.canaryBake > 1440 {
			return cfg, invalid("canaryPercent must be 0.1-100 and canaryBakeTimeInMinutes 0-1440.")
		}
	}
	if cfg.strategy == strLinear {
		cfg.stepPct, cfg.stepBake = orF(cfg.stepPct, 10), orI(cfg.stepBake, 6)
		if c := in.LinearConfiguration; c != nil {
			cfg.stepPct, cfg.stepBake = derefF(c.StepPercent, cfg.stepPct), derefI(c.StepBakeTimeInMinutes, cfg.stepBake)
		}
		if cfg.stepPct < 3 || cfg.stepPct > 100 || cfg.stepBake < 0 || cfg.stepBake > 1440 {
			return cfg, invalid("stepPercent must be 3-100 and stepBakeTimeInMinutes 0-1440.")
		}
	}
	if cfg.bake < 0 || cfg.bake > 1440 {
		return cfg, invalid("bakeTimeInMinutes must be 0-1440.")
	}
	if a := in.Alarms; a != nil {
		cfg.alarms, cfg.alarmsEnable, cfg.alarmsRB = a.AlarmNames, a.Enable, a.Rollback
	}
	return cfg, nil
}

func orF(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

func orI(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func derefF(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

func derefI(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// loadBalancer checks the service's one load balancer.
func (e *Service) loadBalancer(lbs []loadBalancerIn, strategy string) (*lbConfig, *awsproto.Error) {
	switch {
	case len(lbs) == 0:
		return nil, nil
	case len(lbs) > 1:
		return nil, invalid("the simulator supports one load balancer per service.")
	}
	in := lbs[0]
	if e.deps.LoadBalancers.TargetGroupName(in.TargetGroupArn) == "" {
		return nil, invalid("Target group %s does not exist.", in.TargetGroupArn)
	}
	lb := &lbConfig{targetGroup: in.TargetGroupArn, containerName: in.ContainerName, containerPort: in.ContainerPort}
	adv := in.AdvancedConfiguration
	if adv == nil {
		if strategy != strRolling {
			return nil, invalid("advancedConfiguration is required for the %s deployment strategy with an Application Load Balancer.", strategy)
		}
		return lb, nil
	}
	if e.deps.LoadBalancers.TargetGroupName(adv.AlternateTargetGroupArn) == "" {
		return nil, invalid("Alternate target group %s does not exist.", adv.AlternateTargetGroupArn)
	}
	w, err := e.deps.LoadBalancers.RuleWeights(adv.ProductionListenerRule)
	if err != nil {
		return nil, invalid("Production listener rule %s cannot be read: %v", adv.ProductionListenerRule, err)
	}
	if _, ok := w[in.TargetGroupArn]; !ok {
		return nil, invalid("Production listener rule %s does not forward to target group %s.", adv.ProductionListenerRule, in.TargetGroupArn)
	}
	if _, ok := w[adv.AlternateTargetGroupArn]; !ok {
		return nil, invalid("Production listener rule %s does not forward to alternate target group %s.", adv.ProductionListenerRule, adv.AlternateTargetGroupArn)
	}
	lb.alternate, lb.prodRule, lb.testRule, lb.roleARN, lb.advanced = adv.AlternateTargetGroupArn, adv.ProductionListenerRule, adv.TestListenerRule, adv.RoleArn, true
	return lb, nil
}

func (e *Service) createService(body []byte) (any, *awsproto.Error) {
	var in struct {
		Cluster                 string              `json:"cluster"`
		ServiceName             string              `json:"serviceName"`
		TaskDefinition          string              `json:"taskDefinition"`
		DesiredCount            *int                `json:"desiredCount"`
		LaunchType              string              `json:"launchType"`
		LoadBalancers           []loadBalancerIn    `json:"loadBalancers"`
		DeploymentConfiguration *deploymentConfigIn `json:"deploymentConfiguration"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	c, aerr := e.findCluster(in.Cluster)
	if aerr != nil {
		return nil, aerr
	}
	switch {
	case !validName(in.ServiceName):
		return nil, invalid("Service name must be 1-255 letters, numbers, hyphens and underscores.")
	case c.services[in.ServiceName] != nil:
		return nil, invalid("Creation of service was not idempotent.")
	case in.TaskDefinition == "":
		return nil, invalid("TaskDefinition can not be blank.")
	}
	cfg, aerr := in.DeploymentConfiguration.apply(deployConfig{strategy: strRolling})
	if aerr != nil {
		return nil, aerr
	}
	lb, aerr := e.loadBalancer(in.LoadBalancers, cfg.strategy)
	if aerr != nil {
		return nil, aerr
	}
	s := e.addService(c, in.ServiceName, lastSegment(in.TaskDefinition), cfg, lb, e.now, e.newID())
	if in.DesiredCount != nil {
		s.desired = *in.DesiredCount
	}
	if in.LaunchType != "" {
		s.launchType = in.LaunchType
	}
	return obj{"service": s.describe()}, nil
}

func (e *Service) updateService(body []byte) (any, *awsproto.Error) {
	var in struct {
		Cluster                 string              `json:"cluster"`
		Service                 string              `json:"service"`
		TaskDefinition          string              `json:"taskDefinition"`
		DesiredCount            *int                `json:"desiredCount"`
		ForceNewDeployment      bool                `json:"forceNewDeployment"`
		DeploymentConfiguration *deploymentConfigIn `json:"deploymentConfiguration"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	c, aerr := e.findCluster(in.Cluster)
	if aerr != nil {
		return nil, aerr
	}
	s, aerr := e.findService(c, in.Service)
	if aerr != nil {
		return nil, aerr
	}
	td := lastSegment(in.TaskDefinition)
	deploys := in.ForceNewDeployment || (td != "" && td != s.taskDef)
	if deploys && s.active() != nil {
		return nil, invalid("Service deployment %s is in progress; the simulator starts one deployment at a time (stop it first).", s.active().arn)
	}
	cfg, aerr := in.DeploymentConfiguration.apply(s.cfg)
	if aerr != nil {
		return nil, aerr
	}
	if cfg.strategy != strRolling && s.lb != nil && !s.lb.advanced {
		return nil, invalid("advancedConfiguration is required for the %s deployment strategy with an Application Load Balancer.", cfg.strategy)
	}
	s.cfg = cfg
	if in.DesiredCount != nil {
		s.desired = *in.DesiredCount
	}
	if deploys {
		if td == "" {
			td = s.taskDef
		}
		e.startDeployment(s, td, "")
	}
	return obj{"service": s.describe()}, nil
}
