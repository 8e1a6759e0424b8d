package rollout_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim/simtest"
)

// The AWS CLI's start-query and get-query-results, run with perch's own
// query over the window of perch's last query of each side, return the
// lines that group into exactly the patterns and counts perch shows: the
// simulator and perch's adapter agree with a third client on what Logs
// Insights returns.
func TestLogPatternsMatchTheAWSCLI(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the aws CLI is not on PATH, and CI=true requires this test to run")
		}
		t.Skip("the aws CLI is not on PATH")
	}
	var reader *perchaws.Logs
	r := newALBRig(t, "new-exception", func(env *simtest.Env, c *rollout.Config) {
		c.Poll, c.History = 10*time.Second, 30*time.Minute
		reader = checkoutLogs(t, env)
		c.Logs = &rollout.LogsConfig{Reader: reader, Every: time.Minute}
	})
	var snap model.Snapshot
	for range 7 * 6 {
		r.env.Clock.Advance(10 * time.Second)
		snap = r.engine.PollOnce(context.Background())
	}
	home := t.TempDir()
	cli := func(out any, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		full := append([]string{"--endpoint-url", r.env.URL, "--region", "us-east-1", "--output", "json",
			"--cli-connect-timeout", "5", "--cli-read-timeout", "20", "logs"}, args...)
		cmd := exec.CommandContext(ctx, awsPath, full...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
			"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
			"AWS_CONFIG_FILE=" + home + "/config", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/credentials"}
		if root := os.Getenv("PYENV_ROOT"); root != "" {
			cmd.Env = append(cmd.Env, "PYENV_ROOT="+root)
		}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("aws logs %s: %v\n%s", args[0], err, stderr.String())
		}
		if err := json.Unmarshal([]byte(stdout.String()), out); err != nil {
			t.Fatalf("aws logs %s: not JSON: %v\n%s", args[0], err, stdout.String())
		}
	}
	// Both queries start before the simulated clock moves on: a period
	// published in between would add lines perch's queries could not see.
	var ids [2]string
	for _, side := range model.Sides {
		var started struct{ QueryId string }
		cli(&started, "start-query", "--log-group-names", "/ecs/checkout",
			"--start-time", strconv.FormatInt(snap.Logs.From[side].Unix(), 10),
			"--end-time", strconv.FormatInt(snap.Logs.To[side].Unix(), 10),
			"--query-string", reader.QueryString(side))
		ids[side] = started.QueryId
	}
	r.env.Clock.Advance(5 * time.Second) // the simulated queries run
	var got [2][]model.LogPattern
	for _, side := range model.Sides {
		var res struct {
			Status  string
			Results [][]struct{ Field, Value string }
		}
		cli(&res, "get-query-results", "--query-id", ids[side])
		if res.Status != "Complete" {
			t.Fatalf("%s query status %q", side, res.Status)
		}
		var lines []string
		for _, row := range res.Results {
			for _, f := range row {
				if f.Field == "@message" {
					lines = append(lines, f.Value)
				}
			}
		}
		got[side] = model.GroupLines(lines)
	}
	want := map[string][2]int{}
	for _, row := range snap.Logs.Rows {
		want[row.Pattern] = row.Counts
	}
	have := map[string][2]int{}
	for _, side := range model.Sides {
		for _, p := range got[side] {
			c := have[p.Pattern]
			c[side] = p.Count
			have[p.Pattern] = c
		}
	}
	if len(want) < 3 || len(have) != len(want) {
		t.Fatalf("the CLI's groups %v, perch shows %v", have, want)
	}
	for p, c := range want {
		if have[p] != c {
			t.Errorf("%q: the CLI's counts %v, perch shows %v", p, have[p], c)
		}
	}
}
