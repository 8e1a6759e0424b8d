package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// cdEntries finds the codedeploy-ecs scenario's manifest entries: the
// group with its scripted deployment, the finished one in the history,
// and the EC2/on-premises group.
func cdEntries(t *testing.T, m sim.Manifest) (group, finished, server sim.ManifestTarget) {
	t.Helper()
	for _, mt := range m.Targets {
		switch {
		case mt.Kind != "codedeploy":
		case mt.ComputePlatform == "Server":
			server = mt
		case mt.Note != "":
			finished = mt
		default:
			group = mt
		}
	}
	if group.DeploymentID == "" || finished.DeploymentID == "" || server.DeploymentID == "" {
		t.Fatalf("manifest: %+v", m.Targets)
	}
	return group, finished, server
}

func TestCodeDeployBadInputWritesNothing(t *testing.T) {
	c := newCLIEnv(t, "codedeploy-ecs")
	group, finished, server := cdEntries(t, c.sim.Manifest)
	rule := c.sim.Manifest.Targets[0].RuleARN
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown deployment", []string{"status", "--deployment-id", "d-NOSUCH123"}, ExitUsage, "deployment not found: d-NOSUCH123"},
		{"malformed deployment ID", []string{"rollback", "--deployment-id", "deploy-42"}, ExitUsage, "not a CodeDeploy deployment ID"},
		{"server deployment", []string{"status", "--deployment-id", server.DeploymentID}, ExitUsage, "EC2/on-premises (Server) deployment"},
		{"server deployment, cockpit", []string{"codedeploy", "--deployment-id", server.DeploymentID}, ExitUsage, "shifts no traffic"},
		{"shift", []string{"shift", "--to", "50", "--deployment-id", group.DeploymentID}, ExitUsage, "CodeDeploy shifts this deployment's traffic itself"},
		{"promote", []string{"promote", "--application", "web-app", "--deployment-group", "web-bg"}, ExitUsage, "not promote it"},
		{"rollback with --expect", []string{"rollback", "--expect", "10", "--deployment-id", group.DeploymentID}, ExitUsage, "--expect"},
		{"deployment and rule", []string{"status", "--deployment-id", group.DeploymentID, "--rule-arn", rule}, ExitUsage, "exactly one"},
		{"id and group", []string{"status", "--deployment-id", group.DeploymentID, "--application", "web-app", "--deployment-group", "web-bg"}, ExitUsage, "not both"},
		{"application alone", []string{"codedeploy", "--application", "web-app"}, ExitUsage, "go together"},
		{"canary version", []string{"status", "--deployment-id", group.DeploymentID, "--canary-version", "8"}, ExitUsage, "--canary-version"},
		{"no target", []string{"codedeploy"}, ExitUsage, "--deployment-id"},
		{"unknown group", []string{"status", "--application", "web-app", "--deployment-group", "nope"}, ExitUsage, "deployment group not found: web-app/nope"},
		{"nothing running yet", []string{"status", "--application", "web-app", "--deployment-group", "web-bg"}, ExitFailure, "no deployment in progress in web-app/web-bg"},
		{"finished: rollback", []string{"rollback", "--deployment-id", finished.DeploymentID}, ExitRefused, "has finished"},
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

	// A finished deployment opens (read-only) with its history.
	code, out, errOut := c.perch(t, "status", "--json", "--deployment-id", finished.DeploymentID)
	if code != 0 {
		t.Fatalf("status of a finished deployment: exit %d %s", code, errOut)
	}
	var st status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	d := st.Deployment
	if d == nil || d.Status != "Stopped" || !d.RolledBack() || d.Error.Code != "MANUAL_STOP" || st.Split.CanaryPercent != 0 ||
		st.Target.DeploymentID != finished.DeploymentID || st.Target.StableName != "web-stable" || st.Metrics["stable"].Requests == 0 ||
		len(st.Alarms) != 1 || st.Alarms[0].Name != "web-green-5xx" {
		t.Fatalf("status: %+v\n%+v", st, d)
	}
	if code, out, _ := c.perch(t, "status", "--deployment-id", finished.DeploymentID); code != 0 ||
		!strings.Contains(out, "deploy   "+finished.DeploymentID+" Stopped (ECS)") || !strings.Contains(out, "rollback by deployment d-") {
		t.Fatalf("status text: %d\n%s", code, out)
	}
}

func TestCodeDeployRollbackThenTheAWSCLISeesItStopped(t *testing.T) {
	c := newCLIEnv(t, "codedeploy-ecs")
	t.Setenv("AWS_ENDPOINT_URL_CODEDEPLOY", "")
	// The simulator runs on the wall clock here: start a deployment now
	// rather than wait for the scripted one.
	cd := codedeploy.NewFromConfig(c.sim.AWS)
	created, err := cd.CreateDeployment(context.Background(), &codedeploy.CreateDeploymentInput{
		ApplicationName: awssdk.String("web-app"), DeploymentGroupName: awssdk.String("web-bg"), Description: awssdk.String("release 43")})
	if err != nil {
		t.Fatal(err)
	}
	id := awssdk.ToString(created.DeploymentId)
	group := []string{"--application", "web-app", "--deployment-group", "web-bg"}
	code, out, errOut := c.perch(t, append([]string{"status", "--json"}, group...)...)
	var st status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Deployment == nil || st.Deployment.ID != id ||
		st.Deployment.Status != "InProgress" || st.Target.Kind != "codedeploy" {
		t.Fatalf("status: %d %s\n%s", code, errOut, out)
	}
	code, out, errOut = c.perch(t, "rollback", "--deployment-id", id, "--reason", "the on-call said so")
	if code != 0 || !strings.Contains(out, "rollback: stable 100% / canary 0% (verified)") || !strings.Contains(out, "deployment "+id+" Stopped") {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	var got struct {
		DeploymentInfo struct {
			Status           string
			DeploymentId     string
			ErrorInformation struct{ Code string }
			RollbackInfo     struct {
				RollbackDeploymentId string
				RollbackMessage      string
			}
		}
	}
	c.awsCLI(t, &got, "deploy", "get-deployment", "--deployment-id", id)
	info := got.DeploymentInfo
	if info.Status != "Stopped" || info.DeploymentId != id || info.ErrorInformation.Code != "MANUAL_STOP" ||
		!strings.HasPrefix(info.RollbackInfo.RollbackDeploymentId, "d-") || info.RollbackInfo.RollbackMessage == "" {
		t.Fatalf("aws deploy get-deployment: %+v", info)
	}
	// The audit log has the operator's intent and the verified outcome.
	code, out, _ = c.run(t, "audit", "verify", filepath.Join(c.state, "perch", "audit.jsonl"))
	if code != 0 || !strings.Contains(out, "ok, 2 entries") {
		t.Fatalf("audit verify: %d %s", code, out)
	}
}

func TestCodeDeployWaitsForADeployment(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "codedeploy-ecs"})
	t.Setenv("AWS_ENDPOINT_URL_CODEDEPLOY", "")
	group, _, _ := cdEntries(t, env.Manifest)
	var out bytes.Buffer
	type result struct {
		r   *perchaws.CodeDeployRouter
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := waitForDeployment(context.Background(), env.AWS, perchaws.CodeDeployOptions{Application: "web-app", DeploymentGroup: "web-bg"},
			env.Clock, 30*time.Second, &out)
		done <- result{r, err}
	}()
	// Two checks find nothing; the scripted deployment starts at 1m.
	for range 2 {
		env.Clock.BlockUntil(1)
		env.Advance(30 * time.Second)
	}
	res := <-done
	if res.err != nil || res.r.Target().DeploymentID != group.DeploymentID {
		t.Fatalf("wait: %v %+v", res.err, res.r)
	}
	if s := out.String(); strings.Count(s, "\n") != 1 || !strings.Contains(s, "no deployment in progress in web-app/web-bg; waiting for one") {
		t.Fatalf("said %q", s)
	}
	// Cancelled while waiting: a failure, not a hang.
	env2 := simtest.Start(t, simtest.Options{ScenarioName: "codedeploy-ecs"})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := waitForDeployment(ctx, env2.AWS, perchaws.CodeDeployOptions{Application: "web-app", DeploymentGroup: "web-bg"},
			env2.Clock, time.Second, &out)
		done <- result{nil, err}
	}()
	env2.Clock.BlockUntil(1)
	cancel()
	if res := <-done; res.err == nil || !strings.Contains(res.err.Error(), "stopped waiting") {
		t.Fatalf("cancelled: %v", res.err)
	}
}
