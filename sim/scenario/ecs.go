package scenario

import (
	"regexp"
	"time"
)

// ECS scripts ECS services whose deployments shift traffic by themselves
// (deploymentConfiguration.strategy CANARY, LINEAR or BLUE_GREEN): ECS moves
// the production listener rule of a scenario ALB between its production
// target group (the ALB's stable one) and the alternate (the ALB's canary
// one), so the scenario's canary parameters are the new revision's.
//
//	ecs:
//	  services:
//	    - cluster: default
//	      name: web
//	      alb: web                 # the scenario ALB whose rule ECS shifts; none: no load balancer
//	      advanced: true           # loadBalancers[].advancedConfiguration (default true with an alb)
//	      strategy: CANARY         # CANARY | LINEAR | BLUE_GREEN | ROLLING
//	      canary_percent: 10       # CANARY (0.1..100, default 5)
//	      canary_bake: 5m          # CANARY, whole minutes (default 10m)
//	      step_percent: 25         # LINEAR (3..100, default 10)
//	      step_bake: 2m            # LINEAR, whole minutes (default 6m)
//	      bake_time: 5m            # after the full shift, both revisions kept (default 0)
//	      scale_up: 1m             # how long the new revision takes to scale up (default 1m)
//	      alarms:                  # created on the alb's metrics; ECS rolls back when one fires
//	        - {side: canary, metric: HTTPCode_Target_5XX_Count, threshold: 5, evaluation_periods: 2}
//	      hooks:                   # PAUSE lifecycle hooks that wait for ContinueServiceDeployment
//	        - {stage: POST_TEST_TRAFFIC_SHIFT, timeout: 30m, timeout_action: ROLLBACK}
//	      deployments:
//	        - at: 1m               # UpdateService with a new task definition this long after the start
//	          stop_after: 4m       # a user stops it with ROLLBACK after this long
type ECS struct {
	Services []ECSService `yaml:"services"`
}

// ECSService is one service and its scripted deployments.
type ECSService struct {
	Cluster       string          `yaml:"cluster"`
	Name          string          `yaml:"name"`
	ALB           string          `yaml:"alb"`
	Advanced      *bool           `yaml:"advanced"`
	Strategy      string          `yaml:"strategy"`
	CanaryPercent float64         `yaml:"canary_percent"`
	CanaryBake    *Duration       `yaml:"canary_bake"`
	StepPercent   float64         `yaml:"step_percent"`
	StepBake      *Duration       `yaml:"step_bake"`
	BakeTime      Duration        `yaml:"bake_time"`
	ScaleUp       *Duration       `yaml:"scale_up"`
	Alarms        []Alarm         `yaml:"alarms"`
	Hooks         []ECSHook       `yaml:"hooks"`
	Deployments   []ECSDeployment `yaml:"deployments"`
}

// ECSHook is a PAUSE lifecycle hook: the deployment waits at the stage,
// AWAITING_ACTION, until ContinueServiceDeployment or the timeout.
type ECSHook struct {
	Stage         string   `yaml:"stage"`
	Timeout       Duration `yaml:"timeout"`        // default 60m
	TimeoutAction string   `yaml:"timeout_action"` // CONTINUE | ROLLBACK (default ROLLBACK)
}

// ECSDeployment is an UpdateService the scenario makes by itself.
type ECSDeployment struct {
	At             Duration `yaml:"at"`
	TaskDefinition string   `yaml:"task_definition"` // default <service>:<n>
	StopAfter      Duration `yaml:"stop_after"`
}

// ECS deployment strategies.
const (
	ECSRolling   = "ROLLING"
	ECSBlueGreen = "BLUE_GREEN"
	ECSCanary    = "CANARY"
	ECSLinear    = "LINEAR"
)

// ECSHookStages are the lifecycle stages a PAUSE hook may wait at.
var ECSHookStages = []string{"RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
	"POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"}

var ecsName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

func (sc *Scenario) validateECS() error {
	if sc.ECS == nil {
		return nil
	}
	albs := map[string]*ALB{}
	for i := range sc.ALBs {
		albs[sc.ALBs[i].Name] = &sc.ALBs[i]
	}
	used := map[string]string{}
	if sc.CodeDeploy != nil {
		for _, g := range sc.CodeDeploy.Groups {
			if g.ALB != "" {
				used[g.ALB] = "CodeDeploy group " + g.Name
			}
		}
	}
	seen := map[string]bool{}
	for i := range sc.ECS.Services {
		p := []any{"ecs", "services", i}
		s := &sc.ECS.Services[i]
		if err := s.validate(p, albs, used, sc.History.D()); err != nil {
			return err
		}
		key := s.Cluster + "/" + s.Name
		if seen[key] {
			return ferr(with(p, "name"), "service %s is named twice", key)
		}
		seen[key] = true
	}
	return nil
}

func (s *ECSService) validate(p []any, albs map[string]*ALB, used map[string]string, history time.Duration) error {
	if s.Cluster == "" {
		s.Cluster = "default"
	}
	if !ecsName.MatchString(s.Cluster) || !ecsName.MatchString(s.Name) {
		return ferr(with(p, "name"), "cluster %q and service %q must be 1-255 letters, digits, - or _", s.Cluster, s.Name)
	}
	if err := s.validateStrategy(p); err != nil {
		return err
	}
	if err := s.validateALB(p, albs, used); err != nil {
		return err
	}
	if s.ScaleUp == nil {
		d := Duration(time.Minute)
		s.ScaleUp = &d
	}
	if s.ScaleUp.D() < 0 || s.ScaleUp.D() > time.Hour {
		return ferr(with(p, "scale_up"), "%s is out of range (0s..1h)", s.ScaleUp.D())
	}
	for j := range s.Alarms {
		if err := (&ALB{Name: s.Name}).validateAlarm(with(p, "alarms", j), &s.Alarms[j]); err != nil {
			return err
		}
	}
	for j := range s.Hooks {
		if err := s.Hooks[j].validate(with(p, "hooks", j)); err != nil {
			return err
		}
	}
	for j, d := range s.Deployments {
		dp := with(p, "deployments", j)
		if d.At.D() < -history {
			return ferr(with(dp, "at"), "%s is before the backfilled history (-%s)", d.At.D(), history)
		}
		if d.StopAfter.D() < 0 {
			return ferr(with(dp, "stop_after"), "%s is negative", d.StopAfter.D())
		}
		if j > 0 && d.At.D() <= s.Deployments[j-1].At.D() {
			return ferr(with(dp, "at"), "deployments are listed in time order")
		}
	}
	return nil
}

func (s *ECSService) validateStrategy(p []any) error {
	wholeMinutes := func(d **Duration, def time.Duration, field string) error {
		if *d == nil {
			v := Duration(def)
			*d = &v
		}
		if v := (*d).D(); v < 0 || v > 1440*time.Minute || v%time.Minute != 0 {
			return ferr(with(p, field), "%s: whole minutes, 0..1440", v)
		}
		return nil
	}
	switch s.Strategy {
	case "":
		s.Strategy = ECSRolling
	case ECSRolling, ECSBlueGreen:
	case ECSCanary:
		if s.CanaryPercent == 0 {
			s.CanaryPercent = 5
		}
		if s.CanaryPercent < 0.1 || s.CanaryPercent > 100 {
			return ferr(with(p, "canary_percent"), "%v is out of range (0.1..100)", s.CanaryPercent)
		}
		if err := wholeMinutes(&s.CanaryBake, 10*time.Minute, "canary_bake"); err != nil {
			return err
		}
	case ECSLinear:
		if s.StepPercent == 0 {
			s.StepPercent = 10
		}
		if s.StepPercent < 3 || s.StepPercent > 100 {
			return ferr(with(p, "step_percent"), "%v is out of range (3..100)", s.StepPercent)
		}
		if err := wholeMinutes(&s.StepBake, 6*time.Minute, "step_bake"); err != nil {
			return err
		}
	default:
		return ferr(with(p, "strategy"), "%q is not ROLLING, BLUE_GREEN, CANARY or LINEAR", s.Strategy)
	}
	if s.Strategy != ECSCanary && (s.CanaryPercent != 0 || s.CanaryBake != nil) {
		return ferr(p, "canary_percent and canary_bake are for the CANARY strategy")
	}
	if s.Strategy != ECSLinear && (s.StepPercent != 0 || s.StepBake != nil) {
		return ferr(p, "step_percent and step_bake are for the LINEAR strategy")
	}
	if b := s.BakeTime.D(); b < 0 || b > 1440*time.Minute || b%time.Minute != 0 {
		return ferr(with(p, "bake_time"), "%s: whole minutes, 0..1440", b)
	}
	return nil
}

func (s *ECSService) validateALB(p []any, albs map[string]*ALB, used map[string]string) error {
	if s.ALB == "" {
		if s.Advanced != nil && *s.Advanced {
			return ferr(with(p, "advanced"), "an advanced configuration needs an alb")
		}
		if len(s.Alarms) > 0 {
			return ferr(with(p, "alarms"), "alarms are on the alb's target groups: name an alb")
		}
		f := false
		s.Advanced = &f
		return nil
	}
	a := albs[s.ALB]
	if a == nil {
		return ferr(with(p, "alb"), "%q is not an ALB in this scenario", s.ALB)
	}
	if prev, ok := used[s.ALB]; ok {
		return ferr(with(p, "alb"), "ALB %q is already shifted by %s", s.ALB, prev)
	}
	used[s.ALB] = "ECS service " + s.Name
	if a.DefaultRule {
		return ferr(with(p, "alb"), "ALB %q splits on its listener default; ECS's production listener rule is a rule", s.ALB)
	}
	if s.Advanced == nil {
		t := true
		s.Advanced = &t
	}
	if *s.Advanced && s.Strategy != ECSRolling && a.CanaryWeight != 0 {
		return ferr(with(p, "alb"), "ALB %q starts with canary_weight %d; ECS starts with all traffic on the production target group (canary_weight: 0)", s.ALB, a.CanaryWeight)
	}
	return nil
}

func (h *ECSHook) validate(p []any) error {
	ok := false
	for _, st := range ECSHookStages {
		ok = ok || h.Stage == st
	}
	if !ok {
		return ferr(with(p, "stage"), "%q is not a lifecycle stage a hook can wait at (%v)", h.Stage, ECSHookStages)
	}
	if h.Timeout == 0 {
		h.Timeout = Duration(time.Hour)
	}
	if h.Timeout.D() < time.Minute || h.Timeout.D() > 24*time.Hour {
		return ferr(with(p, "timeout"), "%s is out of range (1m..24h)", h.Timeout.D())
	}
	switch h.TimeoutAction {
	case "":
		h.TimeoutAction = "ROLLBACK"
	case "ROLLBACK", "CONTINUE":
	default:
		return ferr(with(p, "timeout_action"), "%q is not CONTINUE or ROLLBACK", h.TimeoutAction)
	}
	return nil
}
