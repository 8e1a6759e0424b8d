package evaluate

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim"
)

// Epoch is where every run's simulated clock starts: fixed, so a seed
// gives the same data on every machine.
var Epoch = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// Outcome is one detector's result in one run.
type Outcome struct {
	// Detected: it fired at or after the regression started.
	Detected bool `json:"detected"`
	// Seconds from the regression's start to the poll that saw it fire.
	Seconds float64 `json:"seconds,omitempty"`
	// FalseRollback: it fired on a healthy canary, or before the
	// regression started. The canary would have been rolled back, so the
	// run ends there for this detector.
	FalseRollback bool `json:"false_rollback"`
	// At is when it fired, from attach (simulated).
	At time.Duration `json:"at,omitempty"`
	// Why is the judge's summary line or the alarm that fired.
	Why string `json:"why,omitempty"`
	// Signals are the metrics the judge failed on.
	Signals []model.Signal `json:"signals,omitempty"`
}

func (o Outcome) fired() bool { return o.Detected || o.FalseRollback }

// Run is one seed's result.
type Run struct {
	Seed     int64   `json:"seed"`
	Judge    Outcome `json:"judge"`
	Baseline Outcome `json:"alarm_baseline"`
	// Oracle is the CUSUM that knows the true rates (see oracle.go); it
	// is not run on a scenario without a regression.
	Oracle *Outcome `json:"oracle,omitempty"`
	// Signals is, per metric the judge weighed, when that metric's own
	// verdict first said FAIL (polling goes on after the overall FAIL,
	// for up to signalChase, to time the others).
	Signals map[model.Signal]Outcome `json:"signals,omitempty"`
	// PassAfterOnset: the judge said PASS at a poll after the regression
	// began and before it detected it.
	PassAfterOnset bool `json:"pass_after_onset"`
	// Verdict is the judge's overall verdict at its last look (at the end
	// of the run, or when it fired), and Summary its one line.
	Verdict model.VerdictKind `json:"verdict"`
	Summary string            `json:"summary"`
	// PassedAt is the first poll at which the judge said PASS, from
	// attach; negative when it never did.
	PassedAt time.Duration `json:"passed_at"`
	// MoreRequests is how many more canary requests the error test asked
	// for at the judge's last look (0 unless INSUFFICIENT; +Inf when the
	// traffic seen cannot get there).
	MoreRequests float64 `json:"more_requests"`
	// CanaryRequests and Requests count what perch read in the run,
	// history included.
	CanaryRequests float64 `json:"canary_requests"`
	Requests       float64 `json:"requests"`
	// Watched is how long the run lasted (simulated).
	Watched time.Duration `json:"watched"`
	// Fetches is how many GetMetricData calls perch made.
	Fetches int `json:"fetches"`
}

// runConfig is what every run of one evaluation shares.
type runConfig struct {
	scenario *sim.Scenario
	timeline Timeline
	poll     time.Duration
	horizon  time.Duration
	judge    model.JudgeConfig
	alarms   []Alarm
	// fullPolling keeps the engine polling after the judge has fired,
	// instead of reading the rest of the data in large steps for the
	// baseline; tests use it to check both ways agree.
	fullPolling bool
	// oracles caches the oracle by slow-request threshold: its
	// calibration is the same for every run that learnt the same one.
	oracles *oracleCache
}

// signalChase is how long the engine keeps polling after the judge fired,
// to time the metrics that had not failed yet.
const signalChase = time.Hour

type oracleCache struct {
	mu sync.Mutex
	m  map[float64]*oracle
}

func (c *oracleCache) get(reg *Regression, thresholdMs float64) *oracle {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[float64]*oracle{}
	}
	o, ok := c.m[thresholdMs]
	if !ok {
		o = newOracle(reg, thresholdMs)
		c.m[thresholdMs] = o
	}
	return o
}

// runOne plays one seed: the simulator on a manual clock, perch's engine
// polling it over loopback through the real SDK adapters, the judge's
// verdict read from every poll's snapshot, and the alarms evaluated on the
// same data.
func runOne(ctx context.Context, rc runConfig, seed int64) (Run, error) {
	clk := clock.NewManual(Epoch)
	srv, err := sim.Start(ctx, "127.0.0.1:0", sim.Options{Clock: clk, Scenario: rc.scenario, Seed: seed})
	if err != nil {
		return Run{}, fmt.Errorf("seed %d: %w", seed, err)
	}
	defer srv.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: 4}
	defer transport.CloseIdleConnections()
	cfg := awssdk.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("evaluate", "evaluate", ""),
		BaseEndpoint: awssdk.String(srv.URL),
		HTTPClient:   &http.Client{Transport: transport, Timeout: 30 * time.Second},
	}
	var mt *sim.ManifestTarget
	m := srv.Sim.Manifest(srv.URL)
	for i := range m.Targets {
		if t := &m.Targets[i]; t.Kind == "alb" && t.Name == rc.timeline.ALB {
			mt = t
			break
		}
	}
	if mt == nil {
		return Run{}, fmt.Errorf("seed %d: the simulator seeded no ALB canary named %s", seed, rc.timeline.ALB)
	}
	opts := perchaws.ALBOptions{RuleARN: mt.RuleARN, CanaryTargetGroup: mt.CanaryTargetGroupARN}
	if mt.DefaultRule {
		opts = perchaws.ALBOptions{ListenerARN: mt.ListenerARN, CanaryTargetGroup: mt.CanaryTargetGroupARN}
	}
	router, err := perchaws.NewALBRouter(ctx, cfg, opts)
	if err != nil {
		return Run{}, fmt.Errorf("seed %d: attach to %s: %w", seed, rc.timeline.ALB, err)
	}
	delay := rc.scenario.PublishDelay.D()
	metrics := &periodMetrics{inner: perchaws.NewALBMetrics(cfg, router.Target()), delay: delay}
	engine, err := rollout.New(rollout.Config{
		Router:  &scriptedRouter{inner: router, clock: clk, start: Epoch, changes: rc.timeline.WeightChanges},
		Metrics: metrics,
		Clock:   clk,
		Audit:   discardAudit{},
		Poll:    rc.poll,
		Judge:   rc.judge,
	})
	if err != nil {
		return Run{}, fmt.Errorf("seed %d: %w", seed, err)
	}

	r := Run{Seed: seed, PassedAt: -1}
	var regression time.Time
	if rc.timeline.Regression != nil {
		regression = Epoch.Add(rc.timeline.Regression.At)
		r.Oracle = &Outcome{}
	}
	end := Epoch.Add(rc.horizon)
	base := newBaseline(rc.alarms)
	var orc *oracleRun
	seen := requestTally{}
	// pollAt is the first poll at or after t: polls are at Epoch + k*poll.
	pollAt := func(t time.Time) time.Time {
		if !t.After(Epoch) {
			return Epoch
		}
		k := (t.Sub(Epoch) + rc.poll - 1) / rc.poll
		return Epoch.Add(k * rc.poll)
	}
	fire := func(o *Outcome, at time.Time, why string) {
		if o.fired() {
			return
		}
		o.At, o.Why = at.Sub(Epoch), why
		if regression.IsZero() || at.Before(regression) {
			o.FalseRollback = true
			return
		}
		o.Detected, o.Seconds = true, at.Sub(regression).Seconds()
	}
	// observe feeds the data read to the detectors that judge periods as
	// they become visible: the alarms and the oracle.
	observe := func(canary model.SideSignals, thresholdMs float64) {
		if !r.Baseline.fired() {
			if b, ok := base.observe(canary[model.Errors5xx]); ok {
				fire(&r.Baseline, pollAt(b.period.Add(time.Minute+delay)), b.String())
			}
		}
		if r.Oracle == nil || r.Oracle.fired() {
			return
		}
		if orc == nil {
			orc = newOracleRun(rc.oracles.get(rc.timeline.Regression, thresholdMs))
		}
		if p, ok := orc.observe(canary); ok {
			fire(r.Oracle, pollAt(p.Add(time.Minute+delay)), "oracle CUSUM")
		}
	}
	settled := func() bool { return r.Baseline.fired() && (r.Oracle == nil || r.Oracle.fired()) }
	var chase map[model.Signal]bool // metrics still to time after the judge fired
	var firedAt time.Time
	// Phase one: perch's engine at every poll until the judge has fired
	// (and its other regressed metrics have, or signalChase is over), or
	// the horizon is reached.
	now := Epoch
	for ; !now.After(end); now = now.Add(rc.poll) {
		if err := ctx.Err(); err != nil {
			return Run{}, err
		}
		clk.Set(now)
		// Between two published periods there is nothing new to read:
		// the engine then polls as a fleet member does, keeping the
		// verdict the last read gave (see "Speed" in docs/evaluate.md).
		var snap model.Snapshot
		if metrics.stale(now) {
			snap = engine.PollOnce(ctx)
		} else {
			snap = engine.PollFed(ctx, nil)
		}
		if snap.MetricsErr != "" {
			return Run{}, fmt.Errorf("seed %d: poll at %s: %s", seed, short(now.Sub(Epoch)), snap.MetricsErr)
		}
		seen.add(snap.Signals)
		observe(snap.Signals[model.Canary], newestValue(snap.Signals[model.Stable][model.SlowThreshold]))
		if v := snap.Verdict; v != nil {
			r.timeSignals(v, now, regression, fire)
			if !r.Judge.fired() {
				r.Verdict, r.Summary = v.Overall, v.Summary
				r.MoreRequests = 0
				if e, ok := v.Metric(model.Errors5xx); ok && v.Overall == model.VerdictInsufficient {
					r.MoreRequests = e.MoreRequests()
				}
				if v.Overall == model.VerdictPass && r.PassedAt < 0 {
					r.PassedAt = now.Sub(Epoch)
				}
				if v.Overall == model.VerdictPass && !regression.IsZero() && !now.Before(regression) {
					r.PassAfterOnset = true
				}
			}
			if v.Overall == model.VerdictFail && !r.Judge.fired() {
				fire(&r.Judge, now, v.Summary)
				firedAt = now
				chase = map[model.Signal]bool{}
				for _, m := range v.Metrics {
					if m.Kind == model.VerdictFail {
						r.Judge.Signals = append(r.Judge.Signals, m.Signal)
					} else if rc.timeline.Regression.regresses(m.Signal) {
						chase[m.Signal] = true
					}
				}
			}
		}
		for sgl := range chase {
			if _, ok := r.Signals[sgl]; ok {
				delete(chase, sgl)
			}
		}
		if r.Judge.fired() && (len(chase) == 0 || now.Sub(firedAt) >= signalChase) && (settled() || !rc.fullPolling) {
			break
		}
	}
	if now.After(end) {
		now = end
	}
	r.Watched = now.Sub(Epoch)

	// Phase two: the judge has fired, so polling perch at every poll
	// would only repeat its verdict. The alarms and the oracle need the
	// rest of the data; it is read through the same adapter in large
	// steps, and each detection is timed at the first poll after its
	// period became visible, exactly as polling would have timed it.
	if !settled() && r.Judge.fired() && !rc.fullPolling && now.Before(end) {
		const step = time.Hour
		from := now.Add(-5 * time.Minute)
		for !settled() && now.Before(end) {
			if now = now.Add(step); now.After(end) {
				now = end
			}
			clk.Set(now)
			data, err := metrics.inner.Fetch(ctx, from, now)
			metrics.fetches++
			if err != nil {
				return Run{}, fmt.Errorf("seed %d: read metrics to %s: %w", seed, short(now.Sub(Epoch)), err)
			}
			from = now.Add(-5 * time.Minute)
			canary := model.SideSignals{}
			threshold := 0.0
			for _, sd := range data {
				if sd.Side == model.Canary {
					canary[sd.Signal] = sd.Points
				}
				if sd.Side == model.Stable && sd.Signal == model.SlowThreshold {
					threshold = newestValue(sd.Points)
				}
			}
			observe(canary, threshold)
			seen.addData(data)
		}
		r.Watched = now.Sub(Epoch)
		if settled() {
			// The run ends at the last detection, not at the end of the read.
			r.Watched = max(r.Baseline.At, r.Judge.At)
			if r.Oracle != nil {
				r.Watched = max(r.Watched, r.Oracle.At)
			}
		}
	}
	// Count what a poll at the end of the run could have read.
	r.CanaryRequests, r.Requests = seen.totals(Epoch.Add(r.Watched).Add(-time.Minute - delay))
	r.Fetches = metrics.fetches
	return r, nil
}

// timeSignals records when each metric's own verdict first said FAIL.
func (r *Run) timeSignals(v *model.Verdict, now, regression time.Time, fire func(*Outcome, time.Time, string)) {
	for _, m := range v.Metrics {
		if m.Kind != model.VerdictFail {
			continue
		}
		if r.Signals == nil {
			r.Signals = map[model.Signal]Outcome{}
		}
		if _, ok := r.Signals[m.Signal]; ok {
			continue
		}
		var o Outcome
		fire(&o, now, m.Summary)
		r.Signals[m.Signal] = o
	}
}

// regresses reports whether the judge's metric s should see this
// regression: errors for an error rate, the slow counts or the p99 for
// latency.
func (reg *Regression) regresses(s model.Signal) bool {
	if reg == nil {
		return false
	}
	switch s {
	case model.Errors5xx:
		return reg.Errors()
	case model.SlowRequests, model.LatencyP99, model.LatencyP50:
		return reg.Latency()
	}
	return false
}

func newestValue(pts []model.Point) float64 {
	if len(pts) == 0 {
		return 0
	}
	return pts[len(pts)-1].V
}
