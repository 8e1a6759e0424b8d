package sim

import "github.com/perch-dev/perch/sim/scenario"

// The scenario language lives in package scenario; these names keep the
// simulator's public API where its callers (cli/, evaluate/, the tests of
// aws/ and rollout/) have always found it.
type (
	Scenario             = scenario.Scenario
	ScheduledFault       = scenario.ScheduledFault
	ALB                  = scenario.ALB
	Alarm                = scenario.Alarm
	Side                 = scenario.Side
	Event                = scenario.Event
	Lambda               = scenario.Lambda
	LambdaSide           = scenario.LambdaSide
	LambdaEvent          = scenario.LambdaEvent
	CodeDeploy           = scenario.CodeDeploy
	CodeDeployConfig     = scenario.CodeDeployConfig
	CodeDeployGroup      = scenario.CodeDeployGroup
	CodeDeployDeployment = scenario.CodeDeployDeployment
	Duration             = scenario.Duration
	Fault                = scenario.Fault
	FaultSpec            = scenario.FaultSpec
	Manifest             = scenario.Manifest
	ManifestTarget       = scenario.ManifestTarget
)

// MaxFleet bounds FleetScenario.
const MaxFleet = scenario.MaxFleet

// Extras a scenario can ask for, for tests of odd targets (see package
// scenario).
const (
	ExtraSingleTGRule          = scenario.ExtraSingleTGRule
	ExtraThreeTGRule           = scenario.ExtraThreeTGRule
	ExtraRedirectRule          = scenario.ExtraRedirectRule
	ExtraFixedResponseListener = scenario.ExtraFixedResponseListener
	ExtraDanglingRoutingAlias  = scenario.ExtraDanglingRoutingAlias
	ExtraNoRoutingAlias        = scenario.ExtraNoRoutingAlias
	ExtraLatestAlias           = scenario.ExtraLatestAlias
)

// BuiltinScenarios lists the embedded scenario names, sorted.
func BuiltinScenarios() []string { return scenario.Builtin() }

// LoadScenario loads a built-in scenario by name, or else a YAML file.
func LoadScenario(nameOrPath string) (*Scenario, error) { return scenario.Load(nameOrPath) }

// ParseScenario parses and validates scenario YAML strictly; name is used
// when the document has no name of its own.
func ParseScenario(data []byte, name string) (*Scenario, error) { return scenario.Parse(data, name) }

// FleetScenario seeds n ALB canaries modelled on base's first ALB (see
// scenario.Fleet).
func FleetScenario(base *Scenario, n int) (*Scenario, error) { return scenario.Fleet(base, n) }

// ParseFaultSpec parses one `perch sim --fault` SPEC strictly.
func ParseFaultSpec(s string) (FaultSpec, error) { return scenario.ParseFaultSpec(s) }
