package record

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/perch-dev/perch/model"
)

// Writer appends snapshots and actions to a recording. It is safe for
// concurrent use: snapshots arrive from the engine's subscription while
// actions arrive from whichever viewer acted.
type Writer struct {
	mu   sync.Mutex
	f    *os.File
	gz   *gzip.Writer
	last map[seriesKey][]model.Point
	err  error // the first write error; later writes return it
	// What has been written, against the bounds a reader applies: a
	// recording that would grow past them stops, and replays up to there.
	lim             limits
	n               int64
	frames, actions int
}

// Create starts a recording at path (mode 0600, replacing any file there)
// and writes its header. Format, Version and a zero Created are filled in.
func Create(path string, h Header) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create recording: %w", err)
	}
	// An existing file keeps its mode on O_TRUNC: a recording names who
	// did what, so it is tightened like the audit log.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("set recording %s to mode 0600: %w", path, err)
	}
	h.Format, h.Version = FormatName, FormatVersion
	if h.Created.IsZero() {
		h.Created = time.Now().UTC()
	}
	gz := gzip.NewWriter(f)
	w := &Writer{f: f, gz: gz, last: map[seriesKey][]model.Point{}, lim: defaultLimits()}
	if err := w.encode(h); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Snapshot records s as it was at the recorder's clock time at.
func (w *Writer) Snapshot(at time.Time, s model.Snapshot) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil && w.frames >= w.lim.Frames {
		w.err = tooLarge("reached %d snapshots: recording stopped there", w.lim.Frames)
	}
	deltas := w.deltasLocked(s.Signals)
	s.Signals = model.Signals{} // not in the JSON anyway; never rely on that
	w.frames++
	return w.encode(line{Kind: kindSnapshot, At: at, Snapshot: &s, Signals: deltas})
}

// Action records an intent and, once it is known, its result.
func (w *Writer) Action(at time.Time, in model.Intent, res *model.Result) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil && w.actions >= w.lim.Actions {
		w.err = tooLarge("reached %d actions: recording stopped there", w.lim.Actions)
	}
	w.actions++
	return w.encode(line{Kind: kindAction, At: at, Intent: &in, Result: res})
}

// encode writes one line and flushes the compressor, so that everything
// written so far can be read back even if the process dies before Close.
func (w *Writer) encode(v any) error {
	if w.err != nil {
		return w.err
	}
	if w.gz == nil {
		return errors.New("recording is closed")
	}
	b, err := json.Marshal(v)
	if err != nil {
		w.err = fmt.Errorf("write recording: %w", err)
		return w.err
	}
	b = append(b, '\n')
	switch {
	case len(b) > w.lim.Line:
		w.err = tooLarge("a %d-byte line is over the %d MiB a reader accepts: recording stopped there", len(b), w.lim.Line>>20)
		return w.err
	case w.n+int64(len(b)) > w.lim.Bytes:
		w.err = tooLarge("reached %d MiB: recording stopped there", w.lim.Bytes>>20)
		return w.err
	}
	if _, err := w.gz.Write(b); err != nil {
		w.err = fmt.Errorf("write recording: %w", err)
		return w.err
	}
	w.n += int64(len(b))
	if err := w.gz.Flush(); err != nil {
		w.err = fmt.Errorf("write recording: %w", err)
		return w.err
	}
	return nil
}

// Close ends the gzip stream, syncs and closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gz == nil {
		return w.err
	}
	err := w.gz.Close()
	w.gz = nil
	if serr := w.f.Sync(); err == nil {
		err = serr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close recording: %w", err)
	}
	return w.err
}

// deltasLocked compares sig with what was last written and returns only
// the differences, remembering sig for next time.
func (w *Writer) deltasLocked(sig model.Signals) []seriesDelta {
	var out []seriesDelta
	seen := map[seriesKey]bool{}
	for _, side := range model.Sides {
		names := make([]model.Signal, 0, len(sig[side]))
		for name := range sig[side] {
			names = append(names, name)
		}
		sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
		for _, name := range names {
			k := seriesKey{side, name}
			cur := finite(sig[side][name])
			if len(cur) == 0 {
				continue
			}
			seen[k] = true
			prev := w.last[k]
			d := seriesDelta{Side: side, Signal: name}
			if len(prev) == 0 || !cur[0].T.Equal(prev[0].T) {
				d.From = ms(cur[0].T)
			}
			old := make(map[int64]float64, len(prev))
			for _, p := range prev {
				old[ms(p.T)] = p.V
			}
			for _, p := range cur {
				if v, ok := old[ms(p.T)]; !ok || v != p.V {
					d.Points = append(d.Points, [2]float64{float64(ms(p.T)), p.V})
				}
			}
			if d.From != 0 || len(d.Points) > 0 {
				out = append(out, d)
			}
			w.last[k] = cur
		}
	}
	gone := make([]seriesKey, 0)
	for k := range w.last {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	sort.Slice(gone, func(i, j int) bool {
		if gone[i].side != gone[j].side {
			return gone[i].side < gone[j].side
		}
		return gone[i].signal < gone[j].signal
	})
	for _, k := range gone {
		out = append(out, seriesDelta{Side: k.side, Signal: k.signal, Gone: true})
		delete(w.last, k)
	}
	return out
}

// finite drops points JSON cannot carry; CloudWatch never sends them, so
// this only guards the encoder. It returns a copy either way: the caller
// keeps it.
func finite(pts []model.Point) []model.Point {
	out := make([]model.Point, 0, len(pts))
	for _, p := range pts {
		if !math.IsNaN(p.V) && !math.IsInf(p.V, 0) {
			out = append(out, p)
		}
	}
	return out
}
