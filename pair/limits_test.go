package pair_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"strconv"
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

// countingEngine is staticEngine that knows how many viewers are
// subscribed, and signals every cancel.
type countingEngine struct {
	*staticEngine
	mu        sync.Mutex
	live      int
	cancelled chan struct{}
}

func newCounting() *countingEngine {
	return &countingEngine{staticEngine: newStatic(), cancelled: make(chan struct{}, 64)}
}

func (e *countingEngine) Subscribe() (<-chan model.Snapshot, func()) {
	ch, _ := e.staticEngine.Subscribe()
	e.mu.Lock()
	e.live++
	e.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			e.mu.Lock()
			e.live--
			e.mu.Unlock()
			e.cancelled <- struct{}{}
		})
	}
}

func (e *countingEngine) subscribers() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.live
}

func serveWith(t *testing.T, eng pairEngine, cfg pair.Config, keys ...pairtest.Key) *rig {
	t.Helper()
	dir := t.TempDir()
	authPath := filepath.Join(dir, "authorized_keys")
	pairtest.WriteAuthorizedKeys(t, authPath, keys...)
	ak, err := pair.LoadAuthorizedKeys(authPath)
	if err != nil {
		t.Fatal(err)
	}
	host, err := pair.LoadOrCreateHostKey(filepath.Join(dir, "host_key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Engine, cfg.AuthorizedKeys, cfg.HostKey = eng, ak, host
	if cfg.Clock == nil {
		cfg.Clock = clock.NewManual(time.Date(2026, 11, 26, 7, 30, 0, 0, time.UTC))
	}
	srv, err := pair.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not stop within 15s")
		}
	})
	return &rig{addr: addr.String(), host: host.PublicKey(), srv: srv}
}

// pairEngine is what the server needs of an engine.
type pairEngine interface {
	Snapshot() model.Snapshot
	Subscribe() (<-chan model.Snapshot, func())
	Execute(ctx context.Context, in model.Intent) model.Result
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// A watcher asks for an 80000x24000 window (the attack: the server
// grew by 330 MB a second past 11 GB, and kept growing after the client
// left). The size is clamped, the frame costs what a 1000x500 one does,
// and when the watcher leaves its cockpit is dropped: memory is back
// where it started.
func TestGiantWindowChangeLeavesMemoryFlat(t *testing.T) {
	ana, bob := pairtest.NewKey(t, "ana"), pairtest.NewKey(t, "bob")
	eng := newCounting()
	r := serveWith(t, eng, pair.Config{}, ana, bob)
	driver, err := pairtest.Dial(r.addr, "ana", ana.Signer, r.host, 200, 50)
	if err != nil {
		t.Fatal(err)
	}
	defer driver.Close()
	driver.Expect(t, "ana (you) drives")

	base := heapAfterGC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	watcher, err := pairtest.Dial(r.addr, "bob", bob.Signer, r.host, 200, 50)
	if err != nil {
		t.Fatal(err)
	}
	watcher.Expect(t, "watching: bob (you)")
	if err := watcher.Resize(80000, 24000); err != nil {
		t.Fatal(err)
	}
	// Window changes are handled in order: once a 150x40 frame is on the
	// screen, the giant one has been drawn (clamped) before it.
	if err := watcher.Resize(150, 40); err != nil {
		t.Fatal(err)
	}
	if _, err := watcher.WaitFor("a 150x40 frame", func(s string) bool {
		lines := strings.Split(s, "\n")
		return len(lines) >= 40 && strings.Contains(lines[39], "q quit")
	}); err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	during := heapAfterGC()
	t.Logf("watcher with a giant window: %.1f MiB allocated, heap %+.1f MiB", float64(allocated)/(1<<20), (float64(during)-float64(base))/(1<<20))
	// A clamped 1000x500 frame: about 25 MB of charts, a few frames of
	// half a megabyte. The unclamped one is 1.9 billion cells.
	if allocated > 256<<20 {
		t.Errorf("the giant window cost %d MiB of allocations, bound 256", allocated>>20)
	}

	subs := eng.subscribers()
	watcher.Close()
	select {
	case <-eng.cancelled:
	case <-time.After(30 * time.Second):
		t.Fatal("the watcher's cockpit was not dropped when it left: its subscription is still live")
	}
	if n := eng.subscribers(); n != subs-1 {
		t.Fatalf("%d subscribers after the watcher left, want %d", n, subs-1)
	}
	if left := heapAfterGC(); left > base+16<<20 {
		t.Errorf("heap %d MiB above where it was before the watcher came, bound 16", (left-base)>>20)
	}
}

// dialFrom opens a bare TCP connection from a chosen loopback address.
func dialFrom(t *testing.T, from, to string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", to)
	if err != nil {
		t.Skipf("cannot dial from %s (this machine's loopback is only 127.0.0.1?): %v", from, err)
	}
	return c
}

// closedWithin reports whether the server closes c within d: a read
// ends in EOF or a reset rather than the deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// Bare TCP connections take at most their places, per address and in
// all: the rest are closed at once (before: about 20,000 of them used up
// the file descriptors), and the driver, from another address, still
// gets in.
func TestConnectionsWithoutASessionAreBounded(t *testing.T) {
	ana := pairtest.NewKey(t, "ana")
	r := serveWith(t, newStatic(), pair.Config{HandshakeTimeout: time.Minute, MaxPending: 10, MaxPendingPerHost: 4}, ana)

	// One address: four are taken (the server speaks first, with its
	// version line), every further one is closed at once.
	for range 4 {
		c := dialFrom(t, "127.0.0.2", r.addr)
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line := make([]byte, 8)
		if _, err := io.ReadFull(c, line); err != nil || !bytes.HasPrefix(line, []byte("SSH-2.0-")) {
			t.Fatalf("held connection: %q %v", line, err)
		}
	}
	for range 50 {
		c := dialFrom(t, "127.0.0.2", r.addr)
		if !closedWithin(c, 5*time.Second) {
			t.Fatal("a fifth bare connection from one address was kept open")
		}
		c.Close()
	}
	// In all: ten places, four taken; of twelve more from other
	// addresses, six are taken and six closed.
	var conns []net.Conn
	for i := range 12 {
		c := dialFrom(t, "127.0.0."+strconv.Itoa(3+i/3), r.addr)
		defer c.Close()
		conns = append(conns, c)
	}
	// A held connection hears the server's version line; a refused one is
	// closed without a word. Both are events, not timings.
	refused := 0
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line := make([]byte, 8)
		_, err := io.ReadFull(c, line)
		switch {
		case err == nil && bytes.HasPrefix(line, []byte("SSH-2.0-")):
		case err != nil && !isTimeout(err):
			refused++
		default:
			t.Fatalf("a connection neither held nor refused: %q %v", line, err)
		}
	}
	if refused != 6 || r.srv.Pending() != 10 {
		t.Errorf("%d of 12 refused with 6 places left; %d pending, want 10", refused, r.srv.Pending())
	}
	// Once the flood from other addresses lets go, the driver gets in:
	// the server hears the closes in its own time, so the driver tries
	// again as a person would (bounded in count and time).
	for _, c := range conns {
		c.Close()
	}
	var driver *pairtest.Client
	var err error
	for try, deadline := 0, time.Now().Add(20*time.Second); try < 200 && time.Now().Before(deadline); try++ {
		if driver, err = pairtest.Dial(r.addr, "ana", ana.Signer, r.host, 80, 24); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("the driver could not connect past the flood from other addresses: %v", err)
	}
	defer driver.Close()
	driver.Expect(t, "ana (you) drives")
}

// A connection that never gets to a session is closed at the handshake
// timeout (before: an idle unauthenticated connection stayed for
// minutes), and gives its place back.
func TestHandshakeTimeout(t *testing.T) {
	ana := pairtest.NewKey(t, "ana")
	r := serveWith(t, newStatic(), pair.Config{HandshakeTimeout: time.Second}, ana)
	c := dialFrom(t, "127.0.0.2", r.addr)
	defer c.Close()
	start := time.Now()
	if !closedWithin(c, 10*time.Second) {
		t.Fatal("a connection that never started a session was not closed")
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("closed after %v; handshake timeout 1s", took)
	}
	if n := r.srv.Pending(); n != 0 {
		t.Errorf("%d connections still count as pending", n)
	}
}

// An authenticated client that never asks for a session is a connection
// without one: closed at the handshake timeout.
func TestAuthenticatedButIdleConnectionIsClosed(t *testing.T) {
	ana := pairtest.NewKey(t, "ana")
	r := serveWith(t, newStatic(), pair.Config{HandshakeTimeout: time.Second}, ana)
	conn, err := gossh.Dial("tcp", r.addr, &gossh.ClientConfig{User: "ana", Auth: []gossh.AuthMethod{gossh.PublicKeys(ana.Signer)},
		HostKeyCallback: gossh.FixedHostKey(r.host), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	done := make(chan error, 1)
	go func() { done <- conn.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a connection without a session stayed open past the handshake timeout")
	}
}

// A connection on which nothing is said is closed at the idle timeout.
func TestSilentConnectionIsClosedWhenIdle(t *testing.T) {
	ana := pairtest.NewKey(t, "ana")
	r := serveWith(t, newStatic(), pair.Config{HandshakeTimeout: time.Minute, IdleTimeout: 500 * time.Millisecond}, ana)
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !closedWithin(c, 10*time.Second) {
		t.Fatal("a silent connection outlived the idle timeout")
	}
}

// The SSH user name is the client's choice and every other viewer sees
// it: a watcher named with control sequences shows up on the driver's
// screen as text, and none of its sequences reaches the driver's terminal.
func TestHostileUserNameReachesOthersAsText(t *testing.T) {
	ana, eve := pairtest.NewKey(t, "ana"), pairtest.NewKey(t, "eve")
	r := serveWith(t, newStatic(), pair.Config{}, ana, eve)
	driver, err := pairtest.Dial(r.addr, "ana", ana.Signer, r.host, 160, 40)
	if err != nil {
		t.Fatal(err)
	}
	defer driver.Close()
	driver.Expect(t, "ana (you) drives")
	const name = "eve\x1b]0;pwned\a\x1b]52;c;cGVyY2g=\a\x9b2J"
	watcher, err := pairtest.Dial(r.addr, name, eve.Signer, r.host, 160, 40)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	driver.Expect(t, `watching: eve\x1b]0;pwned\x07`)
	raw := driver.Screen.Raw()
	for _, bad := range []string{"\x1b]0;pwned", "\x1b]52;", "pwned\a", "\x9b2J"} {
		if bytes.Contains(raw, []byte(bad)) {
			t.Errorf("the watcher's name sent %q to the driver's terminal", bad)
		}
	}
}
