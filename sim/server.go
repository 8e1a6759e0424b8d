package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
)

const maxBody = 8 << 20

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveControl(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	reqID := s.newRequestID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	if len(body) > maxBody {
		awsproto.WriteUnknown(w, r, reqID, &awsproto.Error{Status: 413, Code: "RequestEntityTooLarge",
			Message: "request body larger than 8 MiB", Sender: true})
		return
	}
	s.advanceLocked(s.clock.Now())

	name := s.router.Route(r, body)
	svc := s.services[name]
	if svc == nil {
		s.log.Debug("sim: unknown service", "service", name, "path", r.URL.Path)
		awsproto.WriteUnknown(w, r, reqID, awsproto.SenderErr("UnknownServiceException",
			"the simulator does not serve service %q", name))
		return
	}
	op := svc.Operation(r, body)
	if op == "" {
		op = "unknown"
	}
	short := s.router.ShortName(name)
	s.stats[short+":"+op]++
	if s.applyFaultLocked(w, r, reqID, short, op) {
		return
	}
	s.log.Debug("sim: request", "service", short, "operation", op, "request_id", reqID)
	svc.Serve(w, r, body)
}

// serveControl answers /_sim/ requests. They are not AWS calls and are
// never counted in the stats.
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_sim/stats" && r.Method == http.MethodGet:
		writeJSON(w, map[string]any{"calls": s.Stats(), "faulted": s.Faulted()})
	case r.URL.Path == "/_sim/stats/reset" && r.Method == http.MethodPost:
		s.ResetStats()
		writeJSON(w, map[string]any{"calls": map[string]int{}, "faulted": map[string]int{}})
	case r.URL.Path == "/_sim/manifest" && r.Method == http.MethodGet:
		writeJSON(w, s.Manifest("http://"+r.Host))
	case r.URL.Path == "/_sim/faults":
		s.serveFaults(w, r)
	default:
		http.Error(w, "unknown simulator control path (have GET /_sim/stats, POST /_sim/stats/reset, GET /_sim/manifest, GET|POST|DELETE /_sim/faults)",
			http.StatusNotFound)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Running is a simulator serving on a listener.
type Running struct {
	URL string
	Sim *Sim
	// Regions is every simulated region (StartRegions); nil for one.
	Regions *Regions

	srv  *http.Server
	done chan struct{}
	once sync.Once
	err  error
}

// Start builds a simulator and serves it on addr ("" means 127.0.0.1:0)
// until ctx is done or Close is called. A non-loopback host is refused
// unless opts.AllowNonLoopback: the endpoint has no authentication.
func Start(ctx context.Context, addr string, opts Options) (*Running, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("start sim: address %q: %w", addr, err)
	}
	if !opts.AllowNonLoopback && !isLoopback(host) {
		return nil, fmt.Errorf("start sim: refusing to listen on non-loopback host %q", host)
	}
	s, err := New(opts)
	if err != nil {
		return nil, fmt.Errorf("start sim: %w", err)
	}
	return serve(ctx, addr, s, s.Handler())
}

// StartRegions serves every region of r on addr (loopback only): a
// request goes to the region of its SigV4 scope. Running.Sim is the first
// region's; Running.Regions all of them.
func StartRegions(ctx context.Context, addr string, r *Regions) (*Running, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("start sim: address %q: %w", addr, err)
	}
	if !isLoopback(host) {
		return nil, fmt.Errorf("start sim: refusing to listen on non-loopback host %q", host)
	}
	run, err := serve(ctx, addr, r.Sim(r.order[0]), r.Handler())
	if run != nil {
		run.Regions = r
	}
	return run, err
}

func serve(ctx context.Context, addr string, s *Sim, h http.Handler) (*Running, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start sim: listen %s: %w", addr, err)
	}
	run := &Running{
		URL: "http://" + ln.Addr().String(),
		Sim: s,
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
			// net/http's own complaints would go to stderr, over the
			// cockpit that perch demo draws there.
			ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)},
		done: make(chan struct{}),
	}
	go func() {
		defer close(run.done)
		if err := run.srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			s.log.Error("sim: serve", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = run.Close()
		case <-run.done:
		}
	}()
	return run, nil
}

// Close stops serving and waits for the server goroutine to end.
func (r *Running) Close() error {
	r.once.Do(func() {
		r.err = r.srv.Close()
		<-r.done
	})
	return r.err
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
