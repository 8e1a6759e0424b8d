package aws

import (
	"context"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestSimPollBatchLambdaAliases: two aliases of one function are read in
// one ListAliases; each router then takes its alias from the batch once
// (a second read in the same poll, such as an action's, asks GetAlias),
// with the RevisionId the compare-and-set write needs.
func TestSimPollBatchLambdaAliases(t *testing.T) {
	env, cfg := simEnv(t, "lambda-healthy")
	mt := simTarget(t, env, "orders:live")
	ctx := context.Background()
	// A second alias of the same function, as another team's would be.
	if _, err := lambda.NewFromConfig(cfg).CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: awssdk.String(mt.Function),
		Name: awssdk.String("beta"), FunctionVersion: awssdk.String(mt.StableVersion),
		RoutingConfig: &ltypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{mt.CanaryVersion: 0.5}}}); err != nil {
		t.Fatal(err)
	}
	live, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: mt.Function, Alias: mt.Alias, CanaryVersion: mt.CanaryVersion})
	if err != nil {
		t.Fatal(err)
	}
	beta, err := NewLambdaRouter(ctx, cfg, LambdaOptions{Function: mt.Function, Alias: "beta", CanaryVersion: mt.CanaryVersion})
	if err != nil {
		t.Fatal(err)
	}
	var req BatchRequest
	req.Add(live.BatchNeeds(), nil)
	req.Add(beta.BatchNeeds(), nil)
	env.Sim.ResetStats()
	b := NewPollReader(cfg).Read(ctx, req)
	if got := env.Sim.Stats(); got["lambda:ListAliases"] != 1 || len(got) != 1 {
		t.Fatalf("batch calls %v, want one ListAliases", got)
	}
	bctx := WithPollBatch(ctx, b)
	s1, err := live.ReadSplit(bctx)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := beta.ReadSplit(bctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Sim.Stats()["lambda:GetAlias"]; got != 0 {
		t.Fatalf("%d GetAlias calls with the batch", got)
	}
	if s1.CanaryWeight != 100 || s2.CanaryWeight != 500 || s1.Revision == "" || s2.Revision == "" {
		t.Errorf("splits from the batch: %+v %+v", s1, s2)
	}
	if _, err := live.ReadSplit(bctx); err != nil {
		t.Fatal(err)
	}
	if got := env.Sim.Stats()["lambda:GetAlias"]; got != 1 {
		t.Errorf("a second read in the same poll made %d GetAlias calls, want 1", got)
	}
}

// TestSimPollBatchDeploymentsAndAlarms: deployments in one
// BatchGetDeployments and alarms in one DescribeAlarms, a name AWS does
// not have reading MISSING.
func TestSimPollBatchDeploymentsAndAlarms(t *testing.T) {
	env, cfg := codeDeploySimEnv(t, "codedeploy-ecs")
	var id string
	env.Advance(time.Minute) // the deployment starts
	var alarms []string
	for _, mt := range env.Manifest.Targets {
		if mt.Kind == "codedeploy" && mt.DeploymentID != "" && mt.Note == "" && id == "" {
			id = mt.DeploymentID
		}
		alarms = append(alarms, mt.Alarms...)
	}
	if id == "" {
		t.Fatal("no deployment in the scenario")
	}
	ctx := context.Background()
	env.Sim.ResetStats()
	b := NewPollReader(cfg).Read(ctx, BatchRequest{Deployments: []string{id, id}, Alarms: append(alarms, "no-such-alarm")})
	if got := env.Sim.Stats(); got["codedeploy:BatchGetDeployments"] != 1 || got["cloudwatch:DescribeAlarms"] != 1 {
		t.Fatalf("batch calls %v", got)
	}
	d, err, ok := batchedDeployment(WithPollBatch(ctx, b), id)
	if !ok || err != nil || awssdk.ToString(d.DeploymentId) != id {
		t.Fatalf("deployment %s from the batch: %v %v %v (batch %v, errs %v)", id, d, err, ok, b.deployments, b.errs)
	}
	got, err := NewAlarms(cfg).Alarms(WithPollBatch(ctx, b), []string{"no-such-alarm"})
	if err != nil || len(got) != 1 || got[0].State != "MISSING" {
		t.Fatalf("alarms from the batch: %+v %v", got, err)
	}
	if n := env.Sim.Stats()["cloudwatch:DescribeAlarms"]; n != 1 {
		t.Errorf("alarms read again: %d DescribeAlarms", n)
	}
}
