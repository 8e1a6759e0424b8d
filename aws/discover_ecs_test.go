package aws

import (
	"testing"
	"time"
)

// A scan of ecs-canary while its deployment shifts lists that deployment
// (canary 10%), and not the ROLLING service nor the one without an
// advanced configuration.
func TestSimScanFindsECSDeployments(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_CODEDEPLOY", "")
	env, cfg := simEnv(t, "ecs-canary")
	env.Advance(3 * time.Minute)
	env.Sim.ResetStats()
	found, err := NewScanner(cfg, 4, nil).Scan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, f := range found {
		// The rule ECS shifts is this deployment, not also an ALB rule
		// perch would write.
		if f.Kind == "alb" && len(f.Sides) == 2 && f.Sides[1].Weight == 10 {
			t.Errorf("ECS's rule listed as an ALB rule too: %+v", f)
		}
		if f.Kind != "ecs" {
			continue
		}
		if len(f.TargetGroups) != 2 {
			t.Errorf("ECS deployment's target groups: %v", f.TargetGroups)
		}
		n++
		if f.Name != "default/web" || f.DeploymentID != env.Target(t, "default/web").DeploymentARN || f.CanaryPercent == nil || *f.CanaryPercent != 10 ||
			f.Status != "IN_PROGRESS" || len(f.Sides) != 2 || f.Sides[1].Weight != 10 {
			t.Errorf("found %+v", f)
		}
	}
	if n != 1 {
		t.Fatalf("%d ECS deployments found, want 1: %+v", n, found)
	}
	st := env.Sim.Stats()
	if st["ecs:ListClusters"] != 1 || st["ecs:ListServices"] != 1 || st["ecs:DescribeServices"] != 1 ||
		st["ecs:ListServiceDeployments"] != 1 || st["ecs:DescribeServiceDeployments"] != 1 {
		t.Fatalf("ECS calls: %v", st)
	}
}
