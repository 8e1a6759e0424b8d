package sim

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/perch-dev/perch/clock"
)

// A malformed request makes net/http log a complaint; it must go to the
// simulator's logger, never to stderr (perch demo draws its cockpit there).
func TestHTTPServerErrorsGoToTheSimLogger(t *testing.T) {
	var buf safeBuffer
	sc, err := LoadScenario("healthy")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Start(t.Context(), "127.0.0.1:0", Options{Clock: clock.NewManual(epoch), Scenario: sc,
		Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	if got := run.srv.ErrorLog; got == nil {
		t.Fatal("no ErrorLog: net/http would write to stderr")
	}
	run.srv.ErrorLog.Printf("http: test complaint")
	if !strings.Contains(buf.String(), "http: test complaint") {
		t.Fatalf("net/http's log line went elsewhere: %q", buf.String())
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
