// Package scenario is the simulated account's script: the YAML document
// that says which ALB canaries, Lambda aliases and CodeDeploy groups
// exist, how each side behaves and how that changes over simulated time,
// and which faults are armed when; its parsing and strict validation; the
// built-in scenarios; and the fault vocabulary (Fault, FaultSpec) that
// scenarios, `perch sim --fault` and /_sim/faults share. Each service seeds
// itself from its part of a Scenario; Manifest is what they seeded.
package scenario

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// A Scenario scripts the simulated account: which ALB canaries exist, how
// much traffic each side gets, how it fails, and how that changes over
// simulated time. The YAML shape (documented in docs/scenarios.md):
//
//	name: error-spike
//	description: the canary's 5xx rate jumps to 8% two minutes in
//	seed: 7               # optional; Options.Seed overrides when non-zero
//	history: 60m          # backfilled metric history, 30m..168h
//	publish_delay: 30s    # a period is visible this long after it ends
//	caller_arn: arn:aws:sts::123456789012:assumed-role/perch-demo/operator
//	albs:
//	  - name: checkout
//	    requests_per_minute: 1000
//	    canary_weight: 10          # initial percent to canary (90/10)
//	    targets_per_side: 3
//	    stickiness: 0s             # > 0 enables stickiness for that long
//	    default_rule: false        # true: the split is the listener default
//	    rollout_marker: true       # perch's marker tags on the rule (default: while 0 < canary_weight < 100)
//	    path_pattern: /*
//	    extras: [single-tg-rule]   # odd extra rules for bad-input tests
//	    stable: {error_rate: 0.005, error_4xx_rate: 0.01, latency_p50_ms: 40, latency_p99_ms: 180}
//	    canary: {error_rate: 0.005, error_4xx_rate: 0.01, latency_p50_ms: 40, latency_p99_ms: 180}
//	    events:
//	      - at: 2m
//	        canary: {error_rate: 0.08}
type Scenario struct {
	Name         string   `yaml:"name"`
	Description  string   `yaml:"description"`
	Seed         int64    `yaml:"seed"`
	History      Duration `yaml:"history"`
	PublishDelay Duration `yaml:"publish_delay"`
	CallerARN    string   `yaml:"caller_arn"`
	ALBs         []ALB    `yaml:"albs"`
	// Lambdas are weighted Lambda aliases (see lambda.go).
	Lambdas []Lambda `yaml:"lambdas"`
	// CodeDeploy scripts applications, deployment groups and deployments
	// that shift the ALBs' or Lambdas' traffic (see codedeploy.go).
	CodeDeploy *CodeDeploy `yaml:"codedeploy"`
	// ECS scripts services whose deployments shift the ALBs' traffic by
	// themselves (see ecs.go).
	ECS *ECS `yaml:"ecs"`
	// Faults are armed at an offset from the simulator's start.
	Faults []ScheduledFault `yaml:"faults"`
}

// ScheduledFault arms a Fault at a time:
//
//	faults:
//	  - {at: 5m, service: elbv2, operation: ModifyRule, code: Throttling, times: 2}
type ScheduledFault struct {
	At Duration `yaml:"at"`
	// Spec, instead of the fields, is a `perch sim --fault` SPEC
	// (faultspec.go): {at: 5m, spec: "outage:elbv2:2m"}.
	Spec  string `yaml:"spec"`
	Fault `yaml:",inline"`
}

// ALB is one canary behind an application load balancer rule.
type ALB struct {
	Name              string   `yaml:"name"`
	RequestsPerMinute float64  `yaml:"requests_per_minute"`
	CanaryWeight      int      `yaml:"canary_weight"`
	TargetsPerSide    *int     `yaml:"targets_per_side"`
	Stickiness        Duration `yaml:"stickiness"`
	DefaultRule       bool     `yaml:"default_rule"`
	// RolloutMarker says whether the rule carries perch's rollout marker
	// (the tags a perch that began the rollout leaves on it). Default: yes
	// while the canary has some but not all of the traffic.
	RolloutMarker *bool    `yaml:"rollout_marker"`
	PathPattern   string   `yaml:"path_pattern"`
	Extras        []string `yaml:"extras"`
	// Listeners and RulesPerListener grow the load balancer for scans:
	// that many listeners, each with that many weighted rules (0: one
	// listener with the one rule).
	Listeners        int     `yaml:"listeners"`
	RulesPerListener int     `yaml:"rules_per_listener"`
	Stable           Side    `yaml:"stable"`
	Canary           Side    `yaml:"canary"`
	Events           []Event `yaml:"events"`
	Alarms           []Alarm `yaml:"alarms"`
	// Saturation and Logs are the services' other signals (signals.go).
	Saturation *Saturation `yaml:"saturation"`
	Logs       *Logs       `yaml:"logs"`
}

// Alarm is a CloudWatch metric alarm on one side's ALB metric, created at
// start and evaluated by the simulated CloudWatch on the traffic model's
// data.
type Alarm struct {
	Name              string   `yaml:"name"` // default <alb>-<side>-<metric>
	Side              string   `yaml:"side"` // stable | canary
	Metric            string   `yaml:"metric"`
	Statistic         string   `yaml:"statistic"` // Sum, Average, Minimum, Maximum, SampleCount, pNN
	Period            Duration `yaml:"period"`    // default 60s
	EvaluationPeriods int      `yaml:"evaluation_periods"`
	DatapointsToAlarm int      `yaml:"datapoints_to_alarm"`
	Threshold         float64  `yaml:"threshold"`
	Comparison        string   `yaml:"comparison"`
	TreatMissingData  string   `yaml:"treat_missing_data"`
}

// Side is one side's behaviour. In an event, only the fields given change.
type Side struct {
	ErrorRate        *float64 `yaml:"error_rate"`
	Error4xxRate     *float64 `yaml:"error_4xx_rate"`
	LatencyP50Ms     *float64 `yaml:"latency_p50_ms"`
	LatencyP99Ms     *float64 `yaml:"latency_p99_ms"`
	UnhealthyTargets *int     `yaml:"unhealthy_targets"`
}

// Event changes parameters at an offset from the simulator's start.
type Event struct {
	At                Duration `yaml:"at"`
	RequestsPerMinute *float64 `yaml:"requests_per_minute"`
	Stable            *Side    `yaml:"stable"`
	Canary            *Side    `yaml:"canary"`
	Both              *Side    `yaml:"both"`
	// CanaryWeight, when set, rewrites the rule's weights as a second
	// operator would, behind the back of whoever is watching.
	CanaryWeight *int `yaml:"canary_weight"`
}

// Extras a scenario can ask for on an ALB, for tests of odd targets.
const (
	ExtraSingleTGRule          = "single-tg-rule"          // priority 20, legacy single-group forward to stable
	ExtraThreeTGRule           = "three-tg-rule"           // priority 30, forward to stable, canary and <name>-extra
	ExtraRedirectRule          = "redirect-rule"           // priority 40, a redirect (no forward at all)
	ExtraFixedResponseListener = "fixed-response-listener" // a second listener (port 8081) whose default is a fixed 503
)

var knownExtras = []string{ExtraSingleTGRule, ExtraThreeTGRule, ExtraRedirectRule, ExtraFixedResponseListener}

// maxStickiness is ELBv2's longest target group stickiness (7 days).
const maxStickiness = 604800 * time.Second

// Defaults applied to a side's base parameters when the scenario omits them.
const (
	defaultErrorRate    = 0.005
	defaultError4xxRate = 0.01
	defaultP50Ms        = 40
	defaultP99Ms        = 180
	defaultTargets      = 3
	defaultHistory      = 60 * time.Minute
	defaultPublishDelay = 30 * time.Second
	minHistory          = 30 * time.Minute
	maxHistory          = 7 * 24 * time.Hour
)

//go:embed scenarios/*.yaml
var builtinFS embed.FS

// Builtin lists the embedded scenario names, sorted.
func Builtin() []string {
	entries, err := builtinFS.ReadDir("scenarios")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Load loads a built-in scenario by name, or else a YAML file.
func Load(nameOrPath string) (*Scenario, error) {
	if data, err := builtinFS.ReadFile("scenarios/" + nameOrPath + ".yaml"); err == nil && !strings.ContainsAny(nameOrPath, "/\\") {
		return Parse(data, nameOrPath)
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("load scenario %q: not a built-in scenario (have %s) and no such file",
				nameOrPath, compactNames(Builtin()))
		}
		return nil, fmt.Errorf("load scenario %q: %w", nameOrPath, err)
	}
	return Parse(data, strings.TrimSuffix(path.Base(nameOrPath), path.Ext(nameOrPath)))
}

// maxFamilyListed is how many members of a family compactNames spells out.
const maxFamilyListed = 3

// compactNames lists sorted names with families folded, so the list
// stays one short line: "lambda-{errors,healthy}, low-traffic".
func compactNames(names []string) string {
	var out []string
	for i := 0; i < len(names); {
		family, _, ok := strings.Cut(names[i], "-")
		j := i + 1
		for ok && j < len(names) && strings.HasPrefix(names[j], family+"-") {
			j++
		}
		if j-i < 2 {
			out = append(out, names[i])
			i++
			continue
		}
		if j-i > maxFamilyListed {
			// A large family (perch evaluate's) is named by its count;
			// perch sim --help lists every scenario.
			out = append(out, fmt.Sprintf("%s-* (%d)", family, j-i))
			i = j
			continue
		}
		var rest []string
		for _, n := range names[i:j] {
			rest = append(rest, strings.TrimPrefix(n, family+"-"))
		}
		out = append(out, family+"-{"+strings.Join(rest, ",")+"}")
		i = j
	}
	return strings.Join(out, ", ")
}

// Parse parses and validates scenario YAML strictly: unknown
// fields and out-of-range values are errors naming the line. name is used
// when the document has no name of its own.
func Parse(data []byte, name string) (*Scenario, error) {
	var sc Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("scenario %s: empty document", name)
		}
		return nil, fmt.Errorf("scenario %s: %w", name, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("scenario %s: only one YAML document is allowed", name)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", name, err)
	}
	if sc.Name == "" {
		sc.Name = name
	}
	if err := sc.validate(); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			if line := lineOf(&root, fe.path); line > 0 {
				return nil, fmt.Errorf("scenario %s: line %d: %s: %s", sc.Name, line, fe.pathString(), fe.msg)
			}
			return nil, fmt.Errorf("scenario %s: %s: %s", sc.Name, fe.pathString(), fe.msg)
		}
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	return &sc, nil
}
