package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startPerchSim runs the built `perch sim` with args and returns its
// endpoint and the ready-to-paste `perch alb` arguments it printed.
func startPerchSim(t *testing.T, bin string, args ...string) (endpoint string, albArgs []string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin, append([]string{"sim", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = processEnv(dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("perch sim exited before arming its faults")
			}
			if v, ok := strings.CutPrefix(line, "export AWS_ENDPOINT_URL="); ok {
				endpoint = v
			}
			if v, ok := strings.CutPrefix(line, "perch alb "); ok && albArgs == nil {
				albArgs = strings.Fields(v)
			}
			if strings.HasPrefix(line, "# fault armed:") {
				go func() { // keep draining so the child never blocks on stdout
					for range lines {
					}
				}()
				if endpoint == "" || albArgs == nil {
					t.Fatal("perch sim printed no endpoint or no ALB target")
				}
				return endpoint, albArgs
			}
		case <-deadline:
			t.Fatal("perch sim did not report its faults within 30s")
		}
	}
}

// TestStatusJSONUnderThrottledCloudWatch: `perch status --json` against
// `perch sim --fault throttle:cloudwatch:0.5` succeeds, every time, with
// fresh metrics and alarms: the adaptive retryer absorbs the throttles.
func TestStatusJSONUnderThrottledCloudWatch(t *testing.T) {
	bin := buildPerch(t)
	endpoint, albArgs := startPerchSim(t, bin, "--scenario", "healthy", "--fault", "throttle:cloudwatch:0.5")
	c := newCLIEnv(t, "healthy")
	// The retryer's own default, not the harness's two attempts.
	t.Setenv("AWS_MAX_ATTEMPTS", "")
	os.Unsetenv("AWS_MAX_ATTEMPTS")

	for run := 1; ; run++ {
		args := append([]string{"status", "--json"}, albArgs...)
		code, out, errOut := c.run(t, append(args, "--endpoint-url", endpoint, "--region", "us-east-1")...)
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s", run, code, errOut)
		}
		var st status
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("run %d: not JSON: %v\n%s", run, err, out)
		}
		if !st.Split.Known || len(st.Errors) > 0 || st.Metrics["canary"].Requests == 0 || len(st.Alarms) == 0 {
			t.Fatalf("run %d: split known %v, errors %v, canary requests %v, %d alarms", run, st.Split.Known, st.Errors,
				st.Metrics["canary"].Requests, len(st.Alarms))
		}
		// Each run asks CloudWatch twice (metrics, alarms): more calls
		// than that means throttles were met and retried through.
		calls := cloudWatchCalls(t, endpoint)
		if calls > 2*run {
			t.Logf("%d runs, %d CloudWatch calls: throttles retried away", run, calls)
			return
		}
		if run == 5 {
			t.Fatalf("5 runs, %d CloudWatch calls: no throttle was met, so the test proves nothing", calls)
		}
	}
}

func cloudWatchCalls(t *testing.T, endpoint string) int {
	t.Helper()
	n := 0
	for op, calls := range simStats(t, endpoint) {
		if strings.HasPrefix(op, "cloudwatch:") {
			n += calls
		}
	}
	return n
}
