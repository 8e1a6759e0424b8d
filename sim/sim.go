package sim

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/cloudwatch"
	"github.com/perch-dev/perch/sim/codedeploy"
	"github.com/perch-dev/perch/sim/ecs"
	"github.com/perch-dev/perch/sim/elbv2"
	"github.com/perch-dev/perch/sim/ids"
	"github.com/perch-dev/perch/sim/lambda"
	"github.com/perch-dev/perch/sim/logs"
	"github.com/perch-dev/perch/sim/metrics"
	"github.com/perch-dev/perch/sim/sts"
	"github.com/perch-dev/perch/sim/traffic"
)

// Options configures a simulator.
type Options struct {
	// Clock is the simulation's time; nil means the wall clock. Tests pass a
	// clock.Manual, the demo a clock.Scaled shared with the engine.
	Clock clock.Clock
	// Scenario seeds the state and drives the traffic model; nil means the
	// built-in "healthy".
	Scenario *Scenario
	// Seed, when non-zero, overrides the scenario's seed.
	Seed int64
	// Region defaults to "us-east-1", Account to "123456789012".
	Region  string
	Account string
	// CallerARN is what STS GetCallerIdentity answers; it overrides the
	// scenario's caller_arn. Default
	// arn:aws:sts::<account>:assumed-role/perch-demo/operator.
	CallerARN string
	// Logger, when set, gets one debug line per request.
	Logger *slog.Logger
	// AllowNonLoopback lets Start listen on an address that is not a
	// loopback address. The simulator has no authentication, so the default
	// refuses.
	AllowNonLoopback bool
}

// Sim is a running simulated AWS account. Safe for concurrent use.
type Sim struct {
	mu sync.Mutex

	clock    clock.Clock
	scenario *Scenario
	seed     int64
	region   string
	account  string
	// callerARN is who STS says the caller is; perch's rollout marker
	// names it.
	callerARN string
	log       *slog.Logger
	start     time.Time

	store  *metrics.Store
	cw     *cloudwatch.Service
	elb    *elbv2.Service
	sts    *sts.Service
	lambda *lambda.Service
	// codedeploy runs deployments that move the rules' weights and the
	// aliases' routing.
	codedeploy *codedeploy.Service
	// ecs runs service deployments that move the rules' weights.
	ecs *ecs.Service
	// logs serves the services' log lines and Logs Insights queries.
	logs    *logs.Service
	targets []ManifestTarget

	services map[string]awsproto.Service // by SigV4 signing name
	router   *awsproto.Router
	stats    map[string]int
	// faulted counts the calls answered with an injected error, by
	// "service:Operation:Code".
	faulted map[string]int
	faults  []armedFault
	// faultRand draws which calls a fractional fault hits.
	faultRand *rand.Rand
	// drifts are second operators changing weights on a schedule.
	drifts []*driftState
	// nextFault is the index of the next scenario fault to arm.
	nextFault int
	reqIDs    *rand.Rand
}

// New builds a simulator: seeds the scenario's resources and backfills
// its metric history up to the clock's now.
func New(opts Options) (*Sim, error) {
	return newSim(opts, nil)
}

// newSim is New with the traffic model's output redirected to sink when
// sink is non-nil (tests record what is published).
func newSim(opts Options, sink metrics.Sink) (*Sim, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Account == "" {
		opts.Account = "123456789012"
	}
	if len(opts.Account) != 12 || strings.Trim(opts.Account, "0123456789") != "" {
		return nil, fmt.Errorf("new sim: account %q is not 12 digits", opts.Account)
	}
	sc := opts.Scenario
	if sc == nil {
		var err error
		sc, err = LoadScenario("healthy")
		if err != nil {
			return nil, fmt.Errorf("new sim: %w", err)
		}
	}
	seed := sc.Seed
	if opts.Seed != 0 {
		seed = opts.Seed
	}
	callerARN := opts.CallerARN
	if callerARN == "" {
		callerARN = sc.CallerARN
	}
	if callerARN == "" {
		callerARN = fmt.Sprintf("arn:aws:sts::%s:assumed-role/perch-demo/operator", opts.Account)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sim{
		clock:    opts.Clock,
		scenario: sc,
		seed:     seed,
		region:   opts.Region,
		account:  opts.Account,
		log:      log,
		start:    opts.Clock.Now().UTC(),
		stats:    map[string]int{},
		faulted:  map[string]int{},
		reqIDs:   rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
	}
	s.build(opts.Clock, callerARN)
	if sink == nil {
		sink = s.store
	}
	if err := s.seedScenario(sink); err != nil {
		return nil, fmt.Errorf("new sim: seed scenario %s: %w", sc.Name, err)
	}
	s.mu.Lock()
	s.advanceLocked(s.start)
	s.mu.Unlock()
	return s, nil
}

// Handler serves the AWS APIs and the /_sim/ control endpoints.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// StartTime is the clock's now when the simulator was built; scenario
// event offsets count from it.
func (s *Sim) StartTime() time.Time { return s.start }

// Stats returns a copy of the per-operation call counts, keyed
// "<service>:<Operation>", e.g. "elbv2:ModifyRule".
func (s *Sim) Stats() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.stats))
	for k, v := range s.stats {
		out[k] = v
	}
	return out
}

// ResetStats zeroes the call counts.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = map[string]int{}
	s.faulted = map[string]int{}
}

// Faulted returns how many calls were answered with an injected error
// since the last reset, by "service:Operation:Code" (ThrottlingException,
// Throttling, ...).
func (s *Sim) Faulted() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.faulted))
	for k, v := range s.faulted {
		out[k] = v
	}
	return out
}

// Sync advances the traffic model to the clock's now, publishing every
// period that has become visible. Requests do this themselves; in-process
// callers that read state directly use it.
func (s *Sim) Sync() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
}

func (s *Sim) advanceLocked(now time.Time) {
	// The deployment engines first: they bring the traffic models to each
	// of their own changes on the way to now, in time order between them.
	for {
		at := now
		if t, ok := s.codedeploy.NextDue(); ok && t.Before(at) {
			at = t
		}
		if t, ok := s.ecs.NextDue(); ok && t.Before(at) {
			at = t
		}
		s.codedeploy.Advance(at)
		s.ecs.Advance(at)
		if !at.Before(now) {
			break
		}
	}
	s.elb.AdvanceTraffic(now)
	s.lambda.AdvanceTraffic(now)
	for ; s.nextFault < len(s.scenario.Faults); s.nextFault++ {
		sf := s.scenario.Faults[s.nextFault]
		if s.start.Add(sf.At.D()).After(now) {
			break
		}
		s.armScheduledLocked(sf)
	}
	s.applyDriftsLocked(now)
}

// newRequestID returns a UUID-shaped ID that is deterministic for a seed.
func (s *Sim) newRequestID() string { return ids.UUID(s.reqIDs) }

// SlowShare is the chance that a request's published latency is above
// thresholdMs on a side with median p50 and 99th percentile p99 (see
// traffic.SlowShare).
func SlowShare(p50, p99, thresholdMs float64) float64 {
	return traffic.SlowShare(p50, p99, thresholdMs)
}
