package ecs

import (
	"fmt"
	"time"
)

// The simulated ECS's state: clusters, services, service revisions and
// service deployments. A deployment of a service whose strategy is
// CANARY, LINEAR or BLUE_GREEN walks ECS's lifecycle stages on the
// simulation clock, moves the production listener rule's weights from the
// source revision's target group to the target revision's, waits at PAUSE
// hooks, and rolls back by itself when one of its alarms fires.

// Deployment statuses, as the API spells them.
const (
	stInProgress         = "IN_PROGRESS"
	stSuccessful         = "SUCCESSFUL"
	stStopped            = "STOPPED"
	stRollbackRequested  = "ROLLBACK_REQUESTED"
	stRollbackInProgress = "ROLLBACK_IN_PROGRESS"
	stRollbackSuccessful = "ROLLBACK_SUCCESSFUL"
	stRollbackFailed     = "ROLLBACK_FAILED"
)

// Lifecycle stages, in the order a deployment goes through them.
var stages = []string{"RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
	"POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"}

const (
	stageScaleUp    = "SCALE_UP"
	stageProduction = "PRODUCTION_TRAFFIC_SHIFT"
	stageBake       = "BAKE_TIME"
	stageCleanUp    = "CLEAN_UP"
)

// Strategies.
const (
	strRolling   = "ROLLING"
	strBlueGreen = "BLUE_GREEN"
	strCanary    = "CANARY"
	strLinear    = "LINEAR"
)

// alarmFiring is the CloudWatch alarm state that rolls a deployment back.
const alarmFiring = "ALARM"

// cleanUpTime is how long ECS takes to scale the old revision down, and
// rollbackTime how long a rollback takes once traffic is back.
const (
	cleanUpTime  = 30 * time.Second
	rollbackTime = 30 * time.Second
)

type cluster struct {
	name, arn string
	created   time.Time
	services  map[string]*service
}

// deployConfig is a service's deploymentConfiguration (what a deployment
// copies when it starts).
type deployConfig struct {
	strategy               string
	canaryPct, stepPct     float64
	canaryBake, stepBake   int // minutes
	bake                   int // minutes
	alarms                 []string
	alarmsEnable, alarmsRB bool
	hooks                  []hookSpec
}

// hookSpec is a PAUSE lifecycle hook.
type hookSpec struct {
	targetARN, roleARN string
	stages             []string
	timeout            time.Duration
	timeoutAction      string
}

// lbConfig is the service's load balancer: the production target group,
// and, with an advanced configuration, the alternate one and the rules.
type lbConfig struct {
	targetGroup, alternate string
	prodRule, testRule     string
	roleARN                string
	containerName          string
	containerPort          int
	advanced               bool
}

type service struct {
	cluster     *cluster
	name, arn   string
	created     time.Time
	createdBy   string
	taskDef     string
	desired     int
	launchType  string
	cfg         deployConfig
	lb          *lbConfig
	scaleUp     time.Duration
	revisions   []*revision
	deployments []*deployment
	// current is the revision serving production traffic.
	current *revision
	seq     int
}

type revision struct {
	arn, id string
	svc     *service
	taskDef string
	// tg is the target group the revision's tasks are registered in.
	tg      string
	created time.Time
}

// activeHook is a PAUSE hook a deployment waits at.
type activeHook struct {
	id, targetARN, timeoutAction string
	stage                        string
	expires                      time.Time
}

type deployment struct {
	arn, id        string
	svc            *service
	cfg            deployConfig
	source, target *revision
	status, reason string
	stage          string
	stageIdx       int

	created, started, updated time.Time
	finished, stopped         time.Time
	// pct is the target revision's share of production traffic.
	pct      float64
	shiftIdx int
	// nextAt is the next scheduled transition; zero when none.
	nextAt      time.Time
	hook        *activeHook
	hookSeq     int
	rbReason    string
	rbStarted   time.Time
	triggered   []string
	userStopAt  time.Time // a scripted StopServiceDeployment ROLLBACK
	monitorDone bool
}

func (d *deployment) terminal() bool {
	switch d.status {
	case stSuccessful, stStopped, stRollbackSuccessful, stRollbackFailed:
		return true
	}
	return false
}

func (d *deployment) rollingBack() bool {
	return d.status == stRollbackRequested || d.status == stRollbackInProgress
}

// shift is one traffic move: after the start of the production traffic
// shift, the target revision gets pct percent.
type shift struct {
	after time.Duration
	pct   float64
}

// schedule lists the production shifts of the strategy; the last is 100%.
func (c deployConfig) schedule() []shift {
	switch c.strategy {
	case strCanary:
		if c.canaryPct < 100 {
			return []shift{{0, c.canaryPct}, {time.Duration(c.canaryBake) * time.Minute, 100}}
		}
	case strLinear:
		var out []shift
		for k := 1; ; k++ {
			p := min(100, float64(k)*c.stepPct)
			out = append(out, shift{time.Duration(k-1) * time.Duration(c.stepBake) * time.Minute, p})
			if p >= 100 {
				return out
			}
		}
	}
	return []shift{{0, 100}}
}

// hookAt is the PAUSE hook that waits at stage, if any.
func (c deployConfig) hookAt(stage string) *hookSpec {
	for i := range c.hooks {
		for _, s := range c.hooks[i].stages {
			if s == stage {
				return &c.hooks[i]
			}
		}
	}
	return nil
}

// weights are the rule's forward weights that give the target revision
// pct percent: out of 100 for whole percents, out of 999 otherwise.
func weights(source, target string, pct float64) map[string]int {
	if pct == float64(int(pct)) {
		return map[string]int{source: 100 - int(pct), target: int(pct)}
	}
	t := int(pct*9.99 + 0.5)
	return map[string]int{source: 999 - t, target: t}
}

func (s *service) active() *deployment {
	for i := len(s.deployments) - 1; i >= 0; i-- {
		if !s.deployments[i].terminal() {
			return s.deployments[i]
		}
	}
	return nil
}

// nextRevision creates the service's next revision of taskDef, serving tg.
func (s *service) nextRevision(taskDef, tg string, id string, at time.Time) *revision {
	r := &revision{id: id, svc: s, taskDef: taskDef, tg: tg, created: at,
		arn: fmt.Sprintf("arn:aws:ecs:%s:service-revision/%s/%s/%s", s.regionAccount(), s.cluster.name, s.name, id)}
	s.revisions = append(s.revisions, r)
	return r
}

func (s *service) regionAccount() string {
	// arn:aws:ecs:REGION:ACCOUNT:service/...
	const prefix = "arn:aws:ecs:"
	rest := s.arn[len(prefix):]
	for i, n := 0, 0; i < len(rest); i++ {
		if rest[i] == ':' {
			n++
			if n == 2 {
				return rest[:i]
			}
		}
	}
	return rest
}
