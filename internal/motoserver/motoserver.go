// Package motoserver runs moto (a Python AWS emulator) as a child process
// for contract tests, so perch's adapters are checked against a second AWS
// implementation and not only against perch's own simulator.
package motoserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ReadyTimeout bounds how long a start may take before it counts as failed.
const ReadyTimeout = 20 * time.Second

// ErrUnavailable means python3 or the moto package is not installed.
var ErrUnavailable = errors.New("moto unavailable")

// Server is a running moto.
type Server struct {
	URL string

	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
	once   sync.Once
}

// Launch starts moto on a free loopback port and waits until it answers.
// An error wrapping ErrUnavailable means moto is not installed.
func Launch(ctx context.Context) (*Server, error) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return nil, fmt.Errorf("%w: python3 not on PATH", ErrUnavailable)
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("pick a port for moto: %w", err)
	}
	s := &Server{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		stderr: &lockedBuffer{},
		done:   make(chan struct{}),
	}
	s.cmd = exec.Command(py, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	// Keep moto off the real AWS config of whoever runs the tests.
	s.cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "MOTO_ALLOW_NONEXISTENT_REGION=true")
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		out := s.stderr.String()
		if strings.Contains(out, "No module named") {
			return nil, fmt.Errorf("%w: %s", ErrUnavailable, firstLine(out, "No module named"))
		}
		return nil, fmt.Errorf("moto did not become ready: %w; output: %s", err, tail(out, 500))
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/data.json", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return errors.New("moto exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Reset drops every resource moto holds, so tests start from nothing.
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset moto: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Stop kills the child process and waits for it to exit.
func (s *Server) Stop() {
	s.once.Do(func() {
		if s.cmd.Process != nil {
			_ = s.cmd.Process.Kill()
		}
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
		}
	})
}

// Start launches a moto for one test (or benchmark) and stops it in
// t.Cleanup. It skips when moto is not installed, unless CI=true, where a
// missing moto is a broken build image and fails instead.
func Start(t testing.TB) string {
	t.Helper()
	s, err := Launch(context.Background())
	if err != nil {
		SkipOrFail(t, err)
		return ""
	}
	t.Cleanup(s.Stop)
	return s.URL
}

// SkipOrFail applies Start's policy to a Launch error, for callers sharing
// one moto across a test binary from TestMain.
func SkipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrUnavailable) && os.Getenv("CI") != "true" {
		t.Skipf("skipping moto contract test: %v", err)
		return
	}
	t.Fatalf("moto: %v", err)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // moto logs every request; keep memory bounded
		l.b.Reset()
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func firstLine(s, containing string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, containing) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
