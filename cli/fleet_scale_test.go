package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// newScaleEnv is newFleetEnv with a short history (the figures here are
// calls per poll, not datapoints) and the simulator's faults armed after
// the fleet is open.
func newScaleEnv(t testing.TB, n int) *fleetEnv {
	t.Helper()
	base, err := sim.LoadScenario("healthy")
	if err != nil {
		t.Fatal(err)
	}
	base.History = sim.Duration(30 * time.Minute)
	sc, err := sim.FleetScenario(base, n)
	if err != nil {
		t.Fatal(err)
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	isolateAWSEnv(t)
	f := manifestFleet(env.Manifest, sc, nil, false)
	g := &globalFlags{endpointURL: env.URL, region: env.Manifest.Region, poll: 10 * time.Second, reconcileAfter: time.Minute, apiRates: []string{"off"}}
	s, err := openFleet(context.Background(), g, f, fleetOptions{clock: env.Clock, credentials: staticCredentials(), via: "test", parallel: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return &fleetEnv{sim: env, sc: sc, s: s}
}

// retriedSince is the attempts that failed since before (CallCounter's
// Failed), under the simulator's stats names.
func retriedSince(c *perchaws.CallCounter, before map[string]int64) map[string]int {
	short := map[string]string{"Elastic Load Balancing v2": "elbv2", "CloudWatch": "cloudwatch", "Lambda": "lambda", "CodeDeploy": "codedeploy", "ECS": "ecs", "STS": "sts"}
	out := map[string]int{}
	for k, v := range c.Failed() {
		if n := v - before[k]; n > 0 {
			svc, op, _ := strings.Cut(k, ":")
			out[short[svc]+":"+op] += int(n)
		}
	}
	return out
}

func isolateAWSEnv(t testing.TB) {
	state := t.TempDir()
	for k, v := range map[string]string{
		"AWS_PROFILE": "", "AWS_REGION": "", "AWS_ENDPOINT_URL": "",
		"AWS_CONFIG_FILE":             filepath.Join(state, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(state, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"XDG_STATE_HOME":              state,
	} {
		t.Setenv(k, v)
	}
}

// wantPerPoll is docs/fleet.md's formula for a steady poll of one AWS
// config with A ALB targets (rule-based, none focused), K distinct alarm
// names and C targets whose host counts changed since the last poll.
func wantPerPoll(a, k, c int) map[string]int {
	ceil := func(n, d int) int { return (n + d - 1) / d }
	out := map[string]int{
		"cloudwatch:GetMetricData":  perchaws.CallsFor(14 * a),
		"elbv2:DescribeRules":       ceil(a, perchaws.MaxRulesPerCall),
		"cloudwatch:DescribeAlarms": ceil(k, 100),
	}
	if c > 0 {
		out["elbv2:DescribeTargetHealth"] = 2 * c
	}
	return out
}

// sameCalls compares the simulator's counts with the formula's. An
// attempt that failed on perch's side (retried map: a transport error the
// SDK retries, after the simulator may have counted it) may add one.
func sameCalls(t *testing.T, what string, got, want map[string]int, retried map[string]int) {
	t.Helper()
	for k, v := range want {
		if got[k] < v || got[k] > v+retried[k] {
			t.Errorf("%s: %s = %d, want %d (all: %v)", what, k, got[k], v, got)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v > retried[k] {
			t.Errorf("%s: unexpected %s = %d (all: %v)", what, k, v, got)
		}
	}
}

// TestFleetOf500ReadsEachServiceAtItsMinimum: 500 ALB canaries on one
// region, with the simulator throttling ELBv2 at 10 calls a second of
// simulated time. Every steady poll makes exactly the formula's calls by
// service as /_sim/stats counts them (before this change: 500
// DescribeRules, 1,000 DescribeTargetHealth and 500 DescribeAlarms a
// poll), none is throttled, and a target whose host counts change has
// its target health read, once.
func TestFleetOf500ReadsEachServiceAtItsMinimum(t *testing.T) {
	if testing.Short() {
		t.Skip("500 targets")
	}
	fe := newScaleEnv(t, 500)
	ctx := context.Background()

	st := fe.s.fleet.PollOnce(ctx) // the history and the first counts
	spec, err := sim.ParseFaultSpec("rate:elbv2:10/s")
	if err != nil {
		t.Fatal(err)
	}
	if err := fe.sim.Sim.ApplyFaultSpec(spec); err != nil {
		t.Fatal(err)
	}
	alarms := map[string]bool{}
	for _, mt := range fe.sim.Manifest.Targets {
		for _, a := range mt.Alarms {
			alarms[a] = true
		}
	}
	for i := range 3 {
		fe.sim.Clock.Set(st.NextPoll)
		resetSimStats(t, fe.sim.URL)
		began := time.Now()
		failed := fe.s.calls.Failed()
		st = fe.s.fleet.PollOnce(ctx)
		took := time.Since(began)
		got := simStats(t, fe.sim.URL)
		sameCalls(t, "steady poll", got, wantPerPoll(500, len(alarms), 0), retriedSince(fe.s.calls, failed))
		if i == 0 {
			t.Logf("steady poll of 500 targets, %d alarms, %v: %v", len(alarms), took, got)
		}
		if st.Failed != 0 {
			t.Fatalf("poll %d: %d targets' metrics failed", i, st.Failed)
		}
	}

	// One canary loses a target: its counts change, and only it asks
	// DescribeTargetHealth (both sides), at the next poll that sees it.
	victim := fe.sim.Manifest.Targets[42]
	if err := fe.sim.Sim.SetTargetHealth(victim.CanaryTargetGroupARN, 2); err != nil {
		t.Fatal(err)
	}
	fe.sim.Clock.Set(st.NextPoll)
	resetSimStats(t, fe.sim.URL)
	failed := fe.s.calls.Failed()
	st = fe.s.fleet.PollOnce(ctx)
	sameCalls(t, "poll after a health change", simStats(t, fe.sim.URL), wantPerPoll(500, len(alarms), 1), retriedSince(fe.s.calls, failed))
	if h := fe.s.engines[42].Snapshot().Health; h[1].Healthy != 2 || h[1].Unhealthy != 1 {
		t.Errorf("victim's canary health %+v, want 2 healthy and 1 unhealthy", h[1])
	}
	if f := fe.sim.Sim.Faulted(); len(f) != 0 {
		t.Errorf("throttled: %v", f)
	}
	for _, e := range fe.s.engines {
		if s := e.Snapshot(); !s.SplitKnown || s.HealthErr != "" || s.MetricsErr != "" {
			t.Fatalf("%s: split known %v (%s), health err %q, metrics err %q", s.Target.Name, s.SplitKnown, s.SplitErr, s.HealthErr, s.MetricsErr)
		}
	}
}

// TestFleetAcrossThreeRegions: 500 canaries spread over three simulated
// regions behind one endpoint (routed by the SigV4 scope's region). Each
// region is read in its own batch, at once, and each region's
// /_sim/stats shows that region's share of the formula, nothing
// throttled at rate:elbv2:10/s in every region.
func TestFleetAcrossThreeRegions(t *testing.T) {
	if testing.Short() {
		t.Skip("500 targets")
	}
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	share := map[string]int{"us-east-1": 167, "eu-west-1": 167, "ap-southeast-2": 166}
	base, err := sim.LoadScenario("healthy")
	if err != nil {
		t.Fatal(err)
	}
	base.History = sim.Duration(30 * time.Minute)
	clk := clock.NewManual(simtest.Epoch)
	regs, err := sim.NewRegions(sim.Options{Clock: clk}, regions, func(r string) (*sim.Scenario, error) {
		return sim.FleetScenario(base, share[r])
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(regs.Handler())
	t.Cleanup(srv.Close)
	isolateAWSEnv(t)
	file := &config.File{Path: "regions", Lookback: config.DefaultLookback, PublishDelay: base.PublishDelay.D()}
	for _, r := range regions {
		f := manifestFleet(regs.Sim(r).Manifest(srv.URL), base, nil, false)
		for _, tg := range f.Targets {
			tg.Name += "." + r
			tg.Region = r
			file.Targets = append(file.Targets, tg)
		}
	}
	if len(file.Targets) != 500 {
		t.Fatalf("%d targets", len(file.Targets))
	}
	g := &globalFlags{endpointURL: srv.URL, region: regions[0], poll: 10 * time.Second, reconcileAfter: time.Minute, apiRates: []string{"off"}}
	s, err := openFleet(context.Background(), g, file, fleetOptions{clock: clk, credentials: staticCredentials(), via: "test", parallel: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	ctx := context.Background()
	st := s.fleet.PollOnce(ctx)
	for _, r := range regions {
		spec, _ := sim.ParseFaultSpec("rate:elbv2:10/s")
		if err := regs.Sim(r).ApplyFaultSpec(spec); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		clk.Set(st.NextPoll)
		for _, r := range regions {
			regs.Sim(r).ResetStats()
		}
		failed := s.calls.Failed()
		st = s.fleet.PollOnce(ctx)
		retried := retriedSince(s.calls, failed)
		for _, r := range regions {
			alarms := map[string]bool{}
			for _, mt := range regs.Sim(r).Manifest("").Targets {
				for _, a := range mt.Alarms {
					alarms[a] = true
				}
			}
			sameCalls(t, r, regionStats(t, srv.URL, r), wantPerPoll(share[r], len(alarms), 0), retried)
			if f := regs.Sim(r).Faulted(); len(f) != 0 {
				t.Errorf("%s throttled: %v", r, f)
			}
		}
	}
	for _, e := range s.engines {
		if snap := e.Snapshot(); !snap.SplitKnown || snap.MetricsErr != "" || snap.HealthErr != "" {
			t.Fatalf("%s: split %v (%s), metrics err %q, health err %q", snap.Target.Name, snap.SplitKnown, snap.SplitErr, snap.MetricsErr, snap.HealthErr)
		}
	}
}

func regionStats(t testing.TB, url, region string) map[string]int {
	t.Helper()
	res, err := http.Get(url + "/_sim/stats?region=" + region)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Calls map[string]int `json:"calls"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Calls
}
