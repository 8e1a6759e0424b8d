package aws

import (
	"context"
	"errors"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
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

// TestSimPollBatchECSServiceDeployments: service deployments in one
// DescribeServiceDeployments, each given to its router once (the hook
// actions' fresh read asks AWS), an ARN ECS does not know reported as
// not found rather than asked again, and a service revision read once.
func TestSimPollBatchECSServiceDeployments(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_CODEDEPLOY", "")
	env, cfg := simEnv(t, "ecs-linear")
	ctx := context.Background()
	env.Advance(3 * time.Minute)
	r, err := NewECSRouter(ctx, cfg, ECSOptions{Service: "web"})
	if err != nil {
		t.Fatal(err)
	}
	needs := r.BatchNeeds()
	if needs.ServiceDeployment != r.Target().DeploymentID || needs.RuleARN != r.Target().RuleARN {
		t.Fatalf("needs %+v for %+v", needs, r.Target())
	}
	gone := needs.ServiceDeployment + "0"
	var req BatchRequest
	req.Add(needs, nil)
	req.Add(BatchNeeds{ServiceDeployment: gone}, nil)
	env.Sim.ResetStats()
	b := NewPollReader(cfg).Read(ctx, req)
	if got := env.Sim.Stats(); got["ecs:DescribeServiceDeployments"] != 1 || got["elbv2:DescribeRules"] != 1 || len(got) != 2 {
		t.Fatalf("batch calls %v", got)
	}
	bctx := WithPollBatch(ctx, b)
	st, err := r.Deployment(bctx)
	if err != nil || st.Status != "IN_PROGRESS" || st.ID != needs.ServiceDeployment {
		t.Fatalf("deployment from the batch: %+v %v", st, err)
	}
	if _, err := r.ReadSplit(bctx); err != nil {
		t.Fatal(err)
	}
	if got := env.Sim.Stats(); got["ecs:DescribeServiceDeployments"] != 1 || got["elbv2:DescribeRules"] != 1 {
		t.Fatalf("reads with the batch asked AWS: %v", got)
	}
	if _, _, err := r.awaitingHook(bctx, needs.ServiceDeployment); err != nil {
		t.Fatal(err)
	}
	if got := env.Sim.Stats()["ecs:DescribeServiceDeployments"]; got != 2 {
		t.Errorf("a hook action's read made %d calls in all, want 2 (its own)", got)
	}
	_, err, ok := batchedServiceDeployment(bctx, gone)
	var nf *NotFoundError
	if !ok || !errors.As(err, &nf) {
		t.Errorf("unknown ARN from the batch: %v %v", err, ok)
	}
	rev := awssdk.ToString(mustServiceDeployment(t, b, needs.ServiceDeployment).TargetServiceRevision.Arn)
	env.Sim.ResetStats()
	for range 2 {
		if _, err := r.revisionTG(ctx, rev); err != nil {
			t.Fatal(err)
		}
	}
	if got := env.Sim.Stats()["ecs:DescribeServiceRevisions"]; got != 0 {
		t.Errorf("a revision read when resolving was read again %d times", got)
	}
}

func mustServiceDeployment(t *testing.T, b *PollBatch, arn string) ecstypes.ServiceDeployment {
	t.Helper()
	d, ok := b.services[arn]
	if !ok || d.TargetServiceRevision == nil {
		t.Fatalf("no deployment %s with a target revision in the batch", arn)
	}
	return d
}
