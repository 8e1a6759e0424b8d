package pair

import (
	"net"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// Limits on what a connection may cost before and after it is let in.
// Anyone who can reach the port can open connections; only authorised keys
// get sessions, but every connection holds a file descriptor and a
// goroutine until it is closed, and every session renders its own screen.
const (
	// MaxWidth and MaxHeight clamp a viewer's terminal: the pty request
	// and every window change. The cockpit bounds its charts too, so a
	// 1000x500 viewer costs about 25 MB.
	MaxWidth  = 1000
	MaxHeight = 500
	// DefaultHandshakeTimeout is how long a connection may take from
	// accept to a running session (key exchange, authentication, pty and
	// shell requests); real clients take well under a second.
	DefaultHandshakeTimeout = 20 * time.Second
	// DefaultMaxPending bounds connections without a session yet, and
	// DefaultMaxPendingPerHost those from one address, so that one
	// client cannot use them all up and lock the driver out.
	DefaultMaxPending        = 64
	DefaultMaxPendingPerHost = 8
	// DefaultIdleTimeout closes a connection on which nothing was read
	// or written for this long. A live cockpit writes at every poll, so
	// this ends connections whose client is gone, or never said anything.
	DefaultIdleTimeout = 5 * time.Minute
)

// clampWindow keeps a terminal size within MaxWidth x MaxHeight and at
// least 1x1.
func clampWindow(w, h int) tea.WindowSizeMsg {
	return tea.WindowSizeMsg{Width: min(max(w, 1), MaxWidth), Height: min(max(h, 1), MaxHeight)}
}

// gate counts connections that have no session yet, in all and per
// remote host.
type gate struct {
	max, perHost int

	mu     sync.Mutex
	total  int
	byHost map[string]int
}

func newGate(max, perHost int) *gate {
	return &gate{max: max, perHost: perHost, byHost: map[string]int{}}
}

// admit takes a place for a connection from host, or says there is none.
func (g *gate) admit(host string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.total >= g.max || g.byHost[host] >= g.perHost {
		return false
	}
	g.total++
	g.byHost[host]++
	return true
}

func (g *gate) release(host string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if g.byHost[host]--; g.byHost[host] <= 0 {
		delete(g.byHost, host)
	}
}

// Pending reports how many connections have no session yet.
func (g *gate) pending() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total
}

// pendingConn is a connection holding a place at the gate until its
// session starts or it closes, and closed if neither happens within the
// handshake timeout.
type pendingConn struct {
	net.Conn
	gate  *gate
	host  string
	timer *time.Timer
	once  sync.Once
}

func (g *gate) hold(c net.Conn, host string, timeout time.Duration, expired func()) *pendingConn {
	p := &pendingConn{Conn: c, gate: g, host: host}
	// The callback must not touch p.timer: it may run before the
	// assignment below is visible to it.
	p.timer = time.AfterFunc(timeout, func() {
		if p.release() {
			expired()
			c.Close()
		}
	})
	return p
}

// settle gives the place back because the session started or the
// connection closed, and stops the timer; it reports whether this call
// gave it back (the first of session start, close and timeout wins).
func (p *pendingConn) settle() bool {
	p.timer.Stop()
	return p.release()
}

func (p *pendingConn) release() bool {
	released := false
	p.once.Do(func() {
		p.gate.release(p.host)
		released = true
	})
	return released
}

func (p *pendingConn) Close() error {
	p.settle()
	return p.Conn.Close()
}

// pendingKey finds a connection's pendingConn from its SSH context.
type pendingKey struct{}

func remoteHost(a net.Addr) string {
	if a == nil {
		return "?"
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}
