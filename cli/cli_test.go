package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/audit"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// The CLI tests run perch's commands in-process, exactly as main does,
// against the simulator on loopback. The simulator runs on the wall clock
// here because the commands themselves do.

type cliEnv struct {
	sim   *simtest.Env
	state string
}

func newCLIEnv(t *testing.T, scenario string) *cliEnv {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: scenario, Options: sim.Options{Clock: clock.Real{}}})
	state := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "test",
		"AWS_SECRET_ACCESS_KEY":       "test",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_ENDPOINT_URL":            "",
		"AWS_CONFIG_FILE":             filepath.Join(state, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(state, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_MAX_ATTEMPTS":            "2",
		"XDG_STATE_HOME":              state,
	} {
		t.Setenv(k, v)
	}
	return &cliEnv{sim: env, state: state}
}

func (c *cliEnv) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Execute(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// perch runs a command against the simulator.
func (c *cliEnv) perch(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return c.run(t, append(args, "--endpoint-url", c.sim.URL, "--region", "us-east-1")...)
}

// writes is how many calls changed something, by the simulator's own
// count.
func (c *cliEnv) writes() int { return writeCalls(c.sim.Sim.Stats()) }

// simWrites is writes as any client of the simulator reads it, over HTTP.
func simWrites(t *testing.T, url string) int { return writeCalls(simStats(t, url)) }

// writeCalls adds up the calls that change state, by verb.
func writeCalls(stats map[string]int) int {
	n := 0
	for op, calls := range stats {
		name := op[strings.Index(op, ":")+1:]
		for _, verb := range []string{"Modify", "Update", "Set", "Put", "Create", "Delete", "Stop", "Continue", "Publish", "Register", "Add", "Remove"} {
			if strings.HasPrefix(name, verb) {
				n += calls
				break
			}
		}
	}
	return n
}

// simStats reads GET /_sim/stats, as any client of the simulator can.
func simStats(t testing.TB, url string) map[string]int {
	t.Helper()
	res, err := http.Get(url + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Calls map[string]int `json:"calls"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Calls
}

func resetSimStats(t testing.TB, url string) {
	t.Helper()
	res, err := http.Post(url+"/_sim/stats/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

func (c *cliEnv) target(t *testing.T, name string) sim.ManifestTarget { return c.sim.Target(t, name) }

// awsCLI runs the AWS CLI on PATH against the simulator, as
// "aws SERVICE ARGS...", and decodes its JSON output.
func (c *cliEnv) awsCLI(t *testing.T, out any, service string, args ...string) {
	t.Helper()
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the AWS CLI is not on PATH, and CI=true requires this test to run")
		}
		t.Skip("the AWS CLI is not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, awsCLI, append([]string{"--endpoint-url", c.sim.URL, "--region", "us-east-1", "--output", "json",
		"--cli-connect-timeout", "5", "--cli-read-timeout", "20", service}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "AWS_PAGER=",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials")}
	if root := os.Getenv("PYENV_ROOT"); root != "" {
		cmd.Env = append(cmd.Env, "PYENV_ROOT="+root)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws %s %s: %v\n%s", service, strings.Join(args, " "), err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("aws %s %s: not JSON: %v\n%s", service, args[0], err, stdout.String())
	}
}

func TestStatusJSON(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	rule := c.sim.Manifest.Targets[0].RuleARN
	code, out, errOut := c.perch(t, "status", "--json", "--rule-arn", rule)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var st map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, key := range []string{"target", "split", "metrics", "alarms", "fetched_at"} {
		if _, ok := st[key]; !ok {
			t.Errorf("status JSON lacks %q", key)
		}
	}
	var parsed status
	if err := json.Unmarshal([]byte(out), &parsed); err != nil {
		t.Fatal(err)
	}
	if parsed.Split.StablePercent != 90 || parsed.Split.CanaryPercent != 10 {
		t.Errorf("split %+v", parsed.Split)
	}
	if parsed.Target.RuleARN != rule || parsed.Target.Kind != "alb" {
		t.Errorf("target %+v", parsed.Target)
	}
	if parsed.Metrics["stable"].Requests == 0 || parsed.Metrics["canary"].Requests == 0 {
		t.Errorf("no requests in the window: %+v", parsed.Metrics)
	}
	if c.writes() != 0 {
		t.Errorf("status wrote: %v", c.sim.Sim.Stats())
	}
}

func TestShiftRollbackAndAuditVerify(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	rule := c.sim.Manifest.Targets[0].RuleARN
	if code, out, errOut := c.perch(t, "shift", "--to", "25", "--rule-arn", rule, "--reason", "bake looks good"); code != 0 || !strings.Contains(out, "canary 25% (verified)") {
		t.Fatalf("shift: exit %d\n%s%s", code, out, errOut)
	}
	_, out, _ := c.perch(t, "status", "--json", "--rule-arn", rule)
	var st status
	json.Unmarshal([]byte(out), &st)
	if st.Split.CanaryPercent != 25 {
		t.Fatalf("status after shift: %+v", st.Split)
	}
	// A stale expectation is refused and writes nothing.
	before := c.writes()
	code, _, errOut := c.perch(t, "promote", "--expect", "10", "--rule-arn", rule)
	if code != ExitRefused || !strings.Contains(errOut, "changed since you looked") || c.writes() != before {
		t.Fatalf("promote on a stale --expect: exit %d %q, writes %d→%d", code, errOut, before, c.writes())
	}
	if code, out, errOut := c.perch(t, "rollback", "--rule-arn", rule); code != 0 || !strings.Contains(out, "canary 0%") {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	log := filepath.Join(c.state, "perch", "audit.jsonl")
	code, out, errOut = c.run(t, "audit", "verify", log)
	if code != 0 || !strings.Contains(out, "ok, 5 entries") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}

	// Change one byte of the first entry: verify fails and names it.
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(data, []byte(`"to_percent":25`), []byte(`"to_percent":26`), 1)
	if bytes.Equal(tampered, data) {
		t.Fatal("test setup: nothing to tamper with")
	}
	if err := os.WriteFile(log, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = c.run(t, "audit", "verify", log)
	if code == 0 || !strings.Contains(errOut, "entry 1") {
		t.Fatalf("tampered log: exit %d %q", code, errOut)
	}
}

func TestBadInputIsRefusedWithAShortErrorAndNoWrite(t *testing.T) {
	c := newCLIEnv(t, "bad-targets")
	good := c.target(t, "odd").RuleARN
	unknown := strings.TrimSuffix(good, good[len(good)-16:]) + "0123456789abcdef"
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown rule", []string{"status", "--rule-arn", unknown}, ExitUsage, "not found"},
		{"malformed ARN", []string{"status", "--rule-arn", "arn:aws:nope"}, ExitUsage, "malformed"},
		{"not an ARN", []string{"shift", "--to", "5", "--rule-arn", "checkout"}, ExitUsage, "checkout"},
		{"one target group", []string{"shift", "--to", "5", "--rule-arn", c.target(t, "odd-single-tg").RuleARN}, ExitUsage, "1 target group"},
		{"three target groups", []string{"shift", "--to", "5", "--rule-arn", c.target(t, "odd-three-tg").RuleARN}, ExitUsage, "3 target groups"},
		{"redirect rule", []string{"rollback", "--rule-arn", c.target(t, "odd-redirect").RuleARN}, ExitUsage, "redirect"},
		{"fixed-response listener", []string{"rollback", "--listener-arn", c.target(t, "odd-fixed-response").ListenerARN}, ExitUsage, "fixed-response"},
		{"both target flags", []string{"status", "--rule-arn", good, "--listener-arn", c.target(t, "odd").ListenerARN}, ExitUsage, "exactly one"},
		{"no target flag", []string{"rollback"}, ExitUsage, "exactly one"},
		{"percent out of range", []string{"shift", "--to", "150", "--rule-arn", good}, ExitUsage, "0-100"},
		{"bad ladder", []string{"status", "--ladder", "0,50,10", "--rule-arn", good}, ExitUsage, "increase"},
		{"bad poll", []string{"status", "--poll", "0s", "--rule-arn", good}, ExitUsage, "--poll"},
		{"unknown canary group", []string{"shift", "--to", "5", "--rule-arn", good, "--canary-target-group", "nope"}, ExitUsage, "nope"},
		{"unknown flag", []string{"shift", "--too", "5"}, ExitUsage, "unknown flag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := c.perch(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want %d; stderr %q should mention %q", code, tc.code, errOut, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(errOut), "\n"); lines > 0 {
				t.Errorf("error is %d lines, want one: %q", lines+1, errOut)
			}
		})
	}
	if n := c.writes(); n != 0 {
		t.Fatalf("bad input caused %d writes: %v", n, c.sim.Sim.Stats())
	}
}

func TestNoRegionAndUnreachableEndpoint(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	rule := c.sim.Manifest.Targets[0].RuleARN
	code, _, errOut := c.run(t, "status", "--rule-arn", rule, "--endpoint-url", c.sim.URL)
	if code != ExitFailure || !strings.Contains(errOut, "no AWS region") {
		t.Fatalf("no region: exit %d %q", code, errOut)
	}
	code, _, errOut = c.run(t, "ls", "--endpoint-url", c.sim.URL)
	if code != ExitFailure || !strings.Contains(errOut, "no AWS region") {
		t.Fatalf("ls with no region: exit %d %q", code, errOut)
	}
	code, _, errOut = c.run(t, "rollback", "--rule-arn", rule, "--endpoint-url", "http://127.0.0.1:1", "--region", "us-east-1")
	if code == 0 || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Fatalf("refused endpoint: exit %d %q", code, errOut)
	}
	code, _, errOut = c.run(t, "status", "--rule-arn", rule, "--endpoint-url", "ftp://x", "--region", "us-east-1")
	if code != ExitUsage || !strings.Contains(errOut, "endpoint URL") {
		t.Fatalf("bad endpoint URL: exit %d %q", code, errOut)
	}
	if c.writes() != 0 {
		t.Fatal("wrote")
	}
}

func TestReadOnlyShiftIsRefused(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	code, _, errOut := c.perch(t, "shift", "--to", "50", "--read-only", "--rule-arn", c.sim.Manifest.Targets[0].RuleARN)
	if code != ExitRefused || !strings.Contains(errOut, "read-only") || c.writes() != 0 {
		t.Fatalf("exit %d %q writes %d", code, errOut, c.writes())
	}
}

func TestVersion(t *testing.T) {
	c := &cliEnv{}
	code, out, _ := c.run(t, "version")
	if code != 0 || !strings.Contains(out, "perch dev") || !strings.Contains(out, "commit") {
		t.Fatalf("%d %q", code, out)
	}
}

// TestCrashBetweenIntentAndOutcomeIsReconciled writes an intent with no
// outcome, as a perch killed mid-shift leaves, and checks the next start
// records what really happened and leaves a log that verifies.
func TestCrashBetweenIntentAndOutcomeIsReconciled(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	target := c.sim.Manifest.Targets[0]
	path := filepath.Join(c.state, "perch", "audit.jsonl")
	log, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Append(model.AuditEntry{
		Time: time.Now().Add(-5 * time.Minute), Actor: model.Actor{OSUser: "ana", Via: "cockpit"},
		Target: target.RuleARN, Action: "shift", Phase: model.PhaseIntent,
		From: model.Pct(10), To: model.Pct(50),
	}); err != nil {
		t.Fatal(err)
	}
	log.Close()
	if code, _, errOut := c.perch(t, "status", "--rule-arn", target.RuleARN); code != 0 {
		t.Fatalf("status: %d %s", code, errOut)
	}
	entries, err := audit.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[1].IntentSeq != 1 || entries[1].Outcome != model.OutcomeFailed ||
		!strings.Contains(entries[1].Detail, "did not take effect") {
		t.Fatalf("reconciliation entries: %+v", entries)
	}
	if len(audit.PendingIntents(entries)) != 0 {
		t.Fatal("intent still open after reconciliation")
	}
	if _, err := audit.Verify(path); err != nil {
		t.Fatal(err)
	}
}

// The AWS CLI v1 ignores AWS_REGION; perch sim's export lines must work
// for it as printed.
func TestSimEnvWorksForTheAWSCLIv1(t *testing.T) {
	var b bytes.Buffer
	printSimEnv(&b, sim.Manifest{Endpoint: "http://127.0.0.1:4566", Region: "us-east-1"})
	for _, want := range []string{"export AWS_ENDPOINT_URL=http://127.0.0.1:4566\n", "export AWS_REGION=us-east-1\n", "export AWS_DEFAULT_REGION=us-east-1\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("perch sim prints no %q:\n%s", want, b.String())
		}
	}
}
