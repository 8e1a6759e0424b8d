package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// fleetEnv is a simulator seeded with n ALB canaries on a manual clock,
// and the fleet opened on it the way perch demo --fleet opens it.
type fleetEnv struct {
	sim *simtest.Env
	sc  *sim.Scenario
	s   *fleetSession
}

func newFleetEnv(t testing.TB, n int) *fleetEnv {
	t.Helper()
	base, err := sim.LoadScenario("healthy")
	if err != nil {
		t.Fatal(err)
	}
	// Three hours of history: the window a naive poller re-reads whole.
	base.History = sim.Duration(3 * time.Hour)
	sc, err := sim.FleetScenario(base, n)
	if err != nil {
		t.Fatal(err)
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
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
	f := manifestFleet(env.Manifest, sc, nil, false)
	g := &globalFlags{endpointURL: env.URL, region: env.Manifest.Region, poll: 10 * time.Second, reconcileAfter: time.Minute, apiRates: []string{"off"}}
	s, err := openFleet(context.Background(), g, f, fleetOptions{clock: env.Clock, credentials: staticCredentials(), via: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return &fleetEnv{sim: env, sc: sc, s: s}
}

// naivePoll is the poller perch does not use: one GetMetricData call per
// metric, each for the full window the engine keeps (its History, 3h).
// It returns the calls made and the datapoints returned.
func naivePoll(ctx context.Context, t testing.TB, env *simtest.Env, now time.Time) (calls, datapoints int) {
	t.Helper()
	cw := cloudwatch.NewFromConfig(env.AWS)
	start, end := now.Add(-3*time.Hour).Truncate(time.Minute), now.Truncate(time.Minute)
	for _, mt := range env.Manifest.Targets {
		tg := model.Target{Kind: model.KindALB, LoadBalancerARN: mt.LoadBalancerARN, StableARN: mt.StableTargetGroupARN, CanaryARN: mt.CanaryTargetGroupARN}
		for _, q := range perchaws.ALBQueries(tg, "") {
			out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
				MetricDataQueries: []cwtypes.MetricDataQuery{q.Query},
				StartTime:         awssdk.Time(start), EndTime: awssdk.Time(end),
			})
			if err != nil {
				t.Fatal(err)
			}
			calls++
			for _, r := range out.MetricDataResults {
				datapoints += len(r.Values)
			}
		}
	}
	return calls, datapoints
}

// TestFleetOf100PollsAtThePhysicalMinimum: a fleet of 100 simulated
// canaries. One poll makes ceil(queries/500) GetMetricData calls, as
// /_sim/stats counts them; a steady poll returns at least 10x fewer
// datapoints than a naive poller asking for each metric's full window on
// the same run; every engine is fed.
func TestFleetOf100PollsAtThePhysicalMinimum(t *testing.T) {
	fe := newFleetEnv(t, 100)
	ctx := context.Background()
	queries, billed := fe.s.pool.QueryCount()
	// Ten signals and four host counts (target health) per target.
	if queries != 1400 || billed != 1400 {
		t.Fatalf("%d queries (%d billed), want 14 per target", queries, billed)
	}
	want := perchaws.CallsFor(queries)

	resetSimStats(t, fe.sim.URL)
	first := fe.s.fleet.PollOnce(ctx)
	if got := simStats(t, fe.sim.URL)["cloudwatch:GetMetricData"]; got != want || first.Last.Calls != want {
		t.Fatalf("first poll: /_sim/stats says %d GetMetricData calls (fleet says %d), want ceil(%d/500) = %d",
			got, first.Last.Calls, queries, want)
	}

	// The next poll, at the next period boundary plus the publishing delay.
	fe.sim.Clock.Set(first.NextPoll)
	resetSimStats(t, fe.sim.URL)
	st := fe.s.fleet.PollOnce(ctx)
	calls := simStats(t, fe.sim.URL)
	if calls["cloudwatch:GetMetricData"] != want {
		t.Fatalf("steady poll: %d GetMetricData calls, want %d (all: %v)", calls["cloudwatch:GetMetricData"], want, calls)
	}
	for op := range calls {
		if strings.Contains(op, "Modify") || strings.Contains(op, "Update") {
			t.Errorf("a poll wrote: %s", op)
		}
	}
	if st.Failed != 0 || st.Last.Queries != queries {
		t.Fatalf("steady poll: %+v", st)
	}
	for _, e := range fe.s.engines {
		snap := e.Snapshot()
		if !snap.MetricsAt.Equal(first.NextPoll) || snap.MetricsErr != "" || len(snap.Signals[model.Canary][model.Requests]) < 30 {
			t.Fatalf("%s not fed: metrics at %v err %q, %d canary request points", snap.Target.Name,
				snap.MetricsAt, snap.MetricsErr, len(snap.Signals[model.Canary][model.Requests]))
		}
	}

	resetSimStats(t, fe.sim.URL)
	nCalls, nPoints := naivePoll(ctx, t, fe.sim, fe.sim.Clock.Now())
	if got := simStats(t, fe.sim.URL)["cloudwatch:GetMetricData"]; got != nCalls || nCalls != 1000 {
		t.Fatalf("naive poller: %d calls (stats %d), want one per metric", nCalls, got)
	}
	ratio := float64(nPoints) / float64(st.Last.Datapoints)
	t.Logf("per poll: fleet %d calls, %d queries, %d datapoints; naive %d calls, %d queries, %d datapoints (%.0fx more)",
		st.Last.Calls, st.Last.Queries, st.Last.Datapoints, nCalls, nCalls, nPoints, ratio)
	if st.Last.Datapoints == 0 || ratio < 10 {
		t.Fatalf("datapoints per poll: fleet %d, naive %d: want at least 10x fewer", st.Last.Datapoints, nPoints)
	}
}

func TestConfigValidateExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "perch.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(good, "targets:\n  - {name: pay, lambda: {function: pay, alias: live}}\n  - {name: web, alb: {listener_arn: \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/0123abcd/4567ef89\"}}\n")
	write(bad, "targets:\n  - name: pay\n    lambda: {function: pay}\n    wieght: 5\n")

	var out, errOut strings.Builder
	if code := Execute([]string{"config", "validate", good}, &out, &errOut); code != ExitOK {
		t.Fatalf("valid file: exit %d, %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "ok, 2 targets (1 alb, 1 lambda)") {
		t.Errorf("summary %q", out.String())
	}
	out.Reset()
	errOut.Reset()
	if code := Execute([]string{"config", "validate", bad}, &out, &errOut); code != ExitUsage {
		t.Fatalf("invalid file: exit %d, want %d", code, ExitUsage)
	}
	for _, want := range []string{bad + ":3: lambda: needs alias", bad + ":4: target: unknown key \"wieght\"", "2 problems"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	out.Reset()
	errOut.Reset()
	if code := Execute([]string{"--config", bad}, &out, &errOut); code != ExitUsage || !strings.Contains(errOut.String(), ":4:") {
		t.Errorf("perch --config with a bad file: exit %d, %q", code, errOut.String())
	}
	if code := Execute([]string{"--config", good, "--target", "nope"}, &out, &errOut); code != ExitUsage {
		t.Errorf("--target naming no target: exit %d", code)
	}
	if code := Execute([]string{"--target", "pay"}, &out, &errOut); code != ExitUsage {
		t.Errorf("--target without --config: exit %d", code)
	}
}

// TestFleetFromConfigWithCustomMetrics opens a fleet from a perch.yaml on
// the simulator: custom metrics read per side reach the engine and the
// judge, and the targets are named as the file names them.
func TestFleetFromConfigWithCustomMetrics(t *testing.T) {
	fe := newFleetEnv(t, 2) // for the simulator and the environment
	env := fe.sim
	mt := env.Manifest.Targets[1]
	cfgText := `
publish_delay: 30s
targets:
  - name: shop
    alb: {rule_arn: "` + mt.RuleARN + `", canary_target_group: "` + mt.CanaryTargetGroupARN + `"}
    alarms: [` + strings.Join(mt.Alarms, ", ") + `]
    plan: "10%:5m,100%"
    paused: true
    custom:
      - name: orders
        direction: lower_is_worse
        metric: {namespace: Shop, name: OrdersPlaced, stat: Sum, dimensions: {TargetGroup: "${side.target_group}"}}
`
	path := filepath.Join(t.TempDir(), "perch.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	// Publish the business metric for both sides.
	cw := cloudwatch.NewFromConfig(env.AWS)
	at := env.Clock.Now().Truncate(time.Minute).Add(-3 * time.Minute)
	for side, arn := range map[model.Side]string{model.Stable: mt.StableTargetGroupARN, model.Canary: mt.CanaryTargetGroupARN} {
		dim := perchaws.SideValues(model.Target{Kind: model.KindALB, StableARN: arn, CanaryARN: arn}, side)["target_group"]
		if _, err := cw.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{
			Namespace:  awssdk.String("Shop"),
			MetricData: []cwtypes.MetricDatum{{MetricName: awssdk.String("OrdersPlaced"), Value: awssdk.Float64(40), Timestamp: awssdk.Time(at), Dimensions: []cwtypes.Dimension{{Name: awssdk.String("TargetGroup"), Value: awssdk.String(dim)}}}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	g := &globalFlags{endpointURL: env.URL, region: "us-east-1", poll: 10 * time.Second, reconcileAfter: time.Minute, apiRates: []string{"off"}}
	s, err := openFleet(context.Background(), g, f, fleetOptions{clock: env.Clock, credentials: staticCredentials(), via: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.fleet.PollOnce(context.Background())
	snap := s.engines[0].Snapshot()
	if snap.Target.Name != "shop" {
		t.Errorf("target named %q, want the config's name", snap.Target.Name)
	}
	for _, side := range model.Sides {
		pts := snap.Signals[side]["orders"]
		if len(pts) != 1 || pts[0].V != 40 || !pts[0].T.Equal(at) {
			t.Errorf("%s orders: %v", side, pts)
		}
	}
	if snap.Autopilot == nil || !snap.Autopilot.State.Paused || len(snap.Alarms) != len(mt.Alarms) {
		t.Errorf("plan or alarms not wired: %+v %v", snap.Autopilot, snap.Alarms)
	}
	found := false
	for _, m := range snap.Verdict.Metrics {
		found = found || m.Signal == "orders"
	}
	if !found {
		t.Errorf("the judge does not weigh the custom metric: %+v", snap.Verdict.Metrics)
	}
	var _ rollout.SharedMetrics = sharedMetrics{s.pool}
}

// TestFleetWithACodeDeployTarget: a CodeDeploy deployment in a fleet
// fetches its own metrics (its queries follow the deployment) and still
// counts in the cost; it is steered as perch codedeploy steers it.
func TestFleetWithACodeDeployTarget(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "codedeploy-ecs"})
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(state, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(state, "no-credentials"))
	env.Advance(2 * time.Minute) // release 42 starts a minute in
	path := filepath.Join(state, "perch.yaml")
	if err := os.WriteFile(path, []byte("targets:\n  - name: web-release\n    codedeploy: {application: web-app, deployment_group: web-bg}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	g := &globalFlags{endpointURL: env.URL, region: "us-east-1", poll: 10 * time.Second, reconcileAfter: time.Minute, apiRates: []string{"off"}}
	s, err := openFleet(context.Background(), g, f, fleetOptions{clock: env.Clock, credentials: staticCredentials(), via: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	st := s.fleet.PollOnce(context.Background())
	snap := s.engines[0].Snapshot()
	if snap.Target.Name != "web-release" || snap.Target.Kind != model.KindCodeDeploy || snap.Deployment == nil {
		t.Fatalf("snapshot: %+v", snap.Target)
	}
	if snap.MetricsErr != "" || len(snap.Signals[model.Stable][model.Requests]) == 0 {
		t.Fatalf("no metrics: %q", snap.MetricsErr)
	}
	if st.Last.Calls != 0 || st.MetricsPerHour != 10*60 {
		t.Errorf("shared calls %d, metrics/h %v: want its own 10 metrics a minute counted", st.Last.Calls, st.MetricsPerHour)
	}
}

// perch.yaml's read-only profiles open their targets read-only, unless
// --read-only says otherwise; a production profile is named so.
func TestReadOnlyProfileInTheFleet(t *testing.T) {
	sc, err := sim.LoadScenario("healthy")
	if err != nil {
		t.Fatal(err)
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	state := t.TempDir()
	cfgFile := filepath.Join(state, "config")
	if err := os.WriteFile(cfgFile, []byte("[profile prod-ro]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_PROFILE": "", "AWS_REGION": "", "AWS_ENDPOINT_URL": "",
		"AWS_CONFIG_FILE": cfgFile, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(state, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "XDG_STATE_HOME": state,
	} {
		t.Setenv(k, v)
	}
	f := manifestFleet(env.Manifest, sc, nil, false)
	for i := range f.Targets {
		f.Targets[i].Profile = "prod-ro"
	}
	f.ReadOnlyProfiles = map[string]bool{"prod-ro": true}
	for _, c := range []struct {
		set, flag, want bool
	}{{false, false, true}, {true, false, false}, {true, true, true}} {
		g := &globalFlags{endpointURL: env.URL, poll: 10 * time.Second, reconcileAfter: time.Minute, readOnly: c.flag, readOnlySet: c.set, apiRates: []string{"off"}}
		s, err := openFleet(context.Background(), g, f, fleetOptions{clock: env.Clock, credentials: staticCredentials(), via: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.engines[0].Snapshot().ReadOnly; got != c.want {
			t.Errorf("--read-only given %v = %v: read-only %v, want %v", c.set, c.flag, got, c.want)
		}
		s.close()
	}
	if !f.IsProduction("prod-ro") {
		t.Error("prod-ro is not production by the default pattern")
	}
}
