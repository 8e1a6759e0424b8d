package aws

import (
	"context"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/perch-dev/perch/model"
)

// The canary is the target group of the deployment's target revision,
// whichever of the service's two that is: after a deployment that moved
// production onto the alternate target group, the next deployment's
// canary is the first one. And a router following the service moves on
// to that next deployment once the first was reported finished.
func TestSimECSCanaryIsTheTargetRevisionsGroup(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_CODEDEPLOY", "")
	env, cfg := simEnv(t, "ecs-linear")
	ctx := context.Background()
	env.Advance(3 * time.Minute)
	r, err := NewECSRouter(ctx, cfg, ECSOptions{Service: "web"})
	if err != nil {
		t.Fatal(err)
	}
	first := r.Target()
	if first.CanaryName != "web-canary" || first.StableName != "web-stable" || first.CanarySource != model.CanaryFromRevision {
		t.Fatalf("first deployment: %+v", first)
	}
	sp, err := r.ReadSplit(ctx)
	if err != nil || sp.CanaryPercent() != 25 {
		t.Fatalf("split: %+v %v", sp, err)
	}
	if err := r.WriteSplit(ctx, sp); err != ErrECSShifts {
		t.Fatalf("WriteSplit: %v", err)
	}
	env.Advance(20 * time.Minute)
	st, err := r.Deployment(ctx)
	if err != nil || st.Status != model.ECSSuccessful {
		t.Fatalf("first deployment done: %+v %v", st, err)
	}
	if _, err := ecs.NewFromConfig(cfg).UpdateService(ctx, &ecs.UpdateServiceInput{Service: awssdk.String("web"), TaskDefinition: awssdk.String("web:9")}); err != nil {
		t.Fatal(err)
	}
	env.Advance(3 * time.Minute)
	st, err = r.Deployment(ctx)
	if err != nil || st.ID == first.DeploymentID || st.Status != "IN_PROGRESS" {
		t.Fatalf("following the service: %+v %v", st, err)
	}
	next := r.Target()
	if next.CanaryName != "web-stable" || next.StableName != "web-canary" {
		t.Fatalf("second deployment's sides: %+v", next)
	}
	if sp, err := r.ReadSplit(ctx); err != nil || sp.CanaryPercent() != st.CanaryPercent || sp.CanaryPercent() == 0 || sp.CanaryID != next.CanaryARN {
		t.Fatalf("second split: %+v %v", sp, err)
	}
}
