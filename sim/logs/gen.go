package logs

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/ids"
	"github.com/perch-dev/perch/sim/metrics"
	"github.com/perch-dev/perch/sim/scenario"
	"github.com/perch-dev/perch/sim/traffic"
)

// source is one side of one canary writing to a log group.
type source struct {
	group     string
	kind      string // "alb" or "lambda"
	side      string // "stable" or "canary"
	version   string // Lambda: the version in the stream names
	streams   []string
	namespace string
	requests  string // metric counting requests
	errors    string // metric counting failed ones
	dims      []metrics.Dimension
	lines     []scenario.LogLine // usual plus this side's own
	hash      uint64
}

// SideMetrics names one side's request and error counts in the metric
// store: the ALB target group's or the Lambda version's.
type SideMetrics struct {
	Namespace, Requests, Errors string
	Dimensions                  []metrics.Dimension
}

// AddALB makes the ALB canary's two sides log to its group: streams
// <name>-<side>/app/<task id>, one per target.
func (s *Service) AddALB(a *scenario.ALB, sides [2]SideMetrics) {
	if a.Logs == nil {
		return
	}
	tasks := 1
	if a.TargetsPerSide != nil && *a.TargetsPerSide > 0 {
		tasks = *a.TargetsPerSide
	}
	for i, side := range []string{"stable", "canary"} {
		src := s.newSource(a.Logs, "alb", side, sides[i])
		r := ids.NewSource(s.seed, a.Name+"/"+side).Rand()
		for range tasks {
			src.streams = append(src.streams, fmt.Sprintf("%s-%s/app/%016x%016x", a.Name, side, r.Uint64(), r.Uint64()))
		}
		s.addSource(src)
	}
}

// AddLambda makes the function's two versions log to its group, in
// streams named YYYY/MM/DD/[VERSION]<id> as Lambda names them.
func (s *Service) AddLambda(l *scenario.Lambda, sides [2]SideMetrics) {
	if l.Logs == nil {
		return
	}
	for i, side := range []string{"stable", "canary"} {
		src := s.newSource(l.Logs, "lambda", side, sides[i])
		src.version = l.StableVersion
		if side == "canary" {
			src.version = l.CanaryVersion
		}
		s.addSource(src)
	}
}

func (s *Service) newSource(spec *scenario.Logs, kind, side string, m SideMetrics) *source {
	lines := append([]scenario.LogLine(nil), spec.Usual...)
	if side == "canary" {
		lines = append(lines, spec.Canary...)
	} else {
		lines = append(lines, spec.Stable...)
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(spec.Group + "/" + side))
	return &source{group: spec.Group, kind: kind, side: side, namespace: m.Namespace, requests: m.Requests,
		errors: m.Errors, dims: m.Dimensions, lines: lines, hash: h.Sum64()}
}

func (s *Service) addSource(src *source) {
	g := s.groups[src.group]
	if g == nil {
		g = &group{name: src.group, created: s.start.Add(-s.history)}
		s.groups[src.group] = g
	}
	g.sources = append(g.sources, src)
}

// lambdaStream is the stream a version's line at t goes to: two
// execution environments per version per day.
func (s *Service) lambdaStream(src *source, at time.Time, k int) string {
	day := at.UTC().Format("2006/01/02")
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "%d/%s/%s/%d", s.seed, src.version, day, k)
	return fmt.Sprintf("%s/[%s]%016x%016x", day, src.version, h.Sum64(), h.Sum64()^src.hash)
}

// eventsBetween generates the group's lines with start <= at < end,
// oldest first. A period's lines exist once its counts are published:
// they are drawn from (seed, source, period) alone, so the same query
// always finds the same lines, however often it runs.
func (s *Service) eventsBetween(g *group, start, end time.Time) []event {
	var out []event
	from := start.Truncate(metrics.Period)
	for p := from; p.Before(end); p = p.Add(metrics.Period) {
		for _, src := range g.sources {
			for _, e := range s.period(src, p) {
				if !e.at.Before(start) && e.at.Before(end) {
					out = append(out, e)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

func (s *Service) sum(src *source, metric string, p time.Time) int {
	total := 0.0
	for _, d := range s.counts.Query(src.namespace, metric, src.dims, "", p, p.Add(metrics.Period)) {
		total += d.Sum
	}
	return int(total + 0.5)
}

// period generates one source's lines for the period starting at p.
func (s *Service) period(src *source, p time.Time) []event {
	n := s.sum(src, src.requests, p)
	if n == 0 {
		return nil
	}
	errs := s.sum(src, src.errors, p)
	r := rand.New(rand.NewPCG(uint64(s.seed)^src.hash, uint64(p.Unix())))
	var out []event
	emit := func(msg string) {
		at := p.Add(time.Duration(r.Int64N(int64(metrics.Period/time.Millisecond))) * time.Millisecond)
		out = append(out, event{at: at, group: src.group, stream: s.streamFor(src, r, at), msg: msg})
	}
	for range errs {
		emit(fill(r, errorLine(src.kind)))
	}
	for _, l := range src.lines {
		if p.Before(s.start.Add(l.From.D())) {
			continue
		}
		for range traffic.Binomial(r, n, l.Rate) {
			emit(fill(r, l.Message))
		}
	}
	s.summaries(src, r, p, n, &out)
	return out
}

// summaries are the lines every request-serving process logs besides
// errors: for an ALB's tasks an INFO line a minute each; for Lambda, the
// REPORT line of every invocation.
func (s *Service) summaries(src *source, r *rand.Rand, p time.Time, n int, out *[]event) {
	if src.kind == "lambda" {
		for range n {
			at := p.Add(time.Duration(r.Int64N(int64(metrics.Period/time.Millisecond))) * time.Millisecond)
			d := 20 + r.ExpFloat64()*80
			*out = append(*out, event{at: at, group: src.group, stream: s.streamFor(src, r, at),
				msg: fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: 512 MB\tMax Memory Used: %d MB",
					ids.UUID(r), d, int(d)+1, 90+r.IntN(20))})
		}
		return
	}
	for i, st := range src.streams {
		share := n / len(src.streams)
		if i < n%len(src.streams) {
			share++
		}
		*out = append(*out, event{at: p.Add(metrics.Period - time.Millisecond), group: src.group, stream: st,
			msg: fmt.Sprintf("INFO served %d requests in the last 60s", share)})
	}
}

func (s *Service) streamFor(src *source, r *rand.Rand, at time.Time) string {
	if src.kind == "lambda" {
		return s.lambdaStream(src, at, r.IntN(2))
	}
	return src.streams[r.IntN(len(src.streams))]
}

// errorLine is what a failed request logs.
func errorLine(kind string) string {
	if kind == "lambda" {
		return "[ERROR] Runtime.HandlerError: upstream inventory returned 503 after {ms}ms (RequestId: {uuid})"
	}
	return "ERROR request {uuid} failed with 500: upstream inventory returned 503 after {ms}ms"
}

// fill replaces a template's {n}, {ms}, {id} and {uuid}.
func fill(r *rand.Rand, tpl string) string {
	if !strings.Contains(tpl, "{") {
		return tpl
	}
	return strings.NewReplacer(
		"{n}", fmt.Sprint(1+r.IntN(3)),
		"{ms}", fmt.Sprint(50+r.IntN(4950)),
		"{id}", fmt.Sprintf("ord-%06d", r.IntN(1000000)),
		"{uuid}", ids.UUID(r),
	).Replace(tpl)
}
