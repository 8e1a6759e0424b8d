package record

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/model"
)

// craft gzips a recording header and body(w) at the best compression, as
// an attacker would to make a small file.
func craft(t *testing.T, body func(w io.Writer)) []byte {
	t.Helper()
	var b bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	fmt.Fprintf(gz, `{"format":%q,"version":%d,"target":{"kind":"alb","name":"t"}}`+"\n", FormatName, FormatVersion)
	body(gz)
	gz.Close()
	return b.Bytes()
}

const frameLine = `{"kind":"snapshot","at":"2026-01-01T00:00:00Z","snapshot":{}}` + "\n"

// Crafted recordings of at most 2 MB that decompress to hundreds of
// megabytes or more, each aimed at one thing a reader keeps: a line, the
// frames, the decompressed bytes, the metric points, the checkpoints.
// Each is refused (or, for the checkpoints, read with them thinned) within
// a bounded allocation. Before, one such file took 3.4 GB.
func TestCraftedRecordingsCostBoundedMemory(t *testing.T) {
	lim := defaultLimits()
	points := func(w io.Writer, n int, t0 int64, series string) {
		fmt.Fprintf(w, `{"kind":"snapshot","at":"2026-01-01T00:00:00Z","snapshot":{},"signals":[{"side":0,"signal":%q,"points":[`, series)
		for i := range n {
			if i > 0 {
				io.WriteString(w, ",")
			}
			fmt.Fprintf(w, "[%d,1]", t0+int64(i)*60000)
		}
		io.WriteString(w, "]}]}\n")
	}
	for _, tc := range []struct {
		name    string
		body    func(w io.Writer)
		refused string // "" when it must read
		heavy   bool   // decodes hundreds of megabytes
	}{
		{"one endless line", func(w io.Writer) {
			io.WriteString(w, `{"kind":"snapshot","snapshot":{"target":{"name":"`)
			io.WriteString(w, strings.Repeat("A", 12<<20))
		}, "a line longer than", false},
		{"millions of frames", func(w io.Writer) {
			io.WriteString(w, strings.Repeat(frameLine, 60_000))
		}, "more than 50000 snapshots", true},
		{"frames with big strings", func(w io.Writer) {
			name := strings.Repeat("B", 7<<20)
			for range 38 {
				fmt.Fprintf(w, `{"kind":"snapshot","at":"2026-01-01T00:00:00Z","snapshot":{"target":{"name":%q}}}`+"\n", name)
			}
		}, "more than 256 MiB once decompressed", true},
		{"millions of points at one instant", func(w io.Writer) {
			line := `{"kind":"snapshot","at":"2026-01-01T00:00:00Z","snapshot":{},"signals":[{"side":0,"signal":"requests","points":[[0,0]` +
				strings.Repeat(",[0,0]", (lim.Line-200)/6) + "]}]}\n"
			for range 2 {
				io.WriteString(w, line)
			}
		}, "has more than", true},
		{"one series past its bound", func(w io.Writer) { points(w, lim.SeriesPoints+1, 1_700_000_000_000, "requests") }, "has more than", false},
		{"too many series", func(w io.Writer) {
			for i := range lim.Series + 1 {
				points(w, 1, 1_700_000_000_000, fmt.Sprintf("custom-%d", i))
			}
		}, "metric series", false},
		{"checkpoints of full series", func(w io.Writer) {
			for i := range lim.Series / 2 {
				points(w, lim.SeriesPoints, 1_700_000_000_000, fmt.Sprintf("custom-%d", i))
			}
			io.WriteString(w, strings.Repeat(frameLine, 20_000))
		}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.heavy && raceEnabled {
				t.Skip("decodes hundreds of megabytes: minutes under the race detector; the same bounds are checked without it")
			}
			file := craft(t, tc.body)
			if len(file) > 2<<20 {
				t.Fatalf("test setup: the crafted file is %d bytes, want at most 2 MB", len(file))
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			rec, err := Read(bytes.NewReader(file))
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d KB file: %v after %v, %.0f MiB allocated", len(file)>>10, err, time.Since(start).Round(time.Millisecond), float64(allocated)/(1<<20))
			switch {
			case tc.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refused != "" && (!errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tc.refused)):
				t.Fatalf("err %v, want it refused for %q", err, tc.refused)
			}
			if rec != nil {
				// Thinned, and every frame still rebuilds.
				if held := rec.checkpointPoints(); held > lim.HeldPoints/2 {
					t.Errorf("checkpoints hold %d points, bound %d", held, lim.HeldPoints/2)
				}
				if s := rec.Snapshot(len(rec.Frames) - 1); len(s.Signals[0]) != lim.Series/2 {
					t.Errorf("last frame has %d series, want %d", len(s.Signals[0]), lim.Series/2)
				}
			}
			if allocated > 1<<30 {
				t.Errorf("reading it allocated %d MiB, bound 1024", allocated>>20)
			}
		})
	}
}

func (r *Recording) checkpointPoints() int {
	n := 0
	for _, c := range r.checkpoints {
		for _, pts := range c {
			n += len(pts)
		}
	}
	return n
}

// The writer stops where a reader would refuse: what perch records
// always replays.
func TestWriterStopsAtTheReadersBounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.perch.gz")
	w, err := Create(path, Header{})
	if err != nil {
		t.Fatal(err)
	}
	lim := defaultLimits()
	lim.Bytes = 64 << 10
	w.lim = lim
	written := 0
	snap := model.Snapshot{Target: model.Target{Name: strings.Repeat("n", 300)}}
	for ; written < 10_000; written++ {
		if err = w.Snapshot(time.Unix(int64(written), 0), snap); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrTooLarge) || !errors.Is(w.Snapshot(time.Now(), snap), ErrTooLarge) {
		t.Fatalf("writing past the bound: %v", err)
	}
	if cerr := w.Close(); !errors.Is(cerr, ErrTooLarge) {
		t.Fatalf("close: %v", cerr)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := read(f, lim)
	if err != nil || len(rec.Frames) != written || rec.Truncated {
		t.Fatalf("reading back what was written: %v; %d frames of %d", err, len(rec.Frames), written)
	}
}
