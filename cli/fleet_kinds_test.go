package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// openKindsFleet starts the simulator on the scenario in yaml and opens
// a fleet of targets on it.
func openKindsFleet(t *testing.T, yaml string, targets []config.Target) *fleetEnv {
	t.Helper()
	return openKindsFleetWith(t, yaml, targets, nil)
}

// openKindsFleetWith is openKindsFleet with setup run on the simulator
// before the fleet opens.
func openKindsFleetWith(t *testing.T, yaml string, targets []config.Target, setup func(*simtest.Env)) *fleetEnv {
	t.Helper()
	sc, err := sim.ParseScenario([]byte(yaml), "fleet-kinds")
	if err != nil {
		t.Fatal(err)
	}
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Scenario: sc}})
	isolateAWSEnv(t)
	if setup != nil {
		setup(env)
	}
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

// TestFleetOfLambdaAliasesReadsEachFunctionOnce: four functions with two
// aliases each in the fleet (live, and a beta another team routes) and
// two with one. A steady poll reads each two-alias function in one
// ListAliases and each one-alias function in one GetAlias, as
// docs/fleet.md's Lambda line says (before: a GetAlias per alias, 10).
func TestFleetOfLambdaAliasesReadsEachFunctionOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated fleet")
	}
	var b strings.Builder
	b.WriteString("name: lambda-fleet\nseed: 9\nhistory: 30m\npublish_delay: 30s\nlambdas:\n")
	for i := range 6 {
		fmt.Fprintf(&b, "  - {name: fn%d, alias: live, invocations_per_minute: 600, stable_version: \"3\", canary_version: \"4\", canary_weight: 10}\n", i)
	}
	var targets []config.Target
	for i := range 6 {
		fn := fmt.Sprintf("fn%d", i)
		targets = append(targets, config.Target{Name: fn + ":live", Kind: model.KindLambda, Function: fn, Alias: "live", CanaryVersion: "4"})
		if i < 4 {
			targets = append(targets, config.Target{Name: fn + ":beta", Kind: model.KindLambda, Function: fn, Alias: "beta", CanaryVersion: "4"})
		}
	}
	fe := openKindsFleetWith(t, b.String(), targets, func(env *simtest.Env) {
		lam := lambda.NewFromConfig(awssdk.Config{Region: env.Manifest.Region, Credentials: staticCredentials(), BaseEndpoint: awssdk.String(env.URL)})
		for i := range 4 {
			if _, err := lam.CreateAlias(context.Background(), &lambda.CreateAliasInput{FunctionName: awssdk.String(fmt.Sprintf("fn%d", i)),
				Name: awssdk.String("beta"), FunctionVersion: awssdk.String("3"),
				RoutingConfig: &ltypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"4": 0.25}}}); err != nil {
				t.Fatal(err)
			}
		}
	})
	const w = 10 // aliases in the fleet
	steadyPolls(t, fe, 2, func(i int, got, retried map[string]int) {
		if i == 0 {
			t.Logf("steady poll of %d aliases over 6 functions: %v", w, got)
		}
		sameCalls(t, "steady poll", got, map[string]int{
			"lambda:ListAliases":              4,
			"lambda:GetAlias":                 2,
			"lambda:GetFunctionConfiguration": 2 * w,
			"cloudwatch:GetMetricData":        perchaws.CallsFor(10 * w),
		}, retried)
	})
	for _, e := range fe.s.engines {
		s := e.Snapshot()
		want := 10.0
		if strings.HasSuffix(s.Target.Name, ":beta") {
			want = 25
		}
		if !s.SplitKnown || s.Split.CanaryPercent() != want {
			t.Errorf("%s: split known %v (%s) %+v, want %v%% to the canary", s.Target.Name, s.SplitKnown, s.SplitErr, s.Split, want)
		}
	}
}

// TestFleetOfCodeDeployDeploymentsReadsThemBy25: 30 CodeDeploy ECS
// deployments in progress. A steady poll reads them in ceil(30/25) = 2
// BatchGetDeployments, as docs/fleet.md's CodeDeploy lines say, with
// each deployment's targets (BatchGetDeploymentTargets, twice) and
// metrics (GetMetricData) its own (before: 30 GetDeployment).
func TestFleetOfCodeDeployDeploymentsReadsThemBy25(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated fleet")
	}
	const d = 30
	var b strings.Builder
	b.WriteString("name: codedeploy-fleet\nseed: 11\nhistory: 30m\npublish_delay: 30s\nalbs:\n")
	for i := range d {
		fmt.Fprintf(&b, "  - {name: web%02d, requests_per_minute: 600, canary_weight: 0, targets_per_side: 2}\n", i)
	}
	b.WriteString("codedeploy:\n  deployment_groups:\n")
	var targets []config.Target
	for i := range d {
		fmt.Fprintf(&b, `    - application: app%02d
      name: bg
      compute_platform: ECS
      alb: web%02d
      deployment_config: CodeDeployDefault.ECSCanary10Percent15Minutes
      deployments:
        - at: -5m
`, i, i)
		targets = append(targets, config.Target{Name: fmt.Sprintf("app%02d", i), Kind: model.KindCodeDeploy, Application: fmt.Sprintf("app%02d", i), DeploymentGroup: "bg"})
	}
	fe := openKindsFleet(t, b.String(), targets)
	steadyPolls(t, fe, 2, func(i int, got, retried map[string]int) {
		if i == 0 {
			t.Logf("steady poll of %d CodeDeploy deployments: %v", d, got)
		}
		sameCalls(t, "steady poll", got, map[string]int{
			"codedeploy:BatchGetDeployments":       (d + perchaws.MaxDeploymentsPerCall - 1) / perchaws.MaxDeploymentsPerCall,
			"codedeploy:BatchGetDeploymentTargets": 2 * d,
			"cloudwatch:GetMetricData":             d,
		}, retried)
	})
	for _, e := range fe.s.engines {
		if s := e.Snapshot(); !s.SplitKnown || s.Deployment == nil || s.Deployment.Status != "InProgress" {
			t.Errorf("%s: split known %v (%s), deployment %+v", s.Target.Name, s.SplitKnown, s.SplitErr, s.Deployment)
		}
	}
}
