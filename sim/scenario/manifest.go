package scenario

// Manifest tells a client what the simulator seeded and where it is.
type Manifest struct {
	Endpoint string           `json:"endpoint"`
	Region   string           `json:"region"`
	Account  string           `json:"account"`
	Scenario string           `json:"scenario"`
	Targets  []ManifestTarget `json:"targets"`
}

// ManifestTarget is one thing perch can attach to. Entries with a Note are
// deliberately odd (extras for bad-input tests).
type ManifestTarget struct {
	Kind                 string `json:"kind"`
	Name                 string `json:"name"`
	LoadBalancerARN      string `json:"load_balancer_arn,omitempty"`
	ListenerARN          string `json:"listener_arn,omitempty"`
	RuleARN              string `json:"rule_arn,omitempty"`
	DefaultRule          bool   `json:"default_rule,omitempty"`
	StableTargetGroupARN string `json:"stable_target_group_arn,omitempty"`
	CanaryTargetGroupARN string `json:"canary_target_group_arn,omitempty"`
	// Lambda (kind "lambda"): the alias that splits, and its two versions.
	Function      string `json:"function,omitempty"`
	Alias         string `json:"alias,omitempty"`
	AliasARN      string `json:"alias_arn,omitempty"`
	StableVersion string `json:"stable_version,omitempty"`
	CanaryVersion string `json:"canary_version,omitempty"`
	// CodeDeploy (kind "codedeploy"): the deployment group and the
	// deployment perch can attach to; ECS groups also carry the ALB fields
	// above, Lambda groups the alias fields.
	ComputePlatform string `json:"compute_platform,omitempty"`
	Application     string `json:"application,omitempty"`
	DeploymentGroup string `json:"deployment_group,omitempty"`
	DeploymentID    string `json:"deployment_id,omitempty"`
	// ECS (kind "ecs"): the service and its featured service deployment;
	// services with an advanced configuration also carry the ALB fields
	// above (stable is the production target group, canary the alternate).
	Cluster       string `json:"cluster,omitempty"`
	Service       string `json:"service,omitempty"`
	Strategy      string `json:"strategy,omitempty"`
	DeploymentARN string `json:"deployment_arn,omitempty"`
	// LogGroup is where the sides log (scenario logs), each side's streams
	// starting with its prefix (Lambda: told apart by [VERSION] instead).
	LogGroup           string `json:"log_group,omitempty"`
	StableStreamPrefix string `json:"stable_stream_prefix,omitempty"`
	CanaryStreamPrefix string `json:"canary_stream_prefix,omitempty"`
	// The ECS services behind an ALB canary's target groups (scenario
	// saturation), whose AWS/ECS metrics the simulator publishes.
	ECSCluster       string `json:"ecs_cluster,omitempty"`
	StableECSService string `json:"stable_ecs_service,omitempty"`
	CanaryECSService string `json:"canary_ecs_service,omitempty"`
	// Alarms are the scenario's CloudWatch alarms on this target.
	Alarms []string `json:"alarms,omitempty"`
	Note   string   `json:"note,omitempty"`
}
