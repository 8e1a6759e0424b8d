package ecs_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/sim/simtest"
)

// TestECSWithAWSCLI drives the simulated ECS with the real AWS CLI on
// PATH (botocore speaks awsJson1.1 to ECS): describe-services,
// list-service-deployments, describe-service-deployments and
// continue-service-deployment at a PAUSE hook, as an operator would
// during a demo.
func TestECSWithAWSCLI(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the aws CLI is not on PATH, and CI=true requires this test to run")
		}
		t.Skip("the aws CLI is not on PATH")
	}
	env := simtest.Start(t, simtest.Options{ScenarioName: "ecs-bluegreen-paused"})
	m := env.Target(t, "default/web")
	home := t.TempDir()
	run := func(t *testing.T, out any, args ...string) error {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		full := append([]string{"--endpoint-url", env.URL, "--region", "us-east-1", "--output", "json",
			"--cli-connect-timeout", "5", "--cli-read-timeout", "20", "ecs"}, args...)
		cmd := exec.CommandContext(ctx, awsPath, full...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
			"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "AWS_CONFIG_FILE=" + home + "/config",
			"AWS_SHARED_CREDENTIALS_FILE=" + home + "/credentials"}
		if root := os.Getenv("PYENV_ROOT"); root != "" {
			cmd.Env = append(cmd.Env, "PYENV_ROOT="+root)
		}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("aws ecs %s timed out", args[0])
			}
			return errors.New(stderr.String())
		}
		if out != nil {
			if err := json.Unmarshal([]byte(stdout.String()), out); err != nil {
				t.Fatalf("aws ecs %s: output is not JSON: %v\n%s", args[0], err, stdout.String())
			}
		}
		return nil
	}
	env.Advance(5 * time.Minute)

	var svcs struct {
		Services []struct {
			ServiceName             string
			DeploymentConfiguration struct {
				Strategy       string
				LifecycleHooks []struct{ LifecycleStages []string }
			} `json:"deploymentConfiguration"`
			LoadBalancers []struct {
				AdvancedConfiguration struct{ ProductionListenerRule string } `json:"advancedConfiguration"`
			} `json:"loadBalancers"`
		} `json:"services"`
	}
	if err := run(t, &svcs, "describe-services", "--cluster", "default", "--services", "web"); err != nil {
		t.Fatal(err)
	}
	if len(svcs.Services) != 1 || svcs.Services[0].DeploymentConfiguration.Strategy != "BLUE_GREEN" ||
		svcs.Services[0].LoadBalancers[0].AdvancedConfiguration.ProductionListenerRule != m.RuleARN {
		t.Fatalf("describe-services: %+v", svcs)
	}

	var list struct {
		ServiceDeployments []struct{ ServiceDeploymentArn, Status string } `json:"serviceDeployments"`
	}
	if err := run(t, &list, "list-service-deployments", "--service", "web", "--status", "IN_PROGRESS"); err != nil {
		t.Fatal(err)
	}
	if len(list.ServiceDeployments) != 1 || list.ServiceDeployments[0].ServiceDeploymentArn != m.DeploymentARN {
		t.Fatalf("list-service-deployments: %+v", list)
	}

	type hook struct{ HookId, Status, TimeoutAction string }
	var desc struct {
		ServiceDeployments []struct {
			Status, LifecycleStage string
			LifecycleHookDetails   []hook `json:"lifecycleHookDetails"`
		} `json:"serviceDeployments"`
	}
	if err := run(t, &desc, "describe-service-deployments", "--service-deployment-arns", m.DeploymentARN); err != nil {
		t.Fatal(err)
	}
	d := desc.ServiceDeployments[0]
	if d.LifecycleStage != "POST_TEST_TRAFFIC_SHIFT" || len(d.LifecycleHookDetails) != 1 || d.LifecycleHookDetails[0].Status != "AWAITING_ACTION" {
		t.Fatalf("describe-service-deployments: %+v", desc)
	}
	err = run(t, nil, "continue-service-deployment", "--service-deployment-arn", m.DeploymentARN, "--hook-id", "wrong")
	if err == nil || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Fatalf("continue with a wrong hook: %v", err)
	}
	if err := run(t, nil, "continue-service-deployment", "--service-deployment-arn", m.DeploymentARN,
		"--hook-id", d.LifecycleHookDetails[0].HookId, "--action", "CONTINUE"); err != nil {
		t.Fatal(err)
	}
	desc.ServiceDeployments = nil
	if err := run(t, &desc, "describe-service-deployments", "--service-deployment-arns", m.DeploymentARN); err != nil {
		t.Fatal(err)
	}
	if d := desc.ServiceDeployments[0]; d.LifecycleStage != "BAKE_TIME" || len(d.LifecycleHookDetails) != 0 {
		t.Fatalf("after continue-service-deployment: %+v", d)
	}
	err = run(t, nil, "list-service-deployments", "--cluster", "nope", "--service", "web")
	if err == nil || !strings.Contains(err.Error(), "ClusterNotFoundException") {
		t.Fatalf("unknown cluster: %v", err)
	}
}
