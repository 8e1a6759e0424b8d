package record

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/perch-dev/perch/model"
)

// checkpointEvery is how many frames apart full series are kept, at
// first, so that any frame is rebuilt from a few deltas without holding
// hours of series for every frame. A long recording doubles the distance
// as often as needed to keep the checkpoints within half the points
// budget: seeking then replays more deltas, memory stays bounded.
const checkpointEvery = 32

// Frame is one recorded snapshot.
type Frame struct {
	At   time.Time
	snap model.Snapshot // without Signals
	d    []seriesDelta
}

// Action is one recorded intent, with its result when it finished.
type Action struct {
	At     time.Time
	Intent model.Intent
	Result *model.Result
}

// Recording is a recording read into memory.
type Recording struct {
	Header  Header
	Frames  []Frame
	Actions []Action
	// Truncated reports that the file ended mid-stream (the recorder was
	// killed): everything up to the last complete line is here.
	Truncated bool

	checkpoints []map[seriesKey][]model.Point // checkpoints[i]: state after frame i*every
	every       int
}

// Open reads the recording at path.
func Open(path string) (*Recording, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open recording: %w", err)
	}
	defer f.Close()
	rec, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("read recording %s: %w", path, err)
	}
	return rec, nil
}

// Read reads a recording from r, refusing one past the bounds a recording
// perch writes stays within (see limits): the file is not trusted.
func Read(r io.Reader) (*Recording, error) { return read(r, defaultLimits()) }

func read(r io.Reader, lim limits) (*Recording, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a perch recording (not gzip): %w", err)
	}
	defer gz.Close()
	br := bufio.NewReaderSize(&boundedReader{r: gz, left: lim.Bytes, limit: lim.Bytes}, 64<<10)

	rec := &Recording{every: checkpointEvery}
	var buf []byte
	first, err := readLine(br, lim.Line, &buf)
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if err := json.Unmarshal(first, &rec.Header); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if rec.Header.Format != FormatName {
		return nil, fmt.Errorf("not a perch recording (format %q)", rec.Header.Format)
	}
	if rec.Header.Version != FormatVersion {
		return nil, fmt.Errorf("recording format version %d; this perch reads version %d", rec.Header.Version, FormatVersion)
	}

	state := map[seriesKey][]model.Point{}
	// Points kept: in the checkpoints, and in the frames' deltas (the
	// state itself is counted as it goes).
	var inCheckpoints, inDeltas int
	for n := 2; ; n++ {
		b, err := readLine(br, lim.Line, &buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			rec.Truncated = true
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		switch l.Kind {
		case kindSnapshot:
			if l.Snapshot == nil {
				return nil, fmt.Errorf("line %d: snapshot line without a snapshot", n)
			}
			if i := len(rec.Frames); i > 0 && l.At.Before(rec.Frames[i-1].At) {
				return nil, fmt.Errorf("line %d: snapshot at %s is before the previous one", n, l.At.Format(time.RFC3339))
			}
			if len(rec.Frames) >= lim.Frames {
				return nil, tooLarge("more than %d snapshots", lim.Frames)
			}
			s := *l.Snapshot
			s.Signals = model.Signals{}
			rec.Frames = append(rec.Frames, Frame{At: l.At, snap: s, d: l.Signals})
			apply(state, l.Signals)
			points, err := checkSeries(state, lim)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			for _, d := range l.Signals {
				inDeltas += len(d.Points)
			}
			if (len(rec.Frames)-1)%rec.every == 0 {
				rec.checkpoints = append(rec.checkpoints, clone(state))
				inCheckpoints += points
				for inCheckpoints > lim.HeldPoints/2 && len(rec.checkpoints) > 1 {
					inCheckpoints = rec.thin()
				}
			}
			if inCheckpoints+points+inDeltas > lim.HeldPoints {
				return nil, fmt.Errorf("line %d: %w", n, tooLarge("more than %d metric points to keep", lim.HeldPoints))
			}
		case kindAction:
			if l.Intent == nil {
				return nil, fmt.Errorf("line %d: action line without an intent", n)
			}
			if len(rec.Actions) >= lim.Actions {
				return nil, tooLarge("more than %d actions", lim.Actions)
			}
			rec.Actions = append(rec.Actions, Action{At: l.At, Intent: *l.Intent, Result: l.Result})
		default:
			// A newer writer's line kind: skip it rather than refuse the file.
		}
	}
	if len(rec.Frames) == 0 {
		return nil, errors.New("the recording has no snapshots")
	}
	return rec, nil
}

// thin drops every other checkpoint, doubling the distance between them,
// and returns the points the rest hold.
func (r *Recording) thin() int {
	kept, points := r.checkpoints[:0], 0
	for i, c := range r.checkpoints {
		if i%2 == 0 {
			kept = append(kept, c)
			for _, pts := range c {
				points += len(pts)
			}
		}
	}
	clear(r.checkpoints[len(kept):])
	r.checkpoints, r.every = kept, 2*r.every
	return points
}

// checkSeries refuses series past the bounds and returns how many points
// they hold.
func checkSeries(state map[seriesKey][]model.Point, lim limits) (int, error) {
	if len(state) > lim.Series {
		return 0, tooLarge("more than %d metric series", lim.Series)
	}
	points := 0
	for k, pts := range state {
		if len(pts) > lim.SeriesPoints {
			return 0, tooLarge("series %s/%s has more than %d points", k.side, k.signal, lim.SeriesPoints)
		}
		points += len(pts)
	}
	return points, nil
}

// readLine returns one line without its newline. A last line without one
// is a torn write and reads as io.ErrUnexpectedEOF, as does a gzip stream
// cut short.
//
// The line is read into *buf, which grows to the longest line and is
// reused: a file of long lines costs their decoded content, not a fresh
// buffer grown for each. The line is valid until the next call.
func readLine(br *bufio.Reader, max int, buf *[]byte) ([]byte, error) {
	out := (*buf)[:0]
	defer func() { *buf = out[:0] }()
	for {
		chunk, err := br.ReadSlice('\n')
		out = append(out, chunk...)
		if len(out) > max {
			return nil, tooLarge("a line longer than %d MiB", max>>20)
		}
		switch {
		case err == nil:
			return out[:len(out)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(out) == 0 {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// Start and End are the times of the first and last snapshot.
func (r *Recording) Start() time.Time { return r.Frames[0].At }
func (r *Recording) End() time.Time   { return r.Frames[len(r.Frames)-1].At }

// Snapshot rebuilds frame i's snapshot, metric series included. Each call
// returns fresh slices: a viewer may keep them.
func (r *Recording) Snapshot(i int) model.Snapshot {
	i = max(0, min(i, len(r.Frames)-1))
	c := i / r.every
	state := clone(r.checkpoints[c])
	for j := c*r.every + 1; j <= i; j++ {
		apply(state, r.Frames[j].d)
	}
	s := r.Frames[i].snap
	for _, side := range model.Sides {
		s.Signals[side] = model.SideSignals{}
	}
	for k, pts := range state {
		s.Signals[k.side][k.signal] = pts
	}
	return s
}

// FrameAt is the index of the last frame at or before t (0 if t is before
// the first).
func (r *Recording) FrameAt(t time.Time) int {
	i := sort.Search(len(r.Frames), func(i int) bool { return r.Frames[i].At.After(t) })
	return max(0, i-1)
}

func apply(state map[seriesKey][]model.Point, ds []seriesDelta) {
	for _, d := range ds {
		if d.Side != model.Stable && d.Side != model.Canary {
			continue
		}
		k := seriesKey{d.Side, d.Signal}
		if d.Gone {
			delete(state, k)
			continue
		}
		pts := state[k]
		if d.From != 0 {
			from := fromMS(d.From)
			i := sort.Search(len(pts), func(i int) bool { return !pts[i].T.Before(from) })
			pts = pts[i:]
		}
		add := make([]model.Point, len(d.Points))
		for i, p := range d.Points {
			add[i] = model.Point{T: fromMS(int64(p[0])), V: p[1]}
		}
		pts = merge(pts, add)
		state[k] = pts
	}
}

// merge returns a new slice with the points of both in time order; at
// the same time, add's point wins (CloudWatch revised it). It never
// writes into old, which a checkpoint may share.
func merge(old, add []model.Point) []model.Point {
	sort.SliceStable(add, func(i, j int) bool { return add[i].T.Before(add[j].T) })
	out := make([]model.Point, 0, len(old)+len(add))
	i, j := 0, 0
	for i < len(old) || j < len(add) {
		switch {
		case j == len(add):
			out = append(out, old[i])
			i++
		case i == len(old) || add[j].T.Before(old[i].T):
			out = append(out, add[j])
			j++
		case add[j].T.Equal(old[i].T):
			out = append(out, add[j])
			i++
			j++
		default:
			out = append(out, old[i])
			i++
		}
	}
	return out
}

func clone(state map[seriesKey][]model.Point) map[seriesKey][]model.Point {
	out := make(map[seriesKey][]model.Point, len(state))
	for k, v := range state {
		out[k] = append([]model.Point(nil), v...)
	}
	return out
}
