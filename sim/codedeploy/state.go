package codedeploy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/scenario"
)

// The simulated CodeDeploy's state: applications, deployment groups,
// deployment configurations and deployments. Deployments progress on the
// simulation clock by their configuration, move the ALB rule's weights
// (ECS blue/green) or the Lambda alias's routing (Lambda) so that the
// traffic models, and so the metrics, follow; and stop and roll back by
// themselves when an alarm named in the group goes to ALARM.

// Deployment statuses, as the API spells them.
const (
	cdCreated    = "Created"
	cdInProgress = "InProgress"
	cdReady      = "Ready"
	cdSucceeded  = "Succeeded"
	cdFailed     = "Failed"
	cdStopped    = "Stopped"
)

// Compute platforms.
const (
	cdECS    = "ECS"
	cdLambda = "Lambda"
	cdServer = "Server"
)

// Auto-rollback events.
const (
	cdOnFailure = "DEPLOYMENT_FAILURE"
	cdOnAlarm   = "DEPLOYMENT_STOP_ON_ALARM"
	cdOnRequest = "DEPLOYMENT_STOP_ON_REQUEST"
)

// alarmFiring is the CloudWatch alarm state that stops a deployment.
const alarmFiring = "ALARM"

// cdRollbackTime is how long a rollback deployment takes once traffic is
// back on the original side (terminating the replacement).
const cdRollbackTime = 30 * time.Second

type cdPhase int

const (
	phInstall  cdPhase = iota // pre-traffic hooks; the replacement starts
	phReady                   // waiting for ContinueDeployment(READY_WAIT)
	phShift                   // AllowTraffic: shifting by the configuration
	phTermWait                // ECS: the original task set waits for termination
	phRollback                // a rollback deployment restoring the original
	phDone
)

// cdConfig is a deployment configuration.
type cdConfig struct {
	name, id   string
	platform   string
	routing    string // TimeBasedCanary, TimeBasedLinear, AllAtOnce; "" for Server
	percentage int
	interval   int // minutes
	// Server configurations: minimumHealthyHosts.
	minHealthyType  string
	minHealthyValue int
	created         time.Time
}

// cdShift is one traffic move: at an offset from the start of
// AllowTraffic, the replacement gets pct percent.
type cdShift struct {
	after time.Duration
	pct   float64
}

// schedule lists the shifts a configuration makes; the last one is 100%.
func (c *cdConfig) schedule() []cdShift {
	iv := time.Duration(c.interval) * time.Minute
	switch c.routing {
	case "TimeBasedCanary":
		return []cdShift{{0, float64(c.percentage)}, {iv, 100}}
	case "TimeBasedLinear":
		var out []cdShift
		for k := 1; ; k++ {
			p := min(100, k*c.percentage)
			out = append(out, cdShift{time.Duration(k-1) * iv, float64(p)})
			if p == 100 {
				return out
			}
		}
	}
	return []cdShift{{0, 100}}
}

type cdApp struct {
	name, id string
	platform string
	created  time.Time
	groups   map[string]*cdGroup
}

type cdGroup struct {
	app             *cdApp
	name, id        string
	platform        string
	config          string // default deployment configuration name
	alarms          []string
	autoRollback    bool
	rollbackEvents  []string
	installTime     time.Duration
	readyWait       time.Duration // 0: continue at once
	terminationWait time.Duration

	// ECS: the service and the rule whose two target groups it shifts.
	cluster, service string
	ruleARN          string
	listenerARN      string
	tgs              [2]cdTG // stable, canary as the scenario named them
	desired          int

	// Lambda: the alias it shifts, and the version a deployment targets
	// when its revision does not say.
	function, alias string
	targetVersion   string

	// Server: the instances an in-place deployment goes through.
	instances []string

	deployments []*cdDeployment // in creation order
}

type cdTG struct{ arn, name string }

// cdHook is one lifecycle event. A hook with an empty status is planned:
// its status follows the clock (Pending, InProgress, Succeeded).
type cdHook struct {
	name       string
	status     string
	start, end time.Time
}

func (h *cdHook) statusAt(now time.Time) string {
	switch {
	case h.status != "":
		return h.status
	case h.start.IsZero() || now.Before(h.start):
		return "Pending"
	case !h.end.IsZero() && !now.Before(h.end):
		return "Succeeded"
	}
	return "InProgress"
}

type cdDeployment struct {
	id          string
	group       *cdGroup
	config      *cdConfig
	creator     string
	description string
	status      string

	created, started, completed time.Time
	errCode, errMessage         string
	// rollbackID is set on a deployment that was rolled back, rollbackOf on
	// the rollback deployment itself.
	rollbackID, rollbackOf, rollbackMsg string
	autoRollback                        bool
	rollbackEvents                      []string

	// ECS: blue carries production traffic when the deployment starts.
	blue, green cdTG
	blueGone    bool
	// Lambda: the alias's version before, and the version deployed.
	current, target string
	// greenPct is CodeDeploy's view of the replacement's share of traffic.
	greenPct float64

	phase      cdPhase
	shiftStart time.Time
	shiftIdx   int
	// nextAt is the next scheduled transition; zero when none (a wait
	// without a timeout, or done).
	nextAt          time.Time
	userStopAt      time.Time // a scripted StopDeployment with rollback
	termWaitStarted bool
	hooks           []*cdHook
	updated         time.Time
}

func (d *cdDeployment) terminal() bool {
	return d.status == cdSucceeded || d.status == cdFailed || d.status == cdStopped
}

func (d *cdDeployment) hook(name string) *cdHook {
	for _, h := range d.hooks {
		if h.name == name {
			return h
		}
	}
	return nil
}

// pendingDeployment is a scripted deployment not created yet.
type pendingDeployment struct {
	at        time.Time
	id        string
	group     *cdGroup
	spec      *scenario.CodeDeployDeployment
	stopAfter time.Duration
}

// Service is the simulated CodeDeploy. Its methods run with the Sim's
// mutex held: the server holds it for every request, and the Sim's own
// entry points take it.
type Service struct {
	deps            Deps
	region, account string
	apps            map[string]*cdApp
	configs         map[string]*cdConfig
	byID            map[string]*cdDeployment
	pending         []*pendingDeployment
	ids             *rand.Rand
	now             time.Time
}

// New is an account's CodeDeploy in region, with the predefined
// configurations; from is where simulated time begins (the start of the
// backfilled history: scripted deployments may start there), seed drives
// the deployment IDs.
func New(deps Deps, region, account string, seed int64, from time.Time) *Service {
	c := &Service{
		deps:    deps,
		region:  region,
		account: account,
		apps:    map[string]*cdApp{},
		configs: map[string]*cdConfig{},
		byID:    map[string]*cdDeployment{},
		ids:     rand.New(rand.NewPCG(uint64(seed), 0xc0dede9)),
		now:     from,
	}
	for _, cfg := range predefinedConfigs() {
		c.configs[cfg.name] = cfg
	}
	return c
}

// predefinedConfigs are CodeDeploy's built-in configurations.
func predefinedConfigs() []*cdConfig {
	created := time.Date(2017, 11, 1, 0, 0, 0, 0, time.UTC)
	var out []*cdConfig
	for i, b := range scenario.BuiltinDeploymentConfigs() {
		out = append(out, &cdConfig{name: b.Name, platform: b.ComputePlatform, routing: b.Type,
			percentage: b.Percentage, interval: b.Interval, minHealthyType: b.MinHealthyType, minHealthyValue: b.MinHealthyValue,
			created: created, id: fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", 0xc0de0000+i, i, i, i, 0x5eed00000000+i)})
	}
	return out
}

// newID is a deployment ID: "d-" and nine uppercase letters and digits.
func newDeploymentID(r *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	b.WriteString("d-")
	for range 9 {
		b.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func (c *Service) newID() string {
	for {
		id := newDeploymentID(c.ids)
		if c.byID[id] == nil && !c.pendingID(id) {
			return id
		}
	}
}

func (c *Service) pendingID(id string) bool {
	for _, p := range c.pending {
		if p.id == id {
			return true
		}
	}
	return false
}

// active is the group's deployment that has not finished, if any.
func (g *cdGroup) active() *cdDeployment {
	for i := len(g.deployments) - 1; i >= 0; i-- {
		if d := g.deployments[i]; !d.terminal() {
			return d
		}
	}
	return nil
}
