package pair_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/pair"
	"github.com/perch-dev/perch/pair/pairtest"
)

// staticEngine serves one snapshot; Execute moves the split and publishes.
type staticEngine struct {
	mu   sync.Mutex
	snap model.Snapshot
	subs []chan model.Snapshot
}

func newStatic() *staticEngine {
	now := time.Date(2026, 11, 26, 7, 30, 0, 0, time.UTC)
	return &staticEngine{snap: model.Snapshot{
		Seq: 1, Now: now,
		Target:     model.Target{Kind: model.KindALB, Name: "checkout", Region: "us-east-1"},
		Ladder:     model.DefaultLadder(),
		Split:      model.Split{StableID: "s", CanaryID: "c", StableWeight: 90, CanaryWeight: 10},
		SplitKnown: true, SplitAt: now, MetricsAt: now,
	}}
}

func (e *staticEngine) Snapshot() model.Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.snap
}

func (e *staticEngine) Subscribe() (<-chan model.Snapshot, func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch := make(chan model.Snapshot, 1)
	ch <- e.snap
	e.subs = append(e.subs, ch)
	return ch, func() {}
}

func (e *staticEngine) Execute(_ context.Context, in model.Intent) model.Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	to, err := in.Target(e.snap.Split, e.snap.Ladder)
	if err != nil {
		return model.Result{Intent: in, Outcome: model.OutcomeRefused, Err: err.Error()}
	}
	from := e.snap.Split
	e.snap.Seq++
	e.snap.Split = from.WithCanaryPercent(to)
	res := model.Result{Intent: in, Outcome: model.OutcomeOK, From: from, To: e.snap.Split, Verified: true}
	e.snap.Last = &res
	for _, ch := range e.subs {
		select {
		case <-ch:
		default:
		}
		ch <- e.snap
	}
	return res
}

type rig struct {
	addr string
	host gossh.PublicKey
	srv  *pair.Server
}

func serve(t *testing.T, eng *staticEngine, max int, keys ...pairtest.Key) *rig {
	t.Helper()
	return serveWith(t, eng, pair.Config{Clock: clock.NewManual(eng.snap.Now), MaxSessions: max}, keys...)
}

func (r *rig) dial(t *testing.T, user string, k pairtest.Key, term string, w, h int) *pairtest.Client {
	t.Helper()
	c, err := pairtest.DialTerm(r.addr, user, k.Signer, r.host, term, w, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestEachViewerGetsItsOwnSizeAndColours(t *testing.T) {
	ana, bob := pairtest.NewKey(t, "ana"), pairtest.NewKey(t, "bob")
	r := serve(t, newStatic(), 0, ana, bob)
	wide := r.dial(t, "ana", ana, "xterm-256color", 200, 50)
	// ana's session must start first for her to drive: wait for it.
	wide.Expect(t, "ana (you) drives")
	narrow := r.dial(t, "bob", bob, "dumb", 80, 24)
	ws := wide.Expect(t, "watching: bob")
	ns := narrow.Expect(t, "watching: bob (you)")

	// Each screen is laid out for its own terminal: the help bar is on
	// its last line.
	if lines := strings.Split(ws, "\n"); len(lines) != 50 || !strings.Contains(lines[49], "q quit") {
		t.Errorf("200x50 viewer: help bar not on line 50:\n%s", ws)
	}
	if lines := strings.Split(ns, "\n"); len(lines) != 24 || !strings.Contains(lines[23], "q quit") {
		t.Errorf("80x24 viewer: help bar not on line 24:\n%s", ns)
	}
	// xterm-256color gets colours; a dumb terminal gets none.
	if raw := wide.Screen.Raw(); !bytes.Contains(raw, []byte("\x1b[38;5;")) && !bytes.Contains(raw, []byte("\x1b[38;2;")) {
		t.Error("the xterm-256color viewer got no colour sequences")
	}
	if raw := narrow.Screen.Raw(); bytes.Contains(raw, []byte("\x1b[38;")) || bytes.Contains(raw, []byte("\x1b[1m")) {
		t.Error("the dumb-terminal viewer got colour sequences")
	}
}

func TestDriverStepsAndWatcherSeesIt(t *testing.T) {
	ana, bob := pairtest.NewKey(t, "ana"), pairtest.NewKey(t, "bob")
	eng := newStatic()
	r := serve(t, eng, 0, ana, bob)
	driver := r.dial(t, "ana", ana, "xterm", 120, 40)
	driver.Expect(t, "ana (you) drives")
	watcher := r.dial(t, "bob", bob, "xterm", 100, 30)
	watcher.Expect(t, "watching: bob (you)")

	if err := watcher.Type("+"); err != nil {
		t.Fatal(err)
	}
	watcher.Expect(t, "press D to ask for the wheel")
	if err := driver.Type("+"); err != nil {
		t.Fatal(err)
	}
	watcher.Expect(t, "canary 25%")
	if s := eng.Snapshot(); s.Last == nil || s.Last.Intent.Actor.Via != "ssh:ana "+ana.Fingerprint() {
		t.Fatalf("the step was not made as ana's key: %+v", s.Last)
	}
	if got := eng.Snapshot().Split.CanaryPercent(); got != 25 {
		t.Fatalf("canary at %v after one driver step and one watcher step, want 25", got)
	}
}

func TestRefusals(t *testing.T) {
	ana, eve := pairtest.NewKey(t, "ana"), pairtest.NewKey(t, "eve")
	r := serve(t, newStatic(), 1, ana)

	if _, err := pairtest.Dial(r.addr, "ana", eve.Signer, r.host, 80, 24); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("unknown key: %v", err)
	}
	// Password auth is not offered at all.
	cfg := &gossh.ClientConfig{User: "ana", Auth: []gossh.AuthMethod{gossh.Password("hunter2")},
		HostKeyCallback: gossh.FixedHostKey(r.host), Timeout: 10 * time.Second}
	if c, err := gossh.Dial("tcp", r.addr, cfg); err == nil {
		c.Close()
		t.Error("password auth let a client in")
	}

	noPty := r.dial(t, "ana", ana, "", 80, 24)
	select {
	case <-noPty.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a session without a terminal was not ended")
	}
	if s := noPty.Screen.String(); !strings.Contains(s, "needs a terminal") {
		t.Errorf("no-pty session was not told why: %q", s)
	}

	first := r.dial(t, "ana", ana, "xterm", 80, 24)
	first.Expect(t, "ana (you) drives")
	second := r.dial(t, "ana", ana, "xterm", 80, 24)
	select {
	case <-second.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a session over the limit was not ended")
	}
	if s := second.Screen.String(); !strings.Contains(s, "already 1 viewers") {
		t.Errorf("over-limit session was not told why: %q", s)
	}
}

func TestAuthorizedKeysAndHostKeyFiles(t *testing.T) {
	dir := t.TempDir()
	k := pairtest.NewKey(t, "ana")
	for name, body := range map[string]string{
		"empty":   "# nobody\n\n",
		"garbage": k.Authorized + "ssh-ed25519 not-base64!\n",
		"options": `from="10.0.0.1" ` + k.Authorized,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := pair.LoadAuthorizedKeys(p); err == nil {
			t.Errorf("%s authorized_keys accepted", name)
		} else if name == "garbage" && !strings.Contains(err.Error(), "line 2") {
			t.Errorf("garbage: error does not name the line: %v", err)
		}
	}

	hp := filepath.Join(dir, "state", "host")
	first, err := pair.LoadOrCreateHostKey(hp)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(hp)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %04o, want 0600", st.Mode().Perm())
	}
	again, err := pair.LoadOrCreateHostKey(hp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.PublicKey().Marshal(), again.PublicKey().Marshal()) {
		t.Error("the host key changed between runs")
	}
	if err := os.Chmod(hp, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := pair.LoadOrCreateHostKey(hp); err == nil {
		t.Error("a world-readable host key was used")
	}
}
