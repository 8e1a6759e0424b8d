package cli

import (
	"bufio"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perch-dev/perch/audit"
	"github.com/perch-dev/perch/pair"
	"github.com/perch-dev/perch/pair/pairtest"
	"github.com/perch-dev/perch/record"
)

// The built perch serve, with a viewer connected (one that just asked for
// a giant window): SIGTERM and SIGINT stop the server, end the viewer's
// session, stop the engine and finish the recording, and the process
// exits 0 within seconds.
func TestServeStopsCleanlyOnSignal(t *testing.T) {
	bin := buildPerch(t)
	c := newCLIEnv(t, "healthy")
	rule := c.sim.Manifest.Targets[0].RuleARN
	addrRE := regexp.MustCompile(`on ssh://(127\.0\.0\.1:\d+)`)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			key := pairtest.NewKey(t, "ana")
			auth := filepath.Join(dir, "authorized_keys")
			pairtest.WriteAuthorizedKeys(t, auth, key)
			rec := filepath.Join(dir, "session.perch.gz")
			cmd := exec.Command(bin, "serve", "--ssh", "127.0.0.1:0", "--authorized-keys", auth, "--rule-arn", rule,
				"--endpoint-url", c.sim.URL, "--region", "us-east-1", "--record", rec, "--poll", "1s")
			cmd.Env = processEnv(dir)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			lines := make(chan string, 64)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
				exited <- cmd.Wait()
			}()
			t.Cleanup(func() { cmd.Process.Kill() })
			var addr string
			for addr == "" {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatal("perch serve exited before listening")
					}
					if m := addrRE.FindStringSubmatch(l); m != nil {
						addr = m[1]
					}
				case <-time.After(60 * time.Second):
					t.Fatal("perch serve did not listen within 60s")
				}
			}
			host, err := pair.LoadOrCreateHostKey(filepath.Join(dir, "perch", "ssh_host_ed25519_key"))
			if err != nil {
				t.Fatal(err)
			}
			viewer, err := pairtest.Dial(addr, "ana", key.Signer, host.PublicKey(), 120, 40)
			if err != nil {
				t.Fatal(err)
			}
			defer viewer.Close()
			viewer.Expect(t, "ana (you) drives")
			if err := viewer.Resize(80000, 24000); err != nil {
				t.Fatal(err)
			}

			start := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			var rest []string
			for l := range lines {
				rest = append(rest, l)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("perch serve exited with %v after %v; output:\n%s", err, time.Since(start), strings.Join(rest, "\n"))
				}
			case <-time.After(30 * time.Second):
				t.Fatal("perch serve still running 30s after the signal")
			}
			took := time.Since(start)
			t.Logf("%v: stopped %v after the signal", sig, took.Round(time.Millisecond))
			if !strings.Contains(strings.Join(rest, "\n"), "perch serve: stopped") {
				t.Errorf("no stop line; output after the signal:\n%s", strings.Join(rest, "\n"))
			}
			select {
			case <-viewer.Done():
			case <-time.After(10 * time.Second):
				t.Error("the viewer's session is still open after perch serve exited")
			}
			r, err := record.Open(rec)
			if err != nil || r.Truncated {
				t.Errorf("the recording was not finished: %v (truncated %v)", err, r != nil && r.Truncated)
			}
			if _, err := audit.Verify(filepath.Join(dir, "perch", "audit.jsonl")); err != nil {
				t.Errorf("audit log: %v", err)
			}
			// Nothing listens any more.
			if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				conn.Close()
				t.Error("the SSH port still accepts connections")
			}
		})
	}
}
