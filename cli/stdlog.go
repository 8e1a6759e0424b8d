package cli

import (
	"context"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"
)

// Go's own packages log through the standard library's log package, to
// stderr: net/http's transport says "Unsolicited response received on idle
// HTTP channel" when a server sends bytes nobody asked for, and the SSH
// server and slog's default logger write there too. stderr is the terminal
// the cockpit draws on, so while perch runs those lines go to perch's
// diagnostic log once one is open, and nowhere before.

// stdLogSink receives the log package's lines for one run of perch.
type stdLogSink struct {
	mu     sync.Mutex
	logger *slog.Logger // nil: drop
}

func (s *stdLogSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	l := s.logger
	s.mu.Unlock()
	if l != nil {
		l.Log(context.Background(), slog.LevelWarn, "go log: "+strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// set routes the lines to l (nil: drop them).
func (s *stdLogSink) set(l *slog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logger = l
}

// captureStdLog sends the log package's output to s until the returned
// func restores what was there. It changes process-wide state, which is
// why only Execute, for the life of one run, calls it.
func captureStdLog(s *stdLogSink) (restore func()) {
	prev, flags := log.Writer(), log.Flags()
	log.SetOutput(s)
	log.SetFlags(0)
	return func() {
		log.SetOutput(prev)
		log.SetFlags(flags)
	}
}

var _ io.Writer = (*stdLogSink)(nil)
