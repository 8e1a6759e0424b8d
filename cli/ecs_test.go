package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// TestECSBadInputWritesNothing: an unknown cluster or service, a ROLLING
// service, a service without an advanced configuration and flags that do
// not go together exit 2 with one line; a finished deployment opens
// read-only and refuses rollback; nothing is written.
func TestECSBadInputWritesNothing(t *testing.T) {
	c := newCLIEnv(t, "ecs-canary")
	var finished string
	for _, mt := range c.sim.Manifest.Targets {
		if mt.Kind == "ecs" && mt.Service == "web" && mt.Note != "" {
			finished = mt.DeploymentARN
		}
	}
	if finished == "" {
		t.Fatalf("manifest: %+v", c.sim.Manifest.Targets)
	}
	rule := c.sim.Manifest.Targets[0].RuleARN
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown cluster", []string{"status", "--cluster", "nope", "--service", "web"}, ExitUsage, "ECS cluster not found: nope"},
		{"unknown service", []string{"status", "--service", "nope"}, ExitUsage, "ECS service not found: default/nope"},
		{"unknown service, cockpit", []string{"ecs", "--cluster", "default", "--service", "nope"}, ExitUsage, "ECS service not found"},
		{"rolling service", []string{"status", "--service", "api"}, ExitUsage, "ROLLING deployment strategy"},
		{"rolling service, cockpit", []string{"ecs", "--service", "api"}, ExitUsage, "shifts no traffic"},
		{"no advanced configuration", []string{"rollback", "--service", "worker"}, ExitUsage, "no load balancer with an advanced configuration"},
		{"unknown deployment", []string{"status", "--deployment-arn", finished[:len(finished)-4] + "nope"}, ExitUsage, "ECS service deployment not found"},
		{"arn and service", []string{"status", "--deployment-arn", finished, "--service", "web"}, ExitUsage, "not both"},
		{"cluster alone", []string{"ecs", "--cluster", "default"}, ExitUsage, "--cluster goes with --service"},
		{"ecs and rule", []string{"status", "--service", "web", "--rule-arn", rule}, ExitUsage, "exactly one"},
		{"no target", []string{"ecs"}, ExitUsage, "--deployment-arn"},
		{"shift", []string{"shift", "--to", "50", "--service", "web"}, ExitUsage, "ECS shifts this service's traffic itself"},
		{"promote", []string{"promote", "--deployment-arn", finished}, ExitUsage, "not promote it"},
		{"plan", []string{"ecs", "--service", "web", "--plan", "10%:1m,100%"}, ExitUsage, "unknown flag: --plan"},
		{"nothing running yet", []string{"status", "--service", "web"}, ExitFailure, "no deployment in progress in default/web"},
		{"rollback with --expect", []string{"rollback", "--expect", "10", "--service", "web"}, ExitUsage, "--expect"},
		{"finished: rollback", []string{"rollback", "--deployment-arn", finished}, ExitRefused, "has finished"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := c.perch(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Fatalf("exit %d (want %d)\nstdout %q\nstderr %q (want %q)", code, tc.code, out, errOut, tc.want)
			}
		})
	}
	if n := simWrites(t, c.sim.URL); n != 0 {
		t.Fatalf("bad input made %d write calls: %v", n, c.sim.Sim.Stats())
	}
	code, out, errOut := c.perch(t, "status", "--json", "--deployment-arn", finished)
	var st status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status of a finished deployment: exit %d %s\n%s", code, errOut, out)
	}
	if d := st.Deployment; d == nil || d.Status != "ROLLBACK_SUCCESSFUL" || d.ECS == nil || st.Target.Kind != "ecs" ||
		st.Target.CanaryName != "web-canary" || st.Split.CanaryPercent != 0 {
		t.Fatalf("status: %+v\n%+v", st, st.Deployment)
	}
}

// TestECSHeadlessRollbackThenTheAWSCLISeesIt: perch rollback on a
// service's deployment in progress is StopServiceDeployment ROLLBACK;
// aws ecs describe-service-deployments then reads ROLLBACK_SUCCESSFUL
// once ECS has finished, with all traffic on the original target group.
func TestECSHeadlessRollbackThenTheAWSCLISeesIt(t *testing.T) {
	c := newCLIEnv(t, "ecs-linear")
	// The simulator runs on the wall clock here: start a deployment now
	// rather than wait for the scripted one.
	up, err := ecs.NewFromConfig(c.sim.AWS).UpdateService(context.Background(), &ecs.UpdateServiceInput{
		Service: awssdk.String("web"), TaskDefinition: awssdk.String("web:7")})
	if err != nil {
		t.Fatal(err)
	}
	arn := awssdk.ToString(up.Service.CurrentServiceDeployment)
	code, out, errOut := c.perch(t, "status", "--json", "--service", "web")
	var st status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Deployment == nil || st.Deployment.ID != arn || st.Target.Kind != "ecs" {
		t.Fatalf("status: %d %s\n%s", code, errOut, out)
	}
	code, out, errOut = c.perch(t, "rollback", "--service", "web", "--reason", "the on-call said so")
	if code != 0 || !strings.Contains(out, "canary 0%") {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	if st := c.sim.Sim.Stats(); st["ecs:StopServiceDeployment"] != 1 || st["elbv2:ModifyRule"] != 0 {
		t.Fatalf("calls: %v", st)
	}
	var got struct {
		ServiceDeployments []struct {
			Status   string
			Rollback struct{ Reason string }
		} `json:"serviceDeployments"`
	}
	c.awsCLI(t, &got, "ecs", "describe-service-deployments", "--service-deployment-arns", arn)
	if len(got.ServiceDeployments) != 1 || !strings.HasPrefix(got.ServiceDeployments[0].Status, "ROLLBACK_") ||
		!strings.Contains(got.ServiceDeployments[0].Rollback.Reason, "StopServiceDeployment") {
		t.Fatalf("aws ecs describe-service-deployments: %+v", got)
	}
}

// TestECSDrill: the drill sets one of the deployment's alarms to ALARM and
// times ECS's own rollback; an alarm ECS does not watch is refused with
// nothing written.
func TestECSDrill(t *testing.T) {
	c := newCLIEnv(t, "ecs-linear")
	if _, err := ecs.NewFromConfig(c.sim.AWS).UpdateService(context.Background(), &ecs.UpdateServiceInput{
		Service: awssdk.String("web"), TaskDefinition: awssdk.String("web:7")}); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := c.perch(t, "drill", "--service", "web", "--alarm", "other")
	if code != ExitUsage || !strings.Contains(errOut, "not one of the deployment's alarms") || simWrites(t, c.sim.URL) != 1 {
		t.Fatalf("drill on an alarm ECS does not watch: %d %q, %d writes", code, errOut, simWrites(t, c.sim.URL))
	}
	code, out, errOut := c.perch(t, "drill", "--json", "--service", "web", "--alarm", "web-green-5xx", "--poll", "1s", "--timeout", "1m")
	var rep drillReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.RolledBack || rep.By != "ECS" || !rep.AlarmRestored ||
		!strings.Contains(rep.Reason, "alarm web-green-5xx") {
		t.Fatalf("drill: %d %s\n%s", code, errOut, out)
	}
	if st := c.sim.Sim.Stats(); st["elbv2:ModifyRule"] != 0 || st["ecs:StopServiceDeployment"] != 0 {
		t.Fatalf("perch moved traffic itself: %v", st)
	}
}
