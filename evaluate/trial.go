package evaluate

import (
	"context"
	"fmt"
	"net/http"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim"
)

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
	t, err := newTrial(ctx, rc, seed, clk, cfg, srv.Sim.Manifest(srv.URL))
	if err != nil {
		return Run{}, err
	}
	now, err := t.pollUntilJudged(ctx)
	if err != nil {
		return Run{}, err
	}
	if err := t.readTheRest(ctx, now); err != nil {
		return Run{}, err
	}
	// Count what a poll at the end of the run could have read.
	t.r.CanaryRequests, t.r.Requests = t.seen.totals(Epoch.Add(t.r.Watched).Add(-time.Minute - t.delay))
	t.r.Fetches = t.metrics.fetches
	return t.r, nil
}

// trial is one seed's run in progress: perch's engine on the simulator,
// and the detectors it is measured against (the alarms, the oracle).
type trial struct {
	rc      runConfig
	seed    int64
	clk     *clock.Manual
	metrics *periodMetrics
	engine  *rollout.Engine
	delay   time.Duration

	r          Run
	regression time.Time // zero: the scenario has none
	base       *baseline
	orc        *oracleRun
	seen       requestTally
	// chase: metrics still to time after the judge fired, since firedAt.
	chase   map[model.Signal]bool
	firedAt time.Time
}

// newTrial attaches perch's engine to the timeline's ALB canary.
func newTrial(ctx context.Context, rc runConfig, seed int64, clk *clock.Manual, cfg awssdk.Config, m sim.Manifest) (*trial, error) {
	var mt *sim.ManifestTarget
	for i := range m.Targets {
		if tg := &m.Targets[i]; tg.Kind == "alb" && tg.Name == rc.timeline.ALB {
			mt = tg
			break
		}
	}
	if mt == nil {
		return nil, fmt.Errorf("seed %d: the simulator seeded no ALB canary named %s", seed, rc.timeline.ALB)
	}
	opts := perchaws.ALBOptions{RuleARN: mt.RuleARN, CanaryTargetGroup: mt.CanaryTargetGroupARN}
	if mt.DefaultRule {
		opts = perchaws.ALBOptions{ListenerARN: mt.ListenerARN, CanaryTargetGroup: mt.CanaryTargetGroupARN}
	}
	router, err := perchaws.NewALBRouter(ctx, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("seed %d: attach to %s: %w", seed, rc.timeline.ALB, err)
	}
	t := &trial{rc: rc, seed: seed, clk: clk, delay: rc.scenario.PublishDelay.D(), base: newBaseline(rc.alarms), seen: requestTally{}}
	t.metrics = &periodMetrics{inner: perchaws.NewALBMetrics(cfg, router.Target()), delay: t.delay}
	t.engine, err = rollout.New(rollout.Config{
		Router:  &scriptedRouter{inner: router, clock: clk, start: Epoch, changes: rc.timeline.WeightChanges},
		Metrics: t.metrics,
		Clock:   clk,
		Audit:   discardAudit{},
		Poll:    rc.poll,
		Judge:   rc.judge,
	})
	if err != nil {
		return nil, fmt.Errorf("seed %d: %w", seed, err)
	}
	t.r = Run{Seed: seed, PassedAt: -1}
	if rc.timeline.Regression != nil {
		t.regression = Epoch.Add(rc.timeline.Regression.At)
		t.r.Oracle = &Outcome{}
	}
	return t, nil
}

// pollAt is the first poll at or after at: polls are at Epoch + k*poll.
func (t *trial) pollAt(at time.Time) time.Time {
	if !at.After(Epoch) {
		return Epoch
	}
	k := (at.Sub(Epoch) + t.rc.poll - 1) / t.rc.poll
	return Epoch.Add(k * t.rc.poll)
}

// fire records a detector's first firing: a detection after the
// regression began, a false rollback before it or without one.
func (t *trial) fire(o *Outcome, at time.Time, why string) {
	if o.fired() {
		return
	}
	o.At, o.Why = at.Sub(Epoch), why
	if t.regression.IsZero() || at.Before(t.regression) {
		o.FalseRollback = true
		return
	}
	o.Detected, o.Seconds = true, at.Sub(t.regression).Seconds()
}

// observe feeds the data read to the detectors that judge periods as they
// become visible: the alarms and the oracle.
func (t *trial) observe(canary model.SideSignals, thresholdMs float64) {
	r := &t.r
	if !r.Baseline.fired() {
		if b, ok := t.base.observe(canary[model.Errors5xx]); ok {
			t.fire(&r.Baseline, t.pollAt(b.period.Add(time.Minute+t.delay)), b.String())
		}
	}
	if r.Oracle == nil || r.Oracle.fired() {
		return
	}
	if t.orc == nil {
		t.orc = newOracleRun(t.rc.oracles.get(t.rc.timeline.Regression, thresholdMs))
	}
	if p, ok := t.orc.observe(canary); ok {
		t.fire(r.Oracle, t.pollAt(p.Add(time.Minute+t.delay)), "oracle CUSUM")
	}
}

func (t *trial) settled() bool {
	return t.r.Baseline.fired() && (t.r.Oracle == nil || t.r.Oracle.fired())
}

// pollUntilJudged is phase one: perch's engine at every poll until the
// judge has fired (and its other regressed metrics have, or signalChase
// is over), or the horizon is reached. It returns where it stopped.
func (t *trial) pollUntilJudged(ctx context.Context) (time.Time, error) {
	end := Epoch.Add(t.rc.horizon)
	now := Epoch
	for ; !now.After(end); now = now.Add(t.rc.poll) {
		if err := ctx.Err(); err != nil {
			return now, err
		}
		if err := t.poll(ctx, now); err != nil {
			return now, err
		}
		if t.r.Judge.fired() && (len(t.chase) == 0 || now.Sub(t.firedAt) >= signalChase) && (t.settled() || !t.rc.fullPolling) {
			break
		}
	}
	if now.After(end) {
		now = end
	}
	t.r.Watched = now.Sub(Epoch)
	return now, nil
}

// poll is one poll of perch's engine at now, and what its snapshot says.
func (t *trial) poll(ctx context.Context, now time.Time) error {
	t.clk.Set(now)
	// Between two published periods there is nothing new to read: the
	// engine then polls as a fleet member does, keeping the verdict the
	// last read gave (see "Speed" in docs/evaluate.md).
	var snap model.Snapshot
	if t.metrics.stale(now) {
		snap = t.engine.PollOnce(ctx)
	} else {
		snap = t.engine.PollFed(ctx, nil)
	}
	if snap.MetricsErr != "" {
		return fmt.Errorf("seed %d: poll at %s: %s", t.seed, short(now.Sub(Epoch)), snap.MetricsErr)
	}
	t.seen.add(snap.Signals)
	t.observe(snap.Signals[model.Canary], newestValue(snap.Signals[model.Stable][model.SlowThreshold]))
	if v := snap.Verdict; v != nil {
		t.judged(v, now)
	}
	for sgl := range t.chase {
		if _, ok := t.r.Signals[sgl]; ok {
			delete(t.chase, sgl)
		}
	}
	return nil
}

// judged records a poll's verdict: each metric's first FAIL, the verdict
// while the judge has not fired, and the judge's firing.
func (t *trial) judged(v *model.Verdict, now time.Time) {
	r := &t.r
	r.timeSignals(v, now, t.regression, t.fire)
	if r.Judge.fired() {
		return
	}
	r.Verdict, r.Summary = v.Overall, v.Summary
	r.MoreRequests = 0
	if e, ok := v.Metric(model.Errors5xx); ok && v.Overall == model.VerdictInsufficient {
		r.MoreRequests = e.MoreRequests()
	}
	if v.Overall == model.VerdictPass && r.PassedAt < 0 {
		r.PassedAt = now.Sub(Epoch)
	}
	if v.Overall == model.VerdictPass && !t.regression.IsZero() && !now.Before(t.regression) {
		r.PassAfterOnset = true
	}
	if v.Overall != model.VerdictFail {
		return
	}
	t.fire(&r.Judge, now, v.Summary)
	t.firedAt = now
	t.chase = map[model.Signal]bool{}
	for _, m := range v.Metrics {
		if m.Kind == model.VerdictFail {
			r.Judge.Signals = append(r.Judge.Signals, m.Signal)
		} else if t.rc.timeline.Regression.regresses(m.Signal) {
			t.chase[m.Signal] = true
		}
	}
}

// readTheRest is phase two: the judge has fired, so polling perch at
// every poll would only repeat its verdict. The alarms and the oracle need
// the rest of the data; it is read through the same adapter in large
// steps, and each detection is timed at the first poll after its period
// became visible, exactly as polling would have timed it.
func (t *trial) readTheRest(ctx context.Context, now time.Time) error {
	end := Epoch.Add(t.rc.horizon)
	if t.settled() || !t.r.Judge.fired() || t.rc.fullPolling || !now.Before(end) {
		return nil
	}
	const step = time.Hour
	from := now.Add(-5 * time.Minute)
	for !t.settled() && now.Before(end) {
		if now = now.Add(step); now.After(end) {
			now = end
		}
		t.clk.Set(now)
		data, err := t.metrics.inner.Fetch(ctx, from, now)
		t.metrics.fetches++
		if err != nil {
			return fmt.Errorf("seed %d: read metrics to %s: %w", t.seed, short(now.Sub(Epoch)), err)
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
		t.observe(canary, threshold)
		t.seen.addData(data)
	}
	t.r.Watched = now.Sub(Epoch)
	if t.settled() {
		// The run ends at the last detection, not at the end of the read.
		t.r.Watched = max(t.r.Baseline.At, t.r.Judge.At)
		if t.r.Oracle != nil {
			t.r.Watched = max(t.r.Watched, t.r.Oracle.At)
		}
	}
	return nil
}
