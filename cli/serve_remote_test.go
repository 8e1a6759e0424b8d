package cli

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/pair/pairtest"
)

func TestBeyondLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:2222": false, "127.8.9.1:2222": false, "[::1]:2222": false, "localhost:2222": false,
		"0.0.0.0:2222": true, "[::]:2222": true, ":2222": true, "10.1.2.3:2222": true, "example.com:22": true,
	} {
		got, err := beyondLoopback(addr)
		if err != nil || got != want {
			t.Errorf("beyondLoopback(%q) = %v, %v; want %v", addr, got, err, want)
		}
	}
	if _, err := beyondLoopback("2222"); err == nil {
		t.Error("an address without a host:port was accepted")
	}
}

func TestConnectLineNamesAReachableHost(t *testing.T) {
	host := func() (string, error) { return "build-box", nil }
	noHost := func() (string, error) { return "", errors.New("no name") }
	for _, tc := range []struct {
		addr string
		name func() (string, error)
		want string
	}{
		{"127.0.0.1:2222", host, "ssh -p 2222 -i KEY 127.0.0.1"},
		{"[::1]:2222", host, "ssh -p 2222 -i KEY ::1"},
		{"0.0.0.0:2222", host, "ssh -p 2222 -i KEY build-box (or any address of this machine)"},
		{"[::]:2222", host, "ssh -p 2222 -i KEY build-box (or any address of this machine)"},
		{"[::]:2222", noHost, "ssh -p 2222 -i KEY HOST (or any address of this machine)"},
	} {
		a, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := connectLine(a, tc.name); got != tc.want {
			t.Errorf("connectLine(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// Listening beyond loopback takes --allow-remote; with it, perch serve
// warns and prints a connect line that works (before: no warning, and
// "ssh -p PORT -i KEY ::").
func TestServeBeyondLoopbackNeedsAllowRemote(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	dir := t.TempDir()
	auth := filepath.Join(dir, "authorized_keys")
	pairtest.WriteAuthorizedKeys(t, auth, pairtest.NewKey(t, "ana"))
	rule := c.sim.Manifest.Targets[0].RuleARN
	code, out, errOut := c.perch(t, "serve", "--ssh", "0.0.0.0:0", "--authorized-keys", auth, "--rule-arn", rule)
	if code != ExitUsage || !strings.Contains(errOut, "--allow-remote") || out != "" {
		t.Fatalf("0.0.0.0 without --allow-remote: exit %d\n%s%s", code, out, errOut)
	}

	g := &globalFlags{endpointURL: c.sim.URL, region: "us-east-1", poll: 10 * time.Second, callTimeout: 10 * time.Second,
		auditLog: filepath.Join(dir, "audit.jsonl")}
	tf := &targetFlags{ruleARN: rule, ladder: "0,1,5,10,25,50,100"}
	ctx, cancel := context.WithCancel(context.Background())
	out2 := &syncBuffer{}
	done := make(chan error, 1)
	ready := make(chan net.Addr, 1)
	go func() {
		done <- runServe(ctx, g, tf, serveOptions{addr: "0.0.0.0:0", allowRemote: true, authorizedKeys: auth,
			hostKey: filepath.Join(dir, "host_key"), handOverIdle: time.Minute, ready: func(a net.Addr) { ready <- a }}, out2)
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve --allow-remote: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve --allow-remote did not listen")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := out2.String()
	if !strings.Contains(s, "warning: listening beyond loopback") || !strings.Contains(s, "(or any address of this machine)") ||
		strings.Contains(s, " -i KEY :: ") || strings.Contains(s, " -i KEY 0.0.0.0") {
		t.Errorf("serve output:\n%s", s)
	}
}
