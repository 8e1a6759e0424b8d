package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// openKindsFleet starts the simulator on the scenario in yaml and opens
// a fleet of targets on it.
func openKindsFleet(t *testing.T, yaml string, targets []config.Target) *fleetEnv {
	t.Helper()
	sc, err := sim.ParseScenario([]byte(yaml), "fleet-kinds")
	if err != nil {
		t.Fatal(err)
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	isolateAWSEnv(t)
	f := &config.File{Path: "kinds", PublishDelay: sc.PublishDelay.D(), Lookback: config.DefaultLookback}
	for _, tg := range targets {
		tg.Region = env.Manifest.Region
		tg.Ladder = model.DefaultLadder()
		f.Targets = append(f.Targets, tg)
	}
	g := &globalFlags{endpointURL: env.URL, region: env.Manifest.Region, poll: 10 * time.Second, reconcileAfter: time.Minute, apiRates: []string{"off"}}
	s, err := openFleet(context.Background(), g, f, fleetOptions{clock: env.Clock, credentials: staticCredentials(), via: "test", parallel: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return &fleetEnv{sim: env, sc: sc, s: s}
}

// steadyPolls makes a first poll, then n steady ones, handing each
// steady poll's /_sim/stats and the attempts perch retried to check.
func steadyPolls(t *testing.T, fe *fleetEnv, n int, check func(i int, got, retried map[string]int)) {
	t.Helper()
	ctx := context.Background()
	st := fe.s.fleet.PollOnce(ctx)
	for i := range n {
		fe.sim.Clock.Set(st.NextPoll)
		resetSimStats(t, fe.sim.URL)
		failed := fe.s.calls.Failed()
		st = fe.s.fleet.PollOnce(ctx)
		check(i, simStats(t, fe.sim.URL), retriedSince(fe.s.calls, failed))
	}
}

// ecsFleetYAML is n ECS services (CANARY, 10% for an hour, begun five
// minutes before the start), each behind its own ALB rule, with one
// alarm each.
func ecsFleetYAML(n int) string {
	var b strings.Builder
	b.WriteString("name: ecs-fleet\nseed: 7\nhistory: 30m\npublish_delay: 30s\nalbs:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: svc%02d, requests_per_minute: 600, canary_weight: 0, targets_per_side: 2}\n", i)
	}
	b.WriteString("ecs:\n  services:\n")
	for i := range n {
		fmt.Fprintf(&b, `    - name: svc%02d
      alb: svc%02d
      strategy: CANARY
      canary_percent: 10
      canary_bake: 60m
      alarms:
        - {name: svc%02d-green-5xx, side: canary, metric: HTTPCode_Target_5XX_Count, statistic: Sum, threshold: 25, evaluation_periods: 2, treat_missing_data: notBreaching}
      deployments:
        - at: -5m
`, i, i, i)
	}
	return b.String()
}

// TestFleetOfECSServicesReadsDeploymentsInBatches: 45 ECS services
// following their deployments. Every steady poll reads the deployments
// in ceil(45/20) = 3 DescribeServiceDeployments calls and the production
// rules in one DescribeRules, as docs/fleet.md's ECS line says, and
// each target still sees its deployment (before this change: 45
// DescribeServiceDeployments and 45 DescribeRules a poll).
func TestFleetOfECSServicesReadsDeploymentsInBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("45 services")
	}
	const n = 45
	var targets []config.Target
	for i := range n {
		targets = append(targets, config.Target{Name: fmt.Sprintf("svc%02d", i), Kind: model.KindECS, Cluster: "default", Service: fmt.Sprintf("svc%02d", i)})
	}
	fe := openKindsFleet(t, ecsFleetYAML(n), targets)
	steadyPolls(t, fe, 2, func(i int, got, retried map[string]int) {
		if i == 0 {
			t.Logf("steady poll of %d ECS services: %v", n, got)
		}
		sameCalls(t, "steady poll", got, wantECSPerPoll(n, n), retried)
	})
	for _, e := range fe.s.engines {
		s := e.Snapshot()
		if !s.SplitKnown || s.MetricsErr != "" || s.Deployment == nil || s.Deployment.Status != "IN_PROGRESS" {
			t.Fatalf("%s: split known %v (%s), metrics err %q, deployment %+v", s.Target.Name, s.SplitKnown, s.SplitErr, s.MetricsErr, s.Deployment)
		}
	}
}

// wantECSPerPoll is docs/fleet.md's formula for a steady poll of one AWS
// config with E ECS targets watching K distinct alarms.
func wantECSPerPoll(e, k int) map[string]int {
	ceil := func(n, d int) int { return (n + d - 1) / d }
	return map[string]int{
		"ecs:DescribeServiceDeployments": ceil(e, 20),
		"elbv2:DescribeRules":            ceil(e, 400),
		"elbv2:DescribeTargetHealth":     2 * e,
		"cloudwatch:GetMetricData":       e,
		"cloudwatch:DescribeAlarms":      ceil(k, 100),
	}
}
