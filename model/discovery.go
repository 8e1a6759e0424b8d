package model

import (
	"slices"
	"strings"
	"time"
)

// Found is one canary a scan of an account found: enough to list it and
// to open its cockpit.
type Found struct {
	Kind    TargetKind `json:"kind"`
	Name    string     `json:"name"`
	Region  string     `json:"region"`
	Profile string     `json:"profile,omitempty"`
	// ID is what the audit log and the cockpit call it: the rule or
	// listener ARN, the alias ARN, the deployment ID.
	ID string `json:"id"`

	// How to open it.
	RuleARN      string `json:"rule_arn,omitempty"`
	ListenerARN  string `json:"listener_arn,omitempty"`
	Function     string `json:"function,omitempty"`
	Alias        string `json:"alias,omitempty"`
	DeploymentID string `json:"deployment_id,omitempty"`

	// Sides are the weighted sides as AWS lists them (target groups,
	// versions); Weights are out of their sum.
	Sides []FoundSide `json:"sides"`
	// CanaryPercent is the canary's share, when perch can tell which side
	// is the canary (a marker, the alias, the deployment); nil otherwise.
	CanaryPercent *float64 `json:"canary_percent,omitempty"`
	// Marked: perch's rollout marker is on it.
	Marked bool `json:"marked"`
	// Changed is when the split last changed, where that can be known
	// (the audit log, a deployment's shifts); zero: unknown.
	Changed time.Time `json:"changed,omitempty"`
	// Status is a deployment's (InProgress, Ready, ...).
	Status string `json:"status,omitempty"`
	// Note says what makes it odd (three target groups, ...).
	Note string `json:"note,omitempty"`
	// TargetGroups names the target groups a deployment moves traffic
	// between: the listener rule it shifts is this canary, not another.
	TargetGroups []string `json:"target_groups,omitempty"`
}

// WithoutOwnedRules drops the ALB rules that a deployment in the list
// shifts: a CodeDeploy or ECS deployment owns its rule's weights, so the
// canary is listed once, as the deployment that drives it, and nobody
// opens it as a rule perch would write.
func WithoutOwnedRules(found []Found) []Found {
	owned := map[string]bool{}
	for _, f := range found {
		if len(f.TargetGroups) > 0 {
			owned[f.Region+"|"+ownedKey(f.TargetGroups)] = true
		}
	}
	if len(owned) == 0 {
		return found
	}
	kept := found[:0:0]
	for _, f := range found {
		if f.Kind == KindALB && owned[f.Region+"|"+ownedKey(sideNames(f.Sides))] {
			continue
		}
		kept = append(kept, f)
	}
	return kept
}

func sideNames(sides []FoundSide) []string {
	names := make([]string, len(sides))
	for i, s := range sides {
		names[i] = s.Name
	}
	return names
}

// ownedKey is a set of target group names as one comparable string.
func ownedKey(names []string) string {
	sorted := append([]string(nil), names...)
	slices.Sort(sorted)
	return strings.Join(sorted, "\x00")
}

// FoundSide is one weighted side of a found canary.
type FoundSide struct {
	Name   string  `json:"name"`
	ID     string  `json:"id"`
	Weight float64 `json:"weight"`
}

// SplitText is the split as the list shows it: "90/10" for two sides.
func (f Found) SplitText() string {
	total := 0.0
	for _, s := range f.Sides {
		total += s.Weight
	}
	if total <= 0 {
		return "?"
	}
	out := ""
	for i, s := range f.Sides {
		if i > 0 {
			out += "/"
		}
		out += FormatPercent(100 * s.Weight / total)
	}
	return out
}

// ScanProgress is how far a scan of an account has come, for a progress
// line.
type ScanProgress struct {
	Region string
	Stage  string // "load balancers", "listeners", "functions", "deployments"
	Done   int    // items of that stage looked at
	Total  int    // of how many (0: not known yet)
}
