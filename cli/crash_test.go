package cli

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perch-dev/perch/audit"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// buildPerch builds the perch binary into a temporary directory.
func buildPerch(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the perch binary")
	}
	bin := filepath.Join(t.TempDir(), "perch")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "github.com/perch-dev/perch")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// processEnv is a child perch's whole environment: static test
// credentials, no shared AWS files, state under dir.
func processEnv(dir string, extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_STATE_HOME=" + dir,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-credentials"),
	}, extra...)
}

// TestKill9LosesNoAcknowledgedEntry runs the built perch doing headless
// shifts and kills it with SIGKILL at seeded random moments, most of them
// inside the write (ModifyRule is slowed down to widen that window).
// After every kill the log verifies, everything written before is still
// there byte for byte, and the next `perch status` closes any intent the
// dead process left open with what really happened.
func TestKill9LosesNoAcknowledgedEntry(t *testing.T) {
	bin := buildPerch(t)
	env := simtest.Start(t, simtest.Options{Options: sim.Options{Clock: clock.Real{}}})
	const writeLatency = 300 * time.Millisecond
	if err := env.Sim.InjectFault(sim.Fault{Service: "elbv2", Operation: "ModifyRule", Latency: sim.Duration(writeLatency), Times: -1}); err != nil {
		t.Fatal(err)
	}
	rule, canary := env.Manifest.Targets[0].RuleARN, env.Manifest.Targets[0].CanaryTargetGroupARN
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	perch := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append(args, "--rule-arn", rule, "--canary-target-group", canary, "--endpoint-url", env.URL, "--region", "us-east-1",
			"--audit-log", path, "--log-file", filepath.Join(dir, "perch.log"))...)
		cmd.Env = processEnv(dir)
		return cmd
	}

	// One shift left to finish shows how long a whole run takes here.
	began := time.Now()
	if out, err := perch("shift", "--to", "20").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted shift: %v\n%s", err, out)
	}
	whole := time.Since(began)
	prev, err := audit.ReadAll(path)
	if err != nil || len(prev) != 2 {
		t.Fatalf("after one shift: %d entries, %v", len(prev), err)
	}

	rng := rand.New(rand.NewPCG(6, 9))
	const kills = 20
	midWrite, finished := 0, 0
	for i := range kills {
		pct := []string{"5", "35", "50", "10"}[i%4]
		cmd := perch("shift", "--to", pct, "--reason", "kill test")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Anywhere from the start to a little past a whole run.
		delay := time.Duration(rng.Int64N(int64(whole * 6 / 5)))
		timer := time.NewTimer(delay)
		acknowledged := false
		select {
		case err := <-done:
			timer.Stop()
			finished++
			// "nothing to do" is verified too, and rightly writes nothing.
			acknowledged = err == nil && strings.Contains(out.String(), "(verified)") && !strings.Contains(out.String(), "nothing to do")
		case <-timer.C:
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}

		if _, err := audit.Verify(path); err != nil {
			t.Fatalf("kill %d after %s: the log does not verify: %v", i, delay, err)
		}
		entries, err := audit.ReadAll(path)
		if err != nil {
			t.Fatal(err)
		}
		samePrefix(t, i, prev, entries)
		if acknowledged && (len(entries) < len(prev)+2 || entries[len(entries)-1].Phase != model.PhaseOutcome) {
			t.Fatalf("run %d said verified but its outcome is not in the log", i)
		}
		if len(audit.PendingIntents(entries)) > 0 {
			midWrite++
		}

		// The next start reconciles what the killed one left open.
		st := perch("status", "--reconcile-after", "0s")
		if out, err := st.CombinedOutput(); err != nil {
			t.Fatalf("status after kill %d: %v\n%s", i, err, out)
		}
		after, err := audit.ReadAll(path)
		if err != nil {
			t.Fatal(err)
		}
		samePrefix(t, i, entries, after)
		if open := audit.PendingIntents(after); len(open) > 0 {
			t.Fatalf("after kill %d and a restart, %d intents are still open: %+v", i, len(open), open)
		}
		for _, e := range after[len(entries):] {
			if e.Actor.Via != "reconcile" || e.Phase != model.PhaseOutcome || !strings.Contains(e.Detail, "reconciled after a restart") {
				t.Fatalf("unexpected entry from status after kill %d: %+v", i, e)
			}
		}
		prev = after
	}
	if _, err := audit.Verify(path); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d runs: %d killed mid-write and reconciled, %d killed elsewhere, %d finished; %d entries", kills, midWrite, kills-finished-midWrite, finished, len(prev))
	if midWrite == 0 {
		t.Fatalf("no kill landed between an intent and its outcome: the test did not test crash recovery")
	}
}

// samePrefix: nothing already in the log changed or went missing.
func samePrefix(t *testing.T, round int, before, after []model.AuditEntry) {
	t.Helper()
	if len(after) < len(before) {
		t.Fatalf("round %d: the log shrank from %d to %d entries", round, len(before), len(after))
	}
	for j := range before {
		if before[j].Hash != after[j].Hash {
			t.Fatalf("round %d: entry %d changed", round, j+1)
		}
	}
}
