package model

import "time"

// TargetKind names the routing mechanism perch drives.
type TargetKind string

const (
	KindALB        TargetKind = "alb"
	KindLambda     TargetKind = "lambda"
	KindCodeDeploy TargetKind = "codedeploy"
	// KindECS is an ECS service deployment (strategy CANARY, LINEAR or
	// BLUE_GREEN) that moves its production listener rule by itself.
	KindECS TargetKind = "ecs"
)

// Target describes what perch is attached to.
type Target struct {
	Kind   TargetKind `json:"kind"`
	Name   string     `json:"name"`
	Region string     `json:"region"`

	// ALB
	LoadBalancerARN string `json:"load_balancer_arn,omitempty"`
	ListenerARN     string `json:"listener_arn,omitempty"`
	RuleARN         string `json:"rule_arn,omitempty"`
	DefaultRule     bool   `json:"default_rule,omitempty"`
	StableName      string `json:"stable_name"`
	CanaryName      string `json:"canary_name"`
	StableARN       string `json:"stable_arn,omitempty"`
	CanaryARN       string `json:"canary_arn,omitempty"`
	// CanarySource says how perch knows which side is the canary;
	// CanaryUnconfirmed, when set, says why it does not know as a fact:
	// every write is refused until the operator confirms.
	CanarySource      CanarySource `json:"canary_source,omitempty"`
	CanaryUnconfirmed string       `json:"canary_unconfirmed,omitempty"`
	// Stickiness, when on, pins clients to a side until their cookie expires,
	// so a shift or rollback does not move them at once.
	StickinessSeconds int `json:"stickiness_seconds,omitempty"`

	// Lambda: the alias routes FunctionVersion (stable) plus one additional
	// version (canary) by weight.
	Function string `json:"function,omitempty"`
	Alias    string `json:"alias,omitempty"`
	AliasARN string `json:"alias_arn,omitempty"`

	// CodeDeploy: the deployment shifts traffic itself; perch watches it
	// and can stop (with rollback) or continue it.
	DeploymentID    string `json:"deployment_id,omitempty"`
	Application     string `json:"application,omitempty"`
	DeploymentGroup string `json:"deployment_group,omitempty"`
	ComputePlatform string `json:"compute_platform,omitempty"` // ECS or Lambda

	// ECS: the service whose deployment (DeploymentID holds its ARN)
	// shifts the production listener rule (RuleARN) itself.
	Cluster string `json:"cluster,omitempty"`
	Service string `json:"service,omitempty"`
}

// OwnedByDeployment reports whether a deployment service (CodeDeploy,
// ECS) moves the target's traffic, so perch must never write its weights.
func (t Target) OwnedByDeployment() bool { return t.Kind.OwnedByDeployment() }

// OwnedByDeployment reports whether targets of this kind have their
// traffic moved by a deployment service.
func (k TargetKind) OwnedByDeployment() bool { return k == KindCodeDeploy || k == KindECS }

// ID is the identifier the audit log uses for the target.
func (t Target) ID() string {
	if t.DeploymentID != "" {
		return t.DeploymentID
	}
	if t.AliasARN != "" {
		return t.AliasARN
	}
	if t.RuleARN != "" {
		return t.RuleARN
	}
	if t.ListenerARN != "" {
		return t.ListenerARN
	}
	return t.Name
}

// SwapSides returns t with stable and canary exchanged.
func (t Target) SwapSides() Target {
	t.StableName, t.CanaryName = t.CanaryName, t.StableName
	t.StableARN, t.CanaryARN = t.CanaryARN, t.StableARN
	return t
}

// Health is a side's capacity as the router sees it.
type Health struct {
	Healthy   int `json:"healthy"`
	Unhealthy int `json:"unhealthy"`
	Other     int `json:"other"` // initial, draining, unused, unavailable
}

// Total is every registered target.
func (h Health) Total() int { return h.Healthy + h.Unhealthy + h.Other }

// AlarmState is a CloudWatch alarm state.
type AlarmState string

const (
	AlarmOK               AlarmState = "OK"
	AlarmAlarm            AlarmState = "ALARM"
	AlarmInsufficientData AlarmState = "INSUFFICIENT_DATA"
	AlarmMissing          AlarmState = "MISSING" // named in config, not found
)

// Alarm is a watched CloudWatch alarm.
type Alarm struct {
	Name      string     `json:"name"`
	State     AlarmState `json:"state"`
	Reason    string     `json:"reason,omitempty"`
	UpdatedAt time.Time  `json:"updated_at,omitempty"`
}

// Identity is who perch acts as.
type Identity struct {
	ARN     string `json:"arn"`
	UserID  string `json:"user_id"`
	Account string `json:"account"`
}
