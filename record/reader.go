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

// maxLine bounds one line of a recording; a snapshot with a full audit
// tail is tens of kilobytes, and a file is not trusted to be well formed.
const maxLine = 32 << 20

// checkpointEvery is how many frames apart full series are kept, so that
// any frame is rebuilt from a few deltas without holding hours of series
// for every frame.
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

	checkpoints []map[seriesKey][]model.Point // checkpoints[i]: state after frame i*checkpointEvery
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

// Read reads a recording from r.
func Read(r io.Reader) (*Recording, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a perch recording (not gzip): %w", err)
	}
	defer gz.Close()
	br := bufio.NewReaderSize(gz, 64<<10)

	rec := &Recording{}
	first, err := readLine(br)
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
	for n := 2; ; n++ {
		b, err := readLine(br)
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
			s := *l.Snapshot
			s.Signals = model.Signals{}
			rec.Frames = append(rec.Frames, Frame{At: l.At, snap: s, d: l.Signals})
			apply(state, l.Signals)
			if (len(rec.Frames)-1)%checkpointEvery == 0 {
				rec.checkpoints = append(rec.checkpoints, clone(state))
			}
		case kindAction:
			if l.Intent == nil {
				return nil, fmt.Errorf("line %d: action line without an intent", n)
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

// readLine returns one line without its newline. A last line without one
// is a torn write and reads as io.ErrUnexpectedEOF, as does a gzip stream
// cut short.
func readLine(br *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		chunk, err := br.ReadSlice('\n')
		out = append(out, chunk...)
		if len(out) > maxLine {
			return nil, fmt.Errorf("line longer than %d bytes", maxLine)
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
	c := i / checkpointEvery
	state := clone(r.checkpoints[c])
	for j := c*checkpointEvery + 1; j <= i; j++ {
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
