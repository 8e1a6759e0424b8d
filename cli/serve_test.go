package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perch-dev/perch/audit"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/pair"
	"github.com/perch-dev/perch/pair/pairtest"
	"github.com/perch-dev/perch/record"
)

// syncBuffer is an io.Writer safe to read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type serveRig struct {
	c         *cliEnv
	addr      string
	hostKey   *pair.AuthorizedKey
	auditPath string
	recPath   string
	out       *syncBuffer
	stop      func()
}

// startServe runs perch serve's own function in-process against the
// simulator, listening on 127.0.0.1:0, and returns once it listens.
func startServe(t *testing.T, keys ...pairtest.Key) *serveRig {
	t.Helper()
	return startServeWithPlan(t, "", keys...)
}

// startServeWithPlan is startServe with the autopilot running plan.
func startServeWithPlan(t *testing.T, plan string, keys ...pairtest.Key) *serveRig {
	t.Helper()
	c := newCLIEnv(t, "healthy")
	dir := t.TempDir()
	authPath := filepath.Join(dir, "authorized_keys")
	pairtest.WriteAuthorizedKeys(t, authPath, keys...)
	hostPath := filepath.Join(dir, "state", "host_key")
	auditPath := filepath.Join(dir, "audit.jsonl")
	recPath := filepath.Join(dir, "session.perch.gz")
	g := &globalFlags{endpointURL: c.sim.URL, region: "us-east-1", poll: 10 * time.Second, auditLog: auditPath}
	tf := &targetFlags{ruleARN: c.sim.Manifest.Targets[0].RuleARN, ladder: "0,1,5,10,25,50,100", plan: plan}

	ctx, cancel := context.WithCancel(context.Background())
	addrCh := make(chan net.Addr, 1)
	errCh := make(chan error, 1)
	out := &syncBuffer{}
	go func() {
		errCh <- runServe(ctx, g, tf, serveOptions{
			addr: "127.0.0.1:0", authorizedKeys: authPath, hostKey: hostPath, handOverIdle: time.Minute, record: recPath,
			ready: func(a net.Addr) { addrCh <- a },
		}, out)
	}()
	var addr net.Addr
	select {
	case addr = <-addrCh:
	case err := <-errCh:
		cancel()
		t.Fatalf("perch serve ended before listening: %v", err)
	case <-time.After(15 * time.Second):
		cancel()
		t.Fatal("perch serve did not listen within 15s")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-errCh:
			if err != nil {
				t.Errorf("perch serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("perch serve did not stop within 15s of its context ending")
		}
	}
	t.Cleanup(stop)
	host, err := pair.LoadOrCreateHostKey(hostPath)
	if err != nil {
		t.Fatal(err)
	}
	return &serveRig{c: c, addr: addr.String(), hostKey: &pair.AuthorizedKey{Key: host.PublicKey()}, auditPath: auditPath, recPath: recPath, out: out, stop: stop}
}

func (r *serveRig) dial(t *testing.T, user string, k pairtest.Key) *pairtest.Client {
	t.Helper()
	cl, err := pairtest.Dial(r.addr, user, k.Signer, r.hostKey.Key, 200, 50)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// modifyRules reads the simulator's ModifyRule count over its HTTP stats
// endpoint, as any observer could.
func (r *serveRig) modifyRules(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(r.c.sim.URL + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var stats struct {
		Calls map[string]int `json:"calls"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		t.Fatalf("decode /_sim/stats: %v", err)
	}
	return stats.Calls["elbv2:ModifyRule"]
}

func TestServeTwoViewersOneDriver(t *testing.T) {
	ana, bob, eve := pairtest.NewKey(t, "ana@laptop"), pairtest.NewKey(t, "bob@laptop"), pairtest.NewKey(t, "eve@elsewhere")
	r := startServe(t, ana, bob)
	if !strings.Contains(r.out.String(), "ssh -p ") {
		t.Errorf("serve did not print how to connect:\n%s", r.out.String())
	}

	driver := r.dial(t, "ana", ana)
	driver.Expect(t, "▶ ana (you) drives")
	driver.Expect(t, "canary 10%")
	watcher := r.dial(t, "bob", bob)
	s := watcher.Expect(t, "▶ ana drives · watching: bob (you)")
	watcher.Expect(t, "canary 10%")
	driver.Expect(t, "watching: bob")
	// The watcher's help offers D and no write key at all.
	if !strings.Contains(s, "D ask for the wheel") || strings.Contains(s, "+/- step") || strings.Contains(s, "roll back") {
		t.Errorf("watcher's help bar should offer D and no write keys:\n%s", lastLine(s))
	}

	before := r.modifyRules(t)
	if err := driver.Type("+"); err != nil {
		t.Fatal(err)
	}
	watcher.Expect(t, "canary 25%")
	driver.Expect(t, "shift finished: ok, verified (canary 25%)")
	if n := r.modifyRules(t); n != before+1 {
		t.Fatalf("driver's + made %d ModifyRule calls, want 1", n-before)
	}

	// The watcher's + is answered on its own screen and changes nothing.
	if err := watcher.Type("+"); err != nil {
		t.Fatal(err)
	}
	watcher.Expect(t, "watching: ana drives; press D to ask for the wheel")
	if n := r.modifyRules(t); n != before+1 {
		t.Fatalf("watcher's + made %d ModifyRule calls, want none", n-before-1)
	}

	// A key that is not in the authorized file never gets a session.
	if cl, err := pairtest.Dial(r.addr, "eve", eve.Signer, r.hostKey.Key, 80, 24); err == nil {
		cl.Close()
		t.Fatal("a key not in --authorized-keys was let in")
	} else if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("unknown key: want an authentication failure, got %v", err)
	}
	// Nor does a listed key under another name get past the key check:
	// the user name is free, the key is what is checked.
	if cl, err := pairtest.Dial(r.addr, "ana", eve.Signer, r.hostKey.Key, 80, 24); err == nil {
		cl.Close()
		t.Fatal("an unknown key was let in as ana")
	}

	// Hand-over: bob asks, ana sees the prompt and hands over with D.
	if err := watcher.Type("D"); err != nil {
		t.Fatal(err)
	}
	watcher.Expect(t, "asked ana for the wheel")
	driver.Expect(t, "bob asks for the wheel: D hand over")
	if err := driver.Type("D"); err != nil {
		t.Fatal(err)
	}
	watcher.Expect(t, "▶ bob (you) drives · watching: ana")
	driver.Expect(t, "▶ bob drives · watching: ana (you)")
	if err := watcher.Type("-"); err != nil {
		t.Fatal(err)
	}
	watcher.Expect(t, "shift finished: ok, verified (canary 10%)")
	driver.Expect(t, "stable 90%")
	if n := r.modifyRules(t); n != before+2 {
		t.Fatalf("after the hand-over: %d ModifyRule calls, want 2", n-before)
	}

	// Every action names the SSH user and key that made it.
	r.stop()
	entries, err := audit.ReadAll(r.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Phase == model.PhaseOutcome && e.Action == "shift" {
			got = append(got, e.Actor.OSUser+" "+e.Actor.Via+" "+model.FormatPercent(*e.To))
		}
	}
	want := []string{
		"ana ssh:ana " + ana.Fingerprint() + " 25%",
		"bob ssh:bob " + bob.Fingerprint() + " 10%",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit outcomes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// --record saw the same session: both actions, as the SSH users.
	rec, err := record.Open(r.recPath)
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, a := range rec.Actions {
		if a.Result != nil {
			got = append(got, a.Intent.Actor.OSUser+" "+a.Intent.Actor.Via+" "+model.FormatPercent(a.Result.To.CanaryPercent()))
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("recorded actions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if last := rec.Snapshot(len(rec.Frames) - 1); last.Split.CanaryPercent() != 10 {
		t.Errorf("the recording's last frame has canary at %v, want 10", last.Split.CanaryPercent())
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
