// Package config reads perch.yaml: the targets a fleet watches, each with
// its region or profile, ladder, plan, watched alarms and custom business
// metrics. Parsing is strict: an unknown key is an error, and every error
// names the line it is about.
//
//	production: {pattern: "(?i)prod"}  # profiles and accounts that get a PROD badge (this is the default)
//	profiles:
//	  prod-admin: {read_only: true}   # open this profile's targets read-only unless --read-only=false
//	publish_delay: 60s          # when CloudWatch has a period's datapoint (default 60s)
//	lookback: 3m                # how much of the newest data each poll re-reads (default 3m)
//	defaults:                   # every target inherits these unless it sets its own
//	  region: us-east-1
//	  profile: prod
//	  ladder: [0, 1, 5, 10, 25, 50, 100]
//	  plan: "5%:10m,25%:10m,50%:10m,100%"
//	  alarms: [edge-5xx]
//	targets:
//	  - name: checkout
//	    alb: {rule_arn: "arn:aws:elasticloadbalancing:…:listener-rule/app/…", canary_target_group: checkout-green}
//	    alarms: [checkout-canary-5xx]
//	    custom:
//	      - name: orders
//	        direction: lower_is_worse
//	        metric: {namespace: Shop, name: OrdersPlaced, stat: Sum,
//	                 dimensions: {TargetGroup: "${side.target_group}"}}
//	  - name: payments
//	    lambda: {function: payments, alias: live, canary_version: "8"}
//	    region: eu-west-1
//	    plan:
//	      steps: [{percent: 10, bake: 10m}, {percent: 100}]
//	  - name: billing
//	    codedeploy: {application: billing, deployment_group: prod}
package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/perch-dev/perch/model"
)

// File is a parsed and validated perch.yaml.
type File struct {
	// Path is where it was read from ("" when parsed from bytes).
	Path string
	// PublishDelay is how long after a period ends CloudWatch can be
	// expected to have its datapoint: polls are timed to the period
	// boundary plus this delay.
	PublishDelay time.Duration
	// Lookback is how much of the newest data each metrics poll reads
	// again, because CloudWatch fills the newest periods in late.
	Lookback time.Duration
	Targets  []Target
	// Production matches the profiles and accounts (ID or alias) that are
	// production: their screens carry a PROD badge. Default: the word
	// "prod" anywhere, in any case.
	Production *regexp.Regexp
	// ReadOnlyProfiles are the profiles perch opens read-only unless
	// --read-only=false says otherwise.
	ReadOnlyProfiles map[string]bool
}

// DefaultProduction is the production pattern when the file sets none.
const DefaultProduction = `(?i)prod`

// IsProduction reports whether a profile or account is production by
// f's pattern (or the default one for a nil f).
func (f *File) IsProduction(names ...string) bool {
	re := defaultProductionRE
	if f != nil && f.Production != nil {
		re = f.Production
	}
	for _, n := range names {
		if n != "" && re.MatchString(n) {
			return true
		}
	}
	return false
}

var defaultProductionRE = regexp.MustCompile(DefaultProduction)

// Defaults for the File-level settings.
const (
	DefaultPublishDelay = 60 * time.Second
	DefaultLookback     = 3 * time.Minute
)

// Target is one canary of the fleet.
type Target struct {
	Name string
	// Line is where the target starts in the file.
	Line int
	Kind model.TargetKind

	Region  string
	Profile string

	// ALB: exactly one of RuleARN or ListenerARN.
	RuleARN           string
	ListenerARN       string
	CanaryTargetGroup string

	// Lambda.
	Function      string
	Alias         string
	CanaryVersion string

	// CodeDeploy: DeploymentID, or Application with DeploymentGroup.
	DeploymentID    string
	Application     string
	DeploymentGroup string

	// ECS: DeploymentARN, or Service (in Cluster, default "default").
	Cluster       string
	Service       string
	DeploymentARN string

	Ladder model.Ladder
	// Plan is nil when the target has none (or "none").
	Plan   *model.Plan
	Paused bool
	Alarms []string
	Custom []Custom
	// Signals are its saturation and log settings (signals.go).
	Signals Signals
}

// Judge is the custom signals' part of the judge's configuration.
func (t Target) Judge() []model.CustomSignal {
	out := make([]model.CustomSignal, 0, len(t.Custom))
	for _, c := range t.Custom {
		out = append(out, c.Signal())
	}
	return append(out, t.Signals.Judge...)
}

// ByName finds a target.
func (f *File) ByName(name string) (Target, bool) {
	for _, t := range f.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// Names lists the targets' names in file order.
func (f *File) Names() []string {
	out := make([]string, len(f.Targets))
	for i, t := range f.Targets {
		out[i] = t.Name
	}
	return out
}

// Error is one problem, at a line (0 when the whole file is the problem).
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line <= 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Errors is every problem found, in file order.
type Errors struct {
	// File prefixes each line when set, as compilers do: perch.yaml:12: …
	File string
	List []*Error
}

func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, x := range e.List {
		switch {
		case e.File != "" && x.Line > 0:
			lines[i] = fmt.Sprintf("%s:%d: %s", e.File, x.Line, x.Msg)
		case e.File != "":
			lines[i] = e.File + ": " + x.Msg
		default:
			lines[i] = x.Error()
		}
	}
	return strings.Join(lines, "\n")
}

// Load reads and parses a config file.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	f, err := Parse(data)
	if err != nil {
		var es *Errors
		if errors.As(err, &es) {
			es.File = path
		}
		return nil, err
	}
	f.Path = path
	return f, nil
}
