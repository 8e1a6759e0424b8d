package rollout_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// The fault tests run the engine on the real adapters and SDK clients
// against the simulator with one fault from `perch sim --fault` armed,
// and check what an operator depends on: no panic, no acknowledged audit
// entry lost, every source on screen either fresh or marked stale with
// its error, no write while the split is unknown, and recovery on the
// next poll once the fault ends, with no restart.

const (
	faultPoll = 30 * time.Second
	// faultCallTimeout is the engine's per-call deadline here: short, so
	// the latency fault can outlast it without slowing the suite down.
	faultCallTimeout = 400 * time.Millisecond
)

// countingLog acknowledges appends like the real log and counts them.
type countingLog struct {
	*audit.Log
	mu    sync.Mutex
	acked int
}

func (c *countingLog) Append(e model.AuditEntry) (model.AuditEntry, error) {
	out, err := c.Log.Append(e)
	if err == nil {
		c.mu.Lock()
		c.acked++
		c.mu.Unlock()
	}
	return out, err
}

type faultRig struct {
	env    *simtest.Env
	engine *rollout.Engine
	log    *countingLog
	path   string
}

// quickRetries keeps the SDK's retry logic (which errors, how many
// attempts) but without real-time backoff: the clock under test is
// virtual, and the suite must stay fast.
func quickRetries() awssdk.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
	})
}

func newFaultRig(t *testing.T, scenario string) *faultRig {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: scenario})
	cfg := env.AWS.Copy()
	cfg.Retryer = quickRetries
	ctx := context.Background()
	mt := env.Manifest.Targets[0]
	var (
		router  rollout.Router
		health  rollout.HealthReader
		metrics rollout.MetricsReader
	)
	if mt.Kind == "lambda" {
		r, err := perchaws.NewLambdaRouter(ctx, cfg, perchaws.LambdaOptions{Function: mt.Function, Alias: mt.Alias})
		if err != nil {
			t.Fatal(err)
		}
		router, health, metrics = r, r, perchaws.NewLambdaMetrics(cfg, r)
	} else {
		r, err := perchaws.NewALBRouter(ctx, cfg, perchaws.ALBOptions{RuleARN: mt.RuleARN})
		if err != nil {
			t.Fatal(err)
		}
		router, health, metrics = r, r, perchaws.NewALBMetrics(cfg, r.Target())
	}
	l, path := tempAudit(t)
	log := &countingLog{Log: l}
	eng, err := rollout.New(rollout.Config{
		Router: router, Health: health, Metrics: metrics,
		Alarms: perchaws.NewAlarms(cfg), AlarmNames: mt.Alarms,
		Identity: perchaws.NewIdentity(cfg),
		Audit:    log, Clock: env.Clock, Poll: faultPoll, History: time.Hour,
		CallTimeout:   faultCallTimeout,
		DescribeError: func(err error) string { return perchaws.DescribeErrorWithProfile(err, "ops") },
	})
	if err != nil {
		t.Fatal(err)
	}
	return &faultRig{env: env, engine: eng, log: log, path: path}
}

func (r *faultRig) arm(t *testing.T, spec string) {
	t.Helper()
	fs, err := sim.ParseFaultSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.env.Sim.ApplyFaultSpec(fs); err != nil {
		t.Fatal(err)
	}
}

// poll advances one poll interval and polls, checking the snapshot is honest.
func (r *faultRig) poll(t *testing.T) model.Snapshot {
	t.Helper()
	r.env.Advance(faultPoll)
	snap := r.engine.PollOnce(context.Background())
	honest(t, snap)
	return snap
}

// honest: each source is either read at this poll with no error, or
// marked with the error and the time of its last good read, so the
// screen can say "STALE". Nothing old is passed off as new.
func honest(t *testing.T, s model.Snapshot) {
	t.Helper()
	check := func(name string, fresh bool, at time.Time, errText string) {
		switch {
		case errText == "" && !at.Equal(s.Now):
			t.Errorf("%s: no error but read at %s, not now (%s): old data shown as fresh", name, at.Format(time.TimeOnly), s.Now.Format(time.TimeOnly))
		case errText != "" && at.Equal(s.Now):
			t.Errorf("%s: error %q yet stamped as read now", name, errText)
		case errText != "" && fresh:
			t.Errorf("%s: error %q yet marked known", name, errText)
		case strings.Contains(errText, "\n"):
			t.Errorf("%s: error is not one line: %q", name, errText)
		}
	}
	check("split", s.SplitKnown && s.SplitErr != "", s.SplitAt, s.SplitErr)
	if s.SplitKnown != (s.SplitErr == "") {
		t.Errorf("split known=%v with error %q", s.SplitKnown, s.SplitErr)
	}
	check("metrics", false, s.MetricsAt, s.MetricsErr)
	if len(s.Alarms) > 0 || s.AlarmsErr != "" {
		check("alarms", false, s.AlarmsAt, s.AlarmsErr)
	}
}

// writeRefused tries a shift and wants it refused with want in the
// reason and no write call at the simulator.
func (r *faultRig) writeRefused(t *testing.T, seen model.Split, want string) {
	t.Helper()
	before := writeCalls(r.env)
	res := r.engine.Execute(context.Background(), model.Intent{Kind: model.SetPercent, Percent: 25, Expected: &seen, Actor: operator()})
	if res.Outcome != model.OutcomeRefused || !strings.Contains(res.Err, want) {
		t.Fatalf("shift under the fault: %s %q, want refused mentioning %q", res.Outcome, res.Err, want)
	}
	if n := writeCalls(r.env) - before; n != 0 {
		t.Fatalf("a refused shift made %d write calls", n)
	}
}

// recovered polls once more with the fault gone and wants every source
// fresh and a verified shift, on the same engine.
func (r *faultRig) recovered(t *testing.T) {
	t.Helper()
	snap := r.poll(t)
	if !snap.SplitKnown || snap.SplitErr != "" || snap.MetricsErr != "" || snap.AlarmsErr != "" || !snap.MetricsAt.Equal(snap.Now) {
		t.Fatalf("not recovered one poll after the fault ended: split %v %q, metrics %q at %s, alarms %q",
			snap.SplitKnown, snap.SplitErr, snap.MetricsErr, snap.MetricsAt.Format(time.TimeOnly), snap.AlarmsErr)
	}
	if snap.Health[model.Stable].Total() == 0 {
		t.Errorf("target health not read again after the fault")
	}
	seen := snap.Split
	target := 25.0
	if seen.CanaryPercent() == target {
		target = 50
	}
	res := r.engine.Execute(context.Background(), model.Intent{Kind: model.SetPercent, Percent: target, Expected: &seen, Actor: operator()})
	if res.Outcome != model.OutcomeOK || !res.Verified {
		t.Fatalf("shift after recovery: %+v", res)
	}
}

// auditIntact: the log verifies and holds every entry the engine was
// told was written.
func (r *faultRig) auditIntact(t *testing.T) []model.AuditEntry {
	t.Helper()
	rep, err := audit.Verify(r.path)
	if err != nil {
		t.Fatalf("audit log does not verify: %v", err)
	}
	r.log.mu.Lock()
	acked := r.log.acked
	r.log.mu.Unlock()
	if rep.Entries != acked {
		t.Fatalf("audit log holds %d entries, %d were acknowledged", rep.Entries, acked)
	}
	entries, err := audit.ReadAll(r.path)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func writeCalls(env *simtest.Env) int {
	n := 0
	for op, c := range env.Sim.Stats() {
		name := op[strings.Index(op, ":")+1:]
		if strings.HasPrefix(name, "Modify") || strings.HasPrefix(name, "Update") || strings.HasPrefix(name, "Set") ||
			strings.HasPrefix(name, "Put") || strings.HasPrefix(name, "Stop") || strings.HasPrefix(name, "Continue") {
			n += c
		}
	}
	return n
}

// healthyStart polls twice with no fault and returns the split seen.
func (r *faultRig) healthyStart(t *testing.T) model.Split {
	t.Helper()
	snap := r.engine.PollOnce(context.Background())
	honest(t, snap)
	if !snap.SplitKnown || snap.MetricsErr != "" || snap.Identity.ARN == "" {
		t.Fatalf("first poll without a fault: %+v", snap)
	}
	return r.poll(t).Split
}

func TestFaultThrottleAll(t *testing.T) {
	r := newFaultRig(t, "healthy")
	seen := r.healthyStart(t)
	r.arm(t, "throttle:all:1")
	for range 3 {
		snap := r.poll(t)
		if snap.SplitKnown || !strings.Contains(snap.SplitErr, "throttling") || !strings.Contains(snap.MetricsErr, "throttling") {
			t.Fatalf("under throttle:all:1: split %v %q, metrics %q", snap.SplitKnown, snap.SplitErr, snap.MetricsErr)
		}
		if snap.Health[model.Stable].Total() != 0 {
			t.Errorf("health from before the throttle still shown as current: %+v", snap.Health)
		}
	}
	r.writeRefused(t, seen, "traffic state unknown")
	r.env.Sim.ClearFaults()
	r.recovered(t)
	r.auditIntact(t)
}

func TestFaultThrottleCloudWatchHalf(t *testing.T) {
	r := newFaultRig(t, "healthy")
	r.healthyStart(t)
	r.arm(t, "throttle:cloudwatch:0.5")
	r.env.Sim.ResetStats()
	fresh := 0
	for range 10 {
		if snap := r.poll(t); snap.MetricsErr == "" {
			fresh++
		}
	}
	if calls := r.env.Sim.Stats()["cloudwatch:GetMetricData"]; calls <= 10 {
		t.Fatalf("%d GetMetricData calls in 10 polls: nothing was throttled", calls)
	}
	// Three attempts at one half each: retries absorb most throttles.
	if fresh < 7 {
		t.Errorf("metrics fresh on only %d of 10 polls under throttle:cloudwatch:0.5", fresh)
	}
	r.env.Sim.ClearFaults()
	r.recovered(t)
	r.auditIntact(t)
}

func TestFaultErrorELBv2(t *testing.T) {
	r := newFaultRig(t, "healthy")
	seen := r.healthyStart(t)
	r.arm(t, "error:elbv2:1")
	snap := r.poll(t)
	if snap.SplitKnown || !strings.Contains(snap.SplitErr, "InternalFailure") {
		t.Fatalf("under error:elbv2:1: split %v %q", snap.SplitKnown, snap.SplitErr)
	}
	// CloudWatch is not faulted: its data stays fresh while the split is unknown.
	if snap.MetricsErr != "" || !snap.MetricsAt.Equal(snap.Now) {
		t.Fatalf("metrics should be unaffected: %q at %s", snap.MetricsErr, snap.MetricsAt)
	}
	r.writeRefused(t, seen, "InternalFailure")
	r.env.Sim.ClearFaults()
	r.recovered(t)
	r.auditIntact(t)
}

func TestFaultLatency(t *testing.T) {
	r := newFaultRig(t, "healthy")
	seen := r.healthyStart(t)
	// Slower than the per-call deadline: every elbv2 call times out.
	r.arm(t, fmt.Sprintf("latency:elbv2:%s", 3*faultCallTimeout))
	snap := r.poll(t)
	if snap.SplitKnown || !strings.Contains(snap.SplitErr, "timed out") {
		t.Fatalf("under a latency above the deadline: split %v %q", snap.SplitKnown, snap.SplitErr)
	}
	r.writeRefused(t, seen, "timed out")
	r.env.Sim.ClearFaults()
	// Slower than usual but inside the deadline: fresh, just late.
	r.arm(t, fmt.Sprintf("latency:all:%s", faultCallTimeout/8))
	if snap := r.poll(t); !snap.SplitKnown || snap.MetricsErr != "" {
		t.Fatalf("under a latency inside the deadline: split %v %q, metrics %q", snap.SplitKnown, snap.SplitErr, snap.MetricsErr)
	}
	r.env.Sim.ClearFaults()
	r.recovered(t)
	r.auditIntact(t)
}

func TestFaultOutage(t *testing.T) {
	r := newFaultRig(t, "healthy")
	seen := r.healthyStart(t)
	r.arm(t, "outage:elbv2:5m")
	r.arm(t, "outage:cloudwatch:5m")
	var snap model.Snapshot
	for range 4 { // two simulated minutes into the outage
		snap = r.poll(t)
		if snap.SplitKnown || snap.MetricsErr == "" {
			t.Fatalf("during the outage: split %v %q, metrics %q", snap.SplitKnown, snap.SplitErr, snap.MetricsErr)
		}
	}
	if age := snap.Now.Sub(snap.MetricsAt); age < 2*time.Minute {
		t.Errorf("metrics age %s after two minutes of outage", age)
	}
	r.writeRefused(t, seen, "traffic state unknown")
	// Nobody clears anything: the outage ends on the simulated clock.
	r.env.Advance(3 * time.Minute)
	r.recovered(t)
	r.auditIntact(t)
}

func TestFaultExpiredCredentials(t *testing.T) {
	r := newFaultRig(t, "healthy")
	seen := r.healthyStart(t)
	r.arm(t, "expire-credentials:1m")
	if snap := r.poll(t); !snap.SplitKnown {
		t.Fatalf("before the credentials expire: %q", snap.SplitErr)
	}
	snap := r.poll(t)
	want := "aws sso login --profile ops"
	if snap.SplitKnown || !strings.Contains(snap.SplitErr, want) || !strings.Contains(snap.MetricsErr, want) {
		t.Fatalf("after expiry: split %v %q, metrics %q; want both to say %q", snap.SplitKnown, snap.SplitErr, snap.MetricsErr, want)
	}
	r.writeRefused(t, seen, want)
	// The operator logs in again; perch carries on without a restart.
	r.env.Sim.ClearFaults()
	r.recovered(t)
	r.auditIntact(t)
}

func TestFaultDrift(t *testing.T) {
	r := newFaultRig(t, "healthy")
	seen := r.healthyStart(t)
	r.arm(t, "drift:checkout:1m")
	var snap model.Snapshot
	for range 4 {
		snap = r.poll(t)
		if !snap.SplitKnown {
			t.Fatalf("drift is not a read failure: %q", snap.SplitErr)
		}
	}
	if snap.Drift == nil || snap.Split.SameRouting(seen) {
		t.Fatalf("two minutes of drift not seen: drift %+v, split %s (was %s)", snap.Drift, snap.Split, seen)
	}
	r.writeRefused(t, seen, "changed since you looked")
	r.env.Sim.ClearFaults()
	r.recovered(t)
	drifts := 0
	for _, e := range r.auditIntact(t) {
		if e.Action == "drift" {
			drifts++
		}
	}
	if drifts < 2 {
		t.Fatalf("%d drift entries in the audit log after two moves", drifts)
	}
}

func TestFaultLambdaThrottle(t *testing.T) {
	r := newFaultRig(t, "lambda-healthy")
	seen := r.healthyStart(t)
	r.arm(t, "throttle:lambda:1")
	snap := r.poll(t)
	if snap.SplitKnown || !strings.Contains(snap.SplitErr, "TooManyRequestsException") {
		t.Fatalf("under throttle:lambda:1: split %v %q", snap.SplitKnown, snap.SplitErr)
	}
	r.writeRefused(t, seen, "traffic state unknown")
	r.env.Sim.ClearFaults()
	r.recovered(t)
	r.auditIntact(t)
}

// TestAutopilotHoldsOnStaleMetrics: a PASS from before CloudWatch went
// away must not carry the plan forward.
func TestAutopilotHoldsOnStaleMetrics(t *testing.T) {
	// Busy enough that the judge passes on the last half hour.
	env := simtest.Start(t, simtest.Options{ScenarioName: "healthy-busy"})
	cfg := env.AWS.Copy()
	cfg.Retryer = quickRetries
	ctx := context.Background()
	router, err := perchaws.NewALBRouter(ctx, cfg, perchaws.ALBOptions{RuleARN: env.Manifest.Targets[0].RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := tempAudit(t)
	plan, err := model.ParsePlan("10%:1m,50%:1m,100%")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rollout.New(rollout.Config{
		Router: router, Health: router, Metrics: perchaws.NewALBMetrics(cfg, router.Target()),
		Audit: l, Clock: env.Clock, Poll: faultPoll, History: time.Hour, CallTimeout: faultCallTimeout,
		Plan: &plan, Judge: model.JudgeConfig{}, DescribeError: perchaws.DescribeError,
	})
	if err != nil {
		t.Fatal(err)
	}
	eng.PollOnce(ctx)
	fs, _ := sim.ParseFaultSpec("error:cloudwatch:1")
	if err := env.Sim.ApplyFaultSpec(fs); err != nil {
		t.Fatal(err)
	}
	before := writeCalls(env)
	var snap model.Snapshot
	for range 10 { // five simulated minutes: every bake is long over
		env.Advance(faultPoll)
		snap = eng.PollOnce(ctx)
	}
	if n := writeCalls(env) - before; n != 0 {
		t.Fatalf("the autopilot wrote %d times on metrics it could not read", n)
	}
	if snap.Autopilot == nil || !strings.Contains(snap.Autopilot.Decision.Reason, "metrics unavailable") {
		t.Fatalf("autopilot status under a metrics outage: %+v", snap.Autopilot)
	}
}
