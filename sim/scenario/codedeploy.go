package scenario

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
)

// CodeDeploy scripts CodeDeploy applications, deployment groups and
// their deployments. A group shifts traffic on something the scenario
// already has: an ALB's rule (ECS blue/green: blue and green are the
// ALB's stable and canary target groups, so the scenario's canary
// parameters are the new version's) or a Lambda alias (the scenario's
// canary version is the version deployed).
//
//	codedeploy:
//	  deployment_configs:
//	    - {name: Custom.Canary20Percent2Minutes, compute_platform: ECS, type: TimeBasedCanary, percentage: 20, interval: 2}
//	  deployment_groups:
//	    - application: web
//	      name: web-bg
//	      compute_platform: ECS          # ECS | Lambda | Server
//	      alb: web                       # ECS: the scenario ALB whose rule CodeDeploy shifts
//	      cluster: default               # ECS service identity (default cluster "default", service = alb)
//	      lambda: orders                 # Lambda: the scenario function (its alias and canary version)
//	      instances: 3                   # Server: instances an in-place deployment goes through
//	      deployment_config: CodeDeployDefault.ECSCanary10Percent5Minutes
//	      auto_rollback: true            # DEPLOYMENT_FAILURE and DEPLOYMENT_STOP_ON_ALARM
//	      install_time: 1m               # pre-traffic hooks (ECS default 1m, Lambda 0s, Server 3m)
//	      ready_wait: 0s                 # ECS: wait in Ready this long for ContinueDeployment
//	      termination_wait: 5m           # ECS: keep the original task set this long
//	      alarms:                        # created on the group's metrics and watched by CodeDeploy
//	        - {side: canary, metric: HTTPCode_Target_5XX_Count, threshold: 5, evaluation_periods: 2}
//	      deployments:
//	        - at: 1m                     # created this long after the start (negative: in the history)
//	          stop_after: 4m             # a user stops it with rollback after this long
type CodeDeploy struct {
	Configs []CodeDeployConfig `yaml:"deployment_configs"`
	Groups  []CodeDeployGroup  `yaml:"deployment_groups"`
}

// CodeDeployConfig is a custom deployment configuration.
type CodeDeployConfig struct {
	Name            string `yaml:"name"`
	ComputePlatform string `yaml:"compute_platform"`
	Type            string `yaml:"type"` // TimeBasedCanary | TimeBasedLinear | AllAtOnce
	Percentage      int    `yaml:"percentage"`
	Interval        int    `yaml:"interval"` // minutes
}

// CodeDeployGroup is an application's deployment group.
type CodeDeployGroup struct {
	Application      string                 `yaml:"application"`
	Name             string                 `yaml:"name"`
	ComputePlatform  string                 `yaml:"compute_platform"`
	ALB              string                 `yaml:"alb"`
	Cluster          string                 `yaml:"cluster"`
	Service          string                 `yaml:"service"`
	Lambda           string                 `yaml:"lambda"`
	Instances        int                    `yaml:"instances"`
	DeploymentConfig string                 `yaml:"deployment_config"`
	AutoRollback     *bool                  `yaml:"auto_rollback"`
	InstallTime      *Duration              `yaml:"install_time"`
	ReadyWait        Duration               `yaml:"ready_wait"`
	TerminationWait  Duration               `yaml:"termination_wait"`
	Alarms           []Alarm                `yaml:"alarms"`
	Deployments      []CodeDeployDeployment `yaml:"deployments"`
}

// CodeDeployDeployment is a deployment the scenario creates by itself.
type CodeDeployDeployment struct {
	At          Duration `yaml:"at"`
	Config      string   `yaml:"config"` // overrides the group's
	Description string   `yaml:"description"`
	// TargetVersion is the Lambda version to deploy (default: the
	// function's canary_version).
	TargetVersion string `yaml:"target_version"`
	// StopAfter, when set, stops the deployment with rollback this long
	// after it is created, as a user calling StopDeployment would.
	StopAfter Duration `yaml:"stop_after"`
}

var (
	cdName100   = regexp.MustCompile(`^[A-Za-z0-9._+=,@-]{1,100}$`)
	lambdaAlarm = map[string]bool{"Invocations": true, "Errors": true, "Duration": true, "Throttles": true}
)

func (sc *Scenario) validateCodeDeploy() error {
	cd := sc.CodeDeploy
	if cd == nil {
		return nil
	}
	configs := map[string]string{}
	for _, c := range BuiltinDeploymentConfigs() {
		configs[c.Name] = c.ComputePlatform
	}
	for i := range cd.Configs {
		if err := validateConfig([]any{"codedeploy", "deployment_configs", i}, &cd.Configs[i], configs); err != nil {
			return err
		}
	}
	albs := map[string]*ALB{}
	for i := range sc.ALBs {
		albs[sc.ALBs[i].Name] = &sc.ALBs[i]
	}
	lambdas := map[string]*Lambda{}
	for i := range sc.Lambdas {
		lambdas[sc.Lambdas[i].Name] = &sc.Lambdas[i]
	}
	groups := map[string]bool{}
	used := map[string]string{}
	for i := range cd.Groups {
		if err := cd.Groups[i].validate([]any{"codedeploy", "deployment_groups", i}, groups, used, albs, lambdas, configs, sc.History.D()); err != nil {
			return err
		}
	}
	return nil
}

// validateConfig checks a custom deployment configuration at path p and
// adds it to configs (name to compute platform).
func validateConfig(p []any, c *CodeDeployConfig, configs map[string]string) error {
	if !cdName100.MatchString(c.Name) || strings.HasPrefix(c.Name, "CodeDeployDefault.") {
		return ferr(with(p, "name"), "%q must be 1-100 of letters, digits and ._+=,@- and not start with CodeDeployDefault.", c.Name)
	}
	if _, dup := configs[c.Name]; dup {
		return ferr(with(p, "name"), "%q is used twice", c.Name)
	}
	if c.ComputePlatform != PlatformECS && c.ComputePlatform != PlatformLambda {
		return ferr(with(p, "compute_platform"), "%q must be ECS or Lambda (traffic-shifting configurations)", c.ComputePlatform)
	}
	switch c.Type {
	case "TimeBasedCanary", "TimeBasedLinear":
		if c.Percentage < 1 || c.Percentage > 99 {
			return ferr(with(p, "percentage"), "%d is out of range (1..99)", c.Percentage)
		}
		if c.Interval < 1 || c.Interval > 2880 {
			return ferr(with(p, "interval"), "%d is out of range (1..2880 minutes)", c.Interval)
		}
	case "AllAtOnce":
		if c.Percentage != 0 || c.Interval != 0 {
			return ferr(p, "an AllAtOnce configuration has no percentage or interval")
		}
	default:
		return ferr(with(p, "type"), "%q is not TimeBasedCanary, TimeBasedLinear or AllAtOnce", c.Type)
	}
	configs[c.Name] = c.ComputePlatform
	return nil
}

// validate checks a deployment group at path p, filling its defaults:
// groups and used record what earlier groups took; albs, lambdas and
// configs are what the scenario has.
func (g *CodeDeployGroup) validate(p []any, groups map[string]bool, used map[string]string, albs map[string]*ALB,
	lambdas map[string]*Lambda, configs map[string]string, history time.Duration) error {
	if !cdName100.MatchString(g.Application) {
		return ferr(with(p, "application"), "%q must be 1-100 of letters, digits and ._+=,@-", g.Application)
	}
	if !cdName100.MatchString(g.Name) {
		return ferr(with(p, "name"), "%q must be 1-100 of letters, digits and ._+=,@-", g.Name)
	}
	if groups[g.Application+"/"+g.Name] {
		return ferr(with(p, "name"), "%s/%s is used twice", g.Application, g.Name)
	}
	groups[g.Application+"/"+g.Name] = true
	if err := g.validatePlatform(p, albs, lambdas, used); err != nil {
		return err
	}
	if g.DeploymentConfig == "" {
		g.DeploymentConfig = map[string]string{
			PlatformECS: "CodeDeployDefault.ECSAllAtOnce", PlatformLambda: "CodeDeployDefault.LambdaAllAtOnce", PlatformServer: "CodeDeployDefault.OneAtATime",
		}[g.ComputePlatform]
	}
	if err := checkConfig(with(p, "deployment_config"), configs, g.DeploymentConfig, g.ComputePlatform); err != nil {
		return err
	}
	if g.AutoRollback == nil {
		t := true
		g.AutoRollback = &t
	}
	if g.InstallTime == nil {
		d := Duration(map[string]time.Duration{PlatformECS: time.Minute, PlatformLambda: 0, PlatformServer: 3 * time.Minute}[g.ComputePlatform])
		g.InstallTime = &d
	}
	for _, f := range []struct {
		name string
		d    time.Duration
		max  time.Duration
	}{{"install_time", g.InstallTime.D(), time.Hour}, {"ready_wait", g.ReadyWait.D(), 48 * time.Hour}, {"termination_wait", g.TerminationWait.D(), 48 * time.Hour}} {
		if f.d < 0 || f.d > f.max || f.d%time.Second != 0 {
			return ferr(with(p, f.name), "%s is out of range (0s..%s, whole seconds)", f.d, f.max)
		}
	}
	if g.ComputePlatform != PlatformECS && (g.ReadyWait != 0 || g.TerminationWait != 0) {
		return ferr(p, "ready_wait and termination_wait are for ECS blue/green groups")
	}
	if g.ReadyWait.D()%time.Minute != 0 || g.TerminationWait.D()%time.Minute != 0 {
		return ferr(p, "ready_wait and termination_wait are whole minutes, as CodeDeploy configures them")
	}
	for j := range g.Alarms {
		if err := g.validateAlarm(with(p, "alarms", j), &g.Alarms[j]); err != nil {
			return err
		}
	}
	for j := range g.Deployments {
		dp := with(p, "deployments", j)
		d := &g.Deployments[j]
		if d.At.D() < -history {
			return ferr(with(dp, "at"), "%s is before the backfilled history (-%s)", d.At.D(), history)
		}
		if d.Config != "" {
			if err := checkConfig(with(dp, "config"), configs, d.Config, g.ComputePlatform); err != nil {
				return err
			}
		}
		if d.StopAfter.D() < 0 {
			return ferr(with(dp, "stop_after"), "%s is negative", d.StopAfter.D())
		}
		if d.TargetVersion != "" && (g.ComputePlatform != PlatformLambda || !versionNumber.MatchString(d.TargetVersion)) {
			return ferr(with(dp, "target_version"), "%q: a target version is a published version number, for Lambda groups", d.TargetVersion)
		}
		if len(d.Description) > 512 {
			return ferr(with(dp, "description"), "longer than 512 characters")
		}
	}
	return nil
}

func checkConfig(p []any, configs map[string]string, name, platform string) error {
	got, ok := configs[name]
	switch {
	case !ok:
		return ferr(p, "%q is neither a CodeDeployDefault configuration nor one in deployment_configs", name)
	case got != platform:
		return ferr(p, "%q is a %s configuration; the group is %s", name, got, platform)
	}
	return nil
}

func (g *CodeDeployGroup) validatePlatform(p []any, albs map[string]*ALB, lambdas map[string]*Lambda, used map[string]string) error {
	switch g.ComputePlatform {
	case PlatformECS:
		a := albs[g.ALB]
		if a == nil {
			return ferr(with(p, "alb"), "%q is not an ALB in this scenario (an ECS group shifts an ALB rule's two target groups)", g.ALB)
		}
		if prev, ok := used["alb:"+g.ALB]; ok {
			return ferr(with(p, "alb"), "ALB %q is already shifted by group %s", g.ALB, prev)
		}
		used["alb:"+g.ALB] = g.Name
		if g.Lambda != "" || g.Instances != 0 {
			return ferr(p, "an ECS group names an alb, not a lambda or instances")
		}
		if g.Cluster == "" {
			g.Cluster = "default"
		}
		if g.Service == "" {
			g.Service = g.ALB
		}
		if !cdName100.MatchString(g.Cluster) || !cdName100.MatchString(g.Service) {
			return ferr(with(p, "service"), "cluster %q and service %q must be plain names", g.Cluster, g.Service)
		}
	case PlatformLambda:
		l := lambdas[g.Lambda]
		if l == nil {
			return ferr(with(p, "lambda"), "%q is not a Lambda function in this scenario", g.Lambda)
		}
		if prev, ok := used["lambda:"+g.Lambda]; ok {
			return ferr(with(p, "lambda"), "function %q is already shifted by group %s", g.Lambda, prev)
		}
		used["lambda:"+g.Lambda] = g.Name
		if g.ALB != "" || g.Instances != 0 || g.Cluster != "" || g.Service != "" {
			return ferr(p, "a Lambda group names a lambda, not an alb, service or instances")
		}
		if l.CanaryWeight != 0 {
			return ferr(with(p, "lambda"), "function %q starts with canary_weight %v; CodeDeploy needs its alias on one version (canary_weight: 0)", g.Lambda, l.CanaryWeight)
		}
	case PlatformServer:
		if g.ALB != "" || g.Lambda != "" || len(g.Alarms) > 0 {
			return ferr(p, "a Server group names instances only (and no alarms in the simulator)")
		}
		if g.Instances == 0 {
			g.Instances = 3
		}
		if g.Instances < 1 || g.Instances > 25 {
			return ferr(with(p, "instances"), "%d is out of range (1..25)", g.Instances)
		}
	default:
		return ferr(with(p, "compute_platform"), "%q is not ECS, Lambda or Server", g.ComputePlatform)
	}
	return nil
}

// validateAlarm checks an alarm on the group's metrics: ALB target-group
// metrics for ECS, AWS/Lambda per-version metrics for Lambda.
func (g *CodeDeployGroup) validateAlarm(p []any, al *Alarm) error {
	if g.ComputePlatform == PlatformECS {
		return (&ALB{Name: g.Name}).validateAlarm(p, al)
	}
	if !lambdaAlarm[al.Metric] {
		return ferr(with(p, "metric"), "%q is not a Lambda metric the simulator publishes (%s)", al.Metric, strings.Join(awsproto.SortedKeys(lambdaAlarm), ", "))
	}
	// The ALB checks cover everything else; borrow them with a stand-in
	// metric and put the real one back.
	metric := al.Metric
	al.Metric = "RequestCount"
	err := (&ALB{Name: g.Name}).validateAlarm(p, al)
	al.Metric = metric
	if strings.HasSuffix(al.Name, "-RequestCount") {
		al.Name = strings.TrimSuffix(al.Name, "RequestCount") + metric
	}
	return err
}

// Compute platforms, as CodeDeploy spells them.
const (
	PlatformECS    = "ECS"
	PlatformLambda = "Lambda"
	PlatformServer = "Server"
)

// BuiltinDeploymentConfig is one of CodeDeploy's predefined deployment
// configurations (CodeDeployDefault.*), which every account has and a
// scenario's groups may name.
type BuiltinDeploymentConfig struct {
	Name, ComputePlatform string
	// Type is TimeBasedCanary, TimeBasedLinear or AllAtOnce; "" for Server.
	Type                 string
	Percentage, Interval int // Interval in minutes
	// MinHealthyType and MinHealthyValue are a Server configuration's
	// minimumHealthyHosts.
	MinHealthyType  string
	MinHealthyValue int
}

// BuiltinDeploymentConfigs lists the predefined configurations in a fixed
// order (CodeDeploy derives their IDs from it).
func BuiltinDeploymentConfigs() []BuiltinDeploymentConfig {
	var out []BuiltinDeploymentConfig
	add := func(name, platform, routing string, pct, iv int) {
		out = append(out, BuiltinDeploymentConfig{Name: "CodeDeployDefault." + name, ComputePlatform: platform, Type: routing,
			Percentage: pct, Interval: iv})
	}
	add("ECSAllAtOnce", PlatformECS, "AllAtOnce", 0, 0)
	add("ECSCanary10Percent5Minutes", PlatformECS, "TimeBasedCanary", 10, 5)
	add("ECSCanary10Percent15Minutes", PlatformECS, "TimeBasedCanary", 10, 15)
	add("ECSLinear10PercentEvery1Minutes", PlatformECS, "TimeBasedLinear", 10, 1)
	add("ECSLinear10PercentEvery3Minutes", PlatformECS, "TimeBasedLinear", 10, 3)
	add("LambdaAllAtOnce", PlatformLambda, "AllAtOnce", 0, 0)
	for _, m := range []int{5, 10, 15, 30} {
		add(fmt.Sprintf("LambdaCanary10Percent%dMinutes", m), PlatformLambda, "TimeBasedCanary", 10, m)
	}
	add("LambdaLinear10PercentEvery1Minute", PlatformLambda, "TimeBasedLinear", 10, 1)
	for _, m := range []int{2, 3, 10} {
		add(fmt.Sprintf("LambdaLinear10PercentEvery%dMinutes", m), PlatformLambda, "TimeBasedLinear", 10, m)
	}
	for _, s := range []struct {
		name, typ string
		v         int
	}{{"OneAtATime", "HOST_COUNT", 1}, {"HalfAtATime", "FLEET_PERCENT", 50}, {"AllAtOnce", "HOST_COUNT", 0}} {
		out = append(out, BuiltinDeploymentConfig{Name: "CodeDeployDefault." + s.name, ComputePlatform: PlatformServer,
			MinHealthyType: s.typ, MinHealthyValue: s.v})
	}
	return out
}
