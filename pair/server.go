package pair

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	bm "github.com/charmbracelet/wish/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/ui"
)

// Config is one shared session's server.
type Config struct {
	// Engine is the one engine every viewer watches (a *rollout.Engine,
	// possibly wrapped to record actions).
	Engine rollout.Control
	// AuthorizedKeys are the only keys let in (public key auth only).
	AuthorizedKeys []AuthorizedKey
	HostKey        gossh.Signer
	// Clock drives the hand-over timeout; default the wall clock.
	Clock clock.Clock
	// HandOverIdle is how long the driver must be idle before a request
	// for the wheel passes by itself; default DefaultHandOverIdle.
	HandOverIdle time.Duration
	// MaxSessions bounds the viewers; default 32.
	MaxSessions int
	// HandshakeTimeout, MaxPending, MaxPendingPerHost and IdleTimeout
	// bound connections (see the Default constants, used when <= 0).
	HandshakeTimeout  time.Duration
	MaxPending        int
	MaxPendingPerHost int
	IdleTimeout       time.Duration

	ReadOnly bool
	Title    string
	Poll     time.Duration
	Logger   *slog.Logger
}

// Server serves the cockpit over SSH to authorised keys.
type Server struct {
	cfg  Config
	hub  *Hub
	srv  *ssh.Server
	log  *slog.Logger
	sess chan struct{} // one token per live session
	gate *gate
	// viewers are the running session handlers, waited for on stop.
	viewers sync.WaitGroup

	mu sync.Mutex
	ln net.Listener
}

// NewServer checks the config and builds the server; Serve starts it.
func NewServer(cfg Config) (*Server, error) {
	switch {
	case cfg.Engine == nil:
		return nil, errors.New("pair: no engine")
	case len(cfg.AuthorizedKeys) == 0:
		return nil, errors.New("pair: no authorized keys, so nobody could connect")
	case cfg.HostKey == nil:
		return nil, errors.New("pair: no host key")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 32
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.MaxPendingPerHost <= 0 {
		cfg.MaxPendingPerHost = DefaultMaxPendingPerHost
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	s := &Server{
		cfg:  cfg,
		hub:  NewHub(cfg.Clock, cfg.HandOverIdle),
		log:  cfg.Logger,
		sess: make(chan struct{}, cfg.MaxSessions),
		gate: newGate(cfg.MaxPending, cfg.MaxPendingPerHost),
	}
	s.srv = &ssh.Server{
		Handler:          s.handle,
		PublicKeyHandler: s.authorize,
		Version:          "perch",
		ConnCallback:     s.admit,
		IdleTimeout:      cfg.IdleTimeout,
		ConnectionFailedCallback: func(c net.Conn, err error) {
			s.log.Info("ssh connection failed", "remote", c.RemoteAddr().String(), "err", err)
		},
	}
	s.srv.AddHostKey(cfg.HostKey)
	return s, nil
}

// Hub is the session's seat tracker.
func (s *Server) Hub() *Hub { return s.hub }

// Listen opens addr (host:port; port 0 picks one) without serving yet, so
// a caller can learn the address first.
func (s *Server) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return ln.Addr(), nil
}

// admit lets a new connection in while there is room for one more
// without a session, and starts its handshake timer. A refused connection
// is closed at once: a flood of bare TCP connections costs no more than
// the places there are.
func (s *Server) admit(ctx ssh.Context, c net.Conn) net.Conn {
	host := remoteHost(c.RemoteAddr())
	if !s.gate.admit(host) {
		s.log.Warn("ssh connection refused: too many without a session", "remote", c.RemoteAddr().String(), "pending", s.gate.pending())
		return nil
	}
	p := s.gate.hold(c, host, s.cfg.HandshakeTimeout, func() {
		s.log.Info("ssh connection closed: no session within the handshake timeout", "remote", c.RemoteAddr().String(), "timeout", s.cfg.HandshakeTimeout)
	})
	ctx.SetValue(pendingKey{}, p)
	return p
}

// Pending reports how many connections have no session yet.
func (s *Server) Pending() int { return s.gate.pending() }

// Serve accepts connections on the listener from Listen until ctx ends,
// then closes every connection and waits (a few seconds at most) for the
// viewers' cockpits to stop.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return errors.New("pair: Serve before Listen")
	}
	stop := context.AfterFunc(ctx, func() {
		s.srv.Close()
		s.hub.Close()
	})
	defer stop()
	err := s.srv.Serve(ln)
	s.waitViewers(5 * time.Second)
	if errors.Is(err, ssh.ErrServerClosed) || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("serve ssh: %w", err)
}

// waitViewers waits for the session handlers, whose connections are
// closed by now, up to d: a cockpit stuck mid-frame must not hold up a
// shutdown.
func (s *Server) waitViewers(d time.Duration) {
	done := make(chan struct{})
	go func() { s.viewers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		s.log.Warn("ssh viewers still running at shutdown", "waited", d)
	}
}

// authorize lets in only the listed keys.
func (s *Server) authorize(ctx ssh.Context, key ssh.PublicKey) bool {
	_, ok := s.lookup(key)
	if !ok {
		s.log.Warn("ssh key refused", "user", ctx.User(), "remote", ctx.RemoteAddr().String(),
			"fingerprint", gossh.FingerprintSHA256(key))
	}
	return ok
}

func (s *Server) lookup(key ssh.PublicKey) (AuthorizedKey, bool) {
	if key == nil {
		return AuthorizedKey{}, false
	}
	for _, k := range s.cfg.AuthorizedKeys {
		if ssh.KeysEqual(key, k.Key) {
			return k, true
		}
	}
	return AuthorizedKey{}, false
}

// handle runs one viewer's cockpit for the life of the session.
func (s *Server) handle(sess ssh.Session) {
	s.viewers.Add(1)
	defer s.viewers.Done()
	// A session: the connection no longer counts against the places for
	// connections still in their handshake.
	if p, ok := sess.Context().Value(pendingKey{}).(*pendingConn); ok {
		p.settle()
	}
	_, winCh, ok := sess.Pty()
	if !ok {
		fmt.Fprintln(sess.Stderr(), "perch serve: the cockpit needs a terminal; connect with ssh -t")
		_ = sess.Exit(1)
		return
	}
	// Checked again here, not only at auth: a session must never act
	// without a key from the list behind it.
	key := sess.PublicKey()
	if _, ok := s.lookup(key); !ok {
		_ = sess.Exit(1)
		return
	}
	select {
	case s.sess <- struct{}{}:
		defer func() { <-s.sess }()
	default:
		fmt.Fprintf(sess.Stderr(), "perch serve: already %d viewers; try again later\n", s.cfg.MaxSessions)
		_ = sess.Exit(1)
		return
	}

	user := sess.User()
	fp := gossh.FingerprintSHA256(key)
	actor := model.Actor{OSUser: user, Via: "ssh:" + user + " " + fp}
	seat := s.hub.Join(user, actor)
	defer seat.Leave()
	s.log.Info("ssh viewer joined", "user", user, "seat", seat.Name(), "fingerprint", fp,
		"remote", sess.RemoteAddr().String(), "driving", seat.Driving())
	defer s.log.Info("ssh viewer left", "seat", seat.Name())

	m := ui.New(seat.Engine(s.cfg.Engine), ui.Options{
		Actor:    actor,
		ReadOnly: s.cfg.ReadOnly,
		Renderer: bm.MakeRenderer(sess),
		Title:    s.cfg.Title,
		Poll:     s.cfg.Poll,
		Pairing:  seat,
		Clock:    s.cfg.Clock,
	})
	// However the program ends, the viewer's subscription and pending
	// work go with it.
	defer m.Close()
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	opts := append(bm.MakeOptions(sess),
		tea.WithAltScreen(),
		tea.WithContext(ctx),
		// The server owns the process's signals, not each viewer.
		tea.WithoutSignalHandler(),
	)
	p := tea.NewProgram(m, opts...)
	go func() {
		// The first value is the size from the pty request. Keep reading
		// until the channel closes: the session blocks on an unread one.
		for {
			select {
			case <-ctx.Done():
				return
			case w, ok := <-winCh:
				if !ok {
					return
				}
				// The client says how big its terminal is; the cockpit
				// draws (and holds) a frame that big.
				p.Send(clampWindow(w.Width, w.Height))
			}
		}
	}()
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) && ctx.Err() == nil {
		s.log.Error("ssh cockpit", "seat", seat.Name(), "err", err)
	}
	_ = sess.Exit(0)
}
