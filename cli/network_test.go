package cli

import (
	"bytes"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// perch status against an endpoint that accepts connections and never
// answers: opening the target has a deadline like every poll does, so the
// command ends with exit 1 and says why instead of hanging until killed.
func TestStatusAgainstASilentEndpointEndsAtItsDeadline(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, conn := range held {
				conn.Close()
			}
		}()
		for range 64 {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, conn)
		}
	}()
	rule := c.sim.Manifest.Targets[0].RuleARN
	for _, args := range [][]string{
		{"status", "--rule-arn", rule},
		{"status", "--function", "checkout", "--alias", "live"},
		{"status", "--deployment-id", "d-ABCDEF123"},
	} {
		start := time.Now()
		code, _, errOut := c.run(t, append(args, "--endpoint-url", "http://"+ln.Addr().String(), "--region", "us-east-1", "--call-timeout", "1s")...)
		took := time.Since(start)
		if code != ExitFailure || !strings.Contains(errOut, "timed out") {
			t.Errorf("%s: exit %d after %v, stderr %q", args[1], code, took.Round(time.Millisecond), errOut)
		}
		// The deadline is 1s per call; generous room for a loaded machine.
		if took > 10*time.Second {
			t.Errorf("%s against a silent endpoint took %v with a 1s call timeout", args[1], took)
		}
	}
	if code, _, errOut := c.perch(t, "status", "--rule-arn", rule, "--call-timeout", "0s"); code != ExitUsage {
		t.Errorf("--call-timeout 0s: exit %d %q", code, errOut)
	}
}

// Lines written through the standard library's log package (net/http's
// transport writes "Unsolicited response received on idle HTTP channel"
// there) must not reach stderr, where the cockpit draws, while perch
// runs: they go to perch's diagnostic log.
func TestStandardLibraryLogLinesGoToTheLogFile(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	var leaked bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&leaked)
	defer log.SetOutput(prev)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// What a library inside perch does when something odd happens.
		log.Printf("Unsolicited response received on idle HTTP channel starting with %q", "HTTP/1.1 200 OK")
		c.sim.Sim.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	logFile := filepath.Join(t.TempDir(), "perch.log")
	code, out, errOut := c.run(t, "status", "--rule-arn", c.sim.Manifest.Targets[0].RuleARN,
		"--endpoint-url", srv.URL, "--region", "us-east-1", "--log-file", logFile)
	if code != 0 {
		t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
	}
	if leaked.Len() > 0 || strings.Contains(errOut, "Unsolicited") {
		t.Fatalf("log package output escaped to the terminal: %q %q", leaked.String(), errOut)
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "go log: Unsolicited response received on idle HTTP channel") {
		t.Fatalf("the line is not in perch's log:\n%s", b)
	}
}
