package cloudwatch

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/sim/cloudwatch/wire"
)

// TestCWWithAWSCLI drives the simulator with the real AWS CLI on PATH
// (botocore speaks awsJson1.0 to CloudWatch), proving that a human can point
// the CLI at the simulator during a demo.
func TestCWWithAWSCLI(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the aws CLI is not on PATH, and CI=true requires this test to run")
		}
		t.Skip("the aws CLI is not on PATH")
	}
	env := newCWEnv(t)
	home := t.TempDir()

	run := func(t *testing.T, args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		full := append([]string{"--endpoint-url", env.url, "--region", "us-east-1", "--output", "json",
			"--cli-connect-timeout", "5", "--cli-read-timeout", "20", "cloudwatch"}, args...)
		cmd := exec.CommandContext(ctx, awsPath, full...)
		// A clean environment: no user config, credentials or profile can
		// leak in, and a failure is never retried into a long wait.
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + home,
			"AWS_ACCESS_KEY_ID=test",
			"AWS_SECRET_ACCESS_KEY=test",
			"AWS_EC2_METADATA_DISABLED=true",
			"AWS_MAX_ATTEMPTS=1",
			"AWS_CONFIG_FILE=" + home + "/config",
			"AWS_SHARED_CREDENTIALS_FILE=" + home + "/credentials",
		}
		if root := os.Getenv("PYENV_ROOT"); root != "" {
			cmd.Env = append(cmd.Env, "PYENV_ROOT="+root)
		}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ctx.Err() != nil {
			t.Fatalf("aws %s timed out", strings.Join(args, " "))
		}
		if err != nil {
			return stdout.String(), errors.New(stderr.String())
		}
		return stdout.String(), nil
	}
	mustRun := func(t *testing.T, out any, args ...string) {
		t.Helper()
		stdout, err := run(t, args...)
		if err != nil {
			t.Fatalf("aws %s: %v", args[0], err)
		}
		if out != nil {
			if err := json.Unmarshal([]byte(stdout), out); err != nil {
				t.Fatalf("aws %s: output is not JSON: %v\n%s", args[0], err, stdout)
			}
		}
	}

	mustRun(t, nil, "put-metric-data", "--namespace", "Perch/CLI", "--metric-data",
		`[{"MetricName":"Requests","Dimensions":[{"Name":"TargetGroup","Value":"targetgroup/canary/1"}],"Timestamp":"2026-11-26T06:58:00Z","Value":3,"Unit":"Count"},
		  {"MetricName":"Requests","Dimensions":[{"Name":"TargetGroup","Value":"targetgroup/canary/1"}],"Timestamp":"2026-11-26T06:58:20Z","Value":4,"Unit":"Count"},
		  {"MetricName":"Requests","Dimensions":[{"Name":"TargetGroup","Value":"targetgroup/canary/1"}],"Timestamp":"2026-11-26T06:59:00Z","StatisticValues":{"SampleCount":2,"Sum":10,"Minimum":4,"Maximum":6},"Unit":"Count"}]`)

	var gmd struct {
		MetricDataResults []struct {
			Id, Label, StatusCode string
			Timestamps            []any
			Values                []float64
		}
	}
	mustRun(t, &gmd, "get-metric-data", "--start-time", "2026-11-26T06:00:00Z", "--end-time", "2026-11-26T07:00:00Z",
		"--scan-by", "TimestampAscending", "--metric-data-queries",
		`[{"Id":"req","MetricStat":{"Metric":{"Namespace":"Perch/CLI","MetricName":"Requests","Dimensions":[{"Name":"TargetGroup","Value":"targetgroup/canary/1"}]},"Period":60,"Stat":"Sum"}},
		  {"Id":"doubled","Expression":"req*2","Label":"twice"}]`)
	if len(gmd.MetricDataResults) != 2 {
		t.Fatalf("get-metric-data results: %+v", gmd)
	}
	req, doubled := gmd.MetricDataResults[0], gmd.MetricDataResults[1]
	if req.Id != "req" || req.StatusCode != "Complete" || len(req.Values) != 2 || req.Values[0] != 7 || req.Values[1] != 10 {
		t.Errorf("req result: %+v", req)
	}
	if len(req.Timestamps) != 2 || !cliTimeIs(req.Timestamps[0], cwT0.Add(-2*time.Minute)) {
		t.Errorf("req timestamps: %v", req.Timestamps)
	}
	if doubled.Label != "twice" || len(doubled.Values) != 2 || doubled.Values[1] != 20 {
		t.Errorf("expression result: %+v", doubled)
	}

	// The statistics perch reads latency through: the count of slow
	// requests (TC), their share (PR) and a trimmed mean (TM), asked for
	// by the CLI as a user would.
	mustRun(t, nil, "put-metric-data", "--namespace", "Perch/CLI", "--metric-data",
		`[{"MetricName":"TargetResponseTime","Dimensions":[{"Name":"TargetGroup","Value":"targetgroup/canary/1"}],"Timestamp":"2026-11-26T06:57:00Z","Values":[0.05,0.1,0.2,0.5],"Counts":[60,30,8,2],"Unit":"Seconds"}]`)
	var ranged struct {
		MetricDataResults []struct {
			Id     string
			Values []float64
		}
	}
	mustRun(t, &ranged, "get-metric-data", "--start-time", "2026-11-26T06:00:00Z", "--end-time", "2026-11-26T07:00:00Z",
		"--metric-data-queries",
		`[{"Id":"slow","MetricStat":{"Metric":{"Namespace":"Perch/CLI","MetricName":"TargetResponseTime","Dimensions":[{"Name":"TargetGroup","Value":"targetgroup/canary/1"}]},"Period":60,"Stat":"TC(0.1:)"}},
		  {"Id":"fast","MetricStat":{"Metric":{"Namespace":"Perch/CLI","MetricName":"TargetResponseTime","Dimensions":[{"Name":"TargetGroup","Value":"targetgroup/canary/1"}]},"Period":60,"Stat":"PR(:0.1)"}},
		  {"Id":"trimmed","MetricStat":{"Metric":{"Namespace":"Perch/CLI","MetricName":"TargetResponseTime","Dimensions":[{"Name":"TargetGroup","Value":"targetgroup/canary/1"}]},"Period":60,"Stat":"TM(:0.1)"}}]`)
	want := map[string]float64{"slow": 10, "fast": 90, "trimmed": (60*0.05 + 30*0.1) / 90}
	if len(ranged.MetricDataResults) != len(want) {
		t.Fatalf("range statistics: %+v", ranged)
	}
	for _, r := range ranged.MetricDataResults {
		if len(r.Values) != 1 || math.Abs(r.Values[0]-want[r.Id]) > 1e-9 {
			t.Errorf("%s = %v, want %v", r.Id, r.Values, want[r.Id])
		}
	}

	mustRun(t, nil, "put-metric-alarm", "--alarm-name", "canary-requests", "--namespace", "Perch/CLI",
		"--metric-name", "Requests", "--dimensions", "Name=TargetGroup,Value=targetgroup/canary/1",
		"--statistic", "Sum", "--period", "60", "--evaluation-periods", "1", "--threshold", "100",
		"--comparison-operator", "GreaterThanThreshold")
	mustRun(t, nil, "set-alarm-state", "--alarm-name", "canary-requests", "--state-value", "ALARM",
		"--state-reason", "abort drill")

	var da struct {
		MetricAlarms []struct {
			AlarmName, AlarmArn, StateValue, StateReason, Statistic, ComparisonOperator string
			Threshold                                                                   float64
			Period, EvaluationPeriods                                                   int
			StateUpdatedTimestamp                                                       any
		}
		CompositeAlarms []any
	}
	mustRun(t, &da, "describe-alarms", "--alarm-names", "canary-requests")
	if len(da.MetricAlarms) != 1 {
		t.Fatalf("describe-alarms: %+v", da)
	}
	a := da.MetricAlarms[0]
	if a.StateValue != "ALARM" || a.StateReason != "abort drill" || a.Threshold != 100 || a.Period != 60 ||
		a.Statistic != "Sum" || a.AlarmArn != "arn:aws:cloudwatch:us-east-1:123456789012:alarm:canary-requests" ||
		!cliTimeIs(a.StateUpdatedTimestamp, cwT0) {
		t.Errorf("described alarm: %+v", a)
	}

	_, err = run(t, "set-alarm-state", "--alarm-name", "missing", "--state-value", "OK", "--state-reason", "x")
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFound") {
		t.Errorf("set-alarm-state on a missing alarm: %v", err)
	}

	for _, p := range env.seen {
		if p != wire.JSON {
			t.Fatalf("the CLI spoke protocol %d, want awsJson1.0", p)
		}
	}
}

// cliTimeIs accepts both ways AWS CLI v1 prints timestamps: the raw epoch
// number of the JSON protocol (cli_timestamp_format=none) or ISO 8601.
func cliTimeIs(v any, want time.Time) bool {
	switch x := v.(type) {
	case float64:
		return time.Unix(0, int64(x*1e9)).Equal(want)
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return err == nil && t.Equal(want)
	}
	return false
}
