package rollout

import (
	"context"
	"sync"
	"time"

	"github.com/perch-dev/perch/model"
)

// LogsReader runs one side's log query: error-like lines over a window,
// grouped into patterns (CloudWatch Logs Insights). A query runs on AWS
// between StartQuery and the QueryResults that says it is done; the
// engine asks at its next poll rather than waiting, so no poll blocks on
// a query.
type LogsReader interface {
	StartQuery(ctx context.Context, side model.Side, from, to time.Time) (id string, err error)
	QueryResults(ctx context.Context, id string) (model.LogQueryResult, error)
	StopQuery(ctx context.Context, id string) error
}

// LogsConfig turns the log watch on.
type LogsConfig struct {
	Reader LogsReader
	// Every is the least time between two queries of one side: Logs
	// Insights bills by bytes scanned, so the cadence bounds the cost.
	// Default DefaultLogsEvery.
	Every time.Duration
	// Window is how far back each query looks. Default DefaultLogsWindow.
	Window time.Duration
	// Rule is when a canary pattern is NEW.
	Rule model.NewPatternRule
}

const (
	DefaultLogsEvery  = 2 * time.Minute
	DefaultLogsWindow = 10 * time.Minute
	// maxQueryWait: a query still running after this is stopped and a new
	// one started at the next turn.
	maxQueryWait = 5 * time.Minute
)

// sideQuery is one side's query state.
type sideQuery struct {
	running   string // query ID in flight, "" none
	startedAt time.Time
	from, to  time.Time
	last      *model.LogQueryResult
	lastFrom  time.Time
	lastTo    time.Time
	lastAt    time.Time
}

// logWatch runs the sides' queries on a bounded cadence. Its mutex is its
// own: Stop may come from another goroutine than the poll loop.
type logWatch struct {
	cfg     LogsConfig
	mu      sync.Mutex
	sides   [2]sideQuery
	bytes   float64
	queries int
	err     error
}

func newLogWatch(cfg *LogsConfig) *logWatch {
	if cfg == nil || cfg.Reader == nil {
		return nil
	}
	c := *cfg
	if c.Every <= 0 {
		c.Every = DefaultLogsEvery
	}
	if c.Window <= 0 {
		c.Window = DefaultLogsWindow
	}
	return &logWatch{cfg: c}
}

// poll collects finished queries and starts those due.
func (w *logWatch) poll(ctx context.Context, timeout time.Duration, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err = nil
	for _, side := range model.Sides {
		q := &w.sides[side]
		if q.running != "" {
			w.collect(ctx, timeout, q, now)
		}
		if q.running == "" && (q.startedAt.IsZero() || now.Sub(q.startedAt) >= w.cfg.Every) {
			from, to := now.Add(-w.cfg.Window), now
			id, err := call(ctx, timeout, func(ctx context.Context) (string, error) {
				return w.cfg.Reader.StartQuery(ctx, side, from, to)
			})
			if err != nil {
				w.err = err
				continue
			}
			q.running, q.startedAt, q.from, q.to = id, now, from, to
			w.queries++
		}
	}
}

func (w *logWatch) collect(ctx context.Context, timeout time.Duration, q *sideQuery, now time.Time) {
	res, err := call(ctx, timeout, func(ctx context.Context) (model.LogQueryResult, error) {
		return w.cfg.Reader.QueryResults(ctx, q.running)
	})
	switch {
	case err != nil:
		w.err = err
		q.running = ""
	case res.Done:
		w.bytes += res.BytesScanned
		q.last, q.lastFrom, q.lastTo, q.lastAt = &res, q.from, q.to, now
		q.running = ""
	case now.Sub(q.startedAt) > maxQueryWait:
		_ = w.cfg.Reader.StopQuery(ctx, q.running)
		q.running = ""
	}
}

// stop stops the queries still running: Logs Insights would otherwise
// finish (and bill) them after perch has gone.
func (w *logWatch) stop(ctx context.Context, timeout time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range w.sides {
		q := &w.sides[i]
		if q.running == "" {
			continue
		}
		_, _ = call(ctx, timeout, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, w.cfg.Reader.StopQuery(ctx, q.running)
		})
		q.running = ""
	}
}

// view compares the sides' newest results per request, from sig's
// request counts over each side's query window.
func (w *logWatch) view(sig model.Signals, describe func(error) string) *model.LogsView {
	w.mu.Lock()
	defer w.mu.Unlock()
	v := &model.LogsView{BytesScanned: w.bytes, Queries: w.queries, Every: w.cfg.Every}
	if w.err != nil {
		v.Err = describe(w.err)
	}
	var groups [2][]model.LogPattern
	for _, side := range model.Sides {
		q := w.sides[side]
		if q.running != "" {
			v.Running++
		}
		if q.last == nil {
			continue
		}
		groups[side] = q.last.Patterns
		v.From[side], v.To[side], v.At[side] = q.lastFrom, q.lastTo, q.lastAt
		v.Truncated[side] = q.last.Truncated
		v.Requests[side] = requestsBetween(sig[side], q.lastFrom, q.lastTo)
	}
	if w.sides[model.Stable].last != nil && w.sides[model.Canary].last != nil {
		v.Rows = model.ComparePatterns(groups, v.Requests, w.cfg.Rule)
	} else {
		v.Rows = model.ComparePatterns(groups, [2]float64{}, w.cfg.Rule) // no NEW before both sides are in
	}
	return v
}

// requestsBetween sums the request counts of the periods that start in
// [from, to).
func requestsBetween(s model.SideSignals, from, to time.Time) float64 {
	var n float64
	for _, p := range s[model.Requests] {
		if !p.T.Before(from.Truncate(time.Minute)) && p.T.Before(to) {
			n += p.V
		}
	}
	return n
}

// readLogs runs the log watch's turn of a poll.
func (e *Engine) readLogs(ctx context.Context, now time.Time) {
	if e.logs != nil {
		e.logs.poll(ctx, e.cfg.CallTimeout, now)
	}
}

func (e *Engine) foldLogsLocked(s *model.Snapshot) {
	if e.logs != nil {
		s.Logs = e.logs.view(s.Signals, e.cfg.DescribeError)
	}
}

// StopLogQueries stops any log query still running; Start's stop calls it
// once the poll loop has ended.
func (e *Engine) StopLogQueries() {
	if e.logs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.CallTimeout)
	defer cancel()
	e.logs.stop(ctx, e.cfg.CallTimeout)
}
