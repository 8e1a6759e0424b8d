package record_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/record"
	"github.com/perch-dev/perch/ui"
)

var t0 = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// snapAt is a snapshot at minute i whose series hold the last (at most)
// cap minutes, the newest point revised at every step.
func snapAt(i, keep int) model.Snapshot {
	now := t0.Add(time.Duration(i) * time.Minute)
	var req, lat []model.Point
	for m := max(0, i-keep+1); m <= i; m++ {
		v := float64(100 + m)
		if m == i {
			v = 1 // the newest period is not complete yet
		}
		req = append(req, model.Point{T: t0.Add(time.Duration(m) * time.Minute), V: v})
		lat = append(lat, model.Point{T: t0.Add(time.Duration(m) * time.Minute), V: 0.25 * float64(m)})
	}
	s := model.Snapshot{Seq: uint64(i + 1), Now: now, SplitKnown: true,
		Split: model.Split{StableID: "s", CanaryID: "c", StableWeight: 100 - i, CanaryWeight: i}}
	s.Signals[model.Stable] = model.SideSignals{model.Requests: req, model.LatencyP99: lat}
	s.Signals[model.Canary] = model.SideSignals{model.Requests: req}
	if i >= 50 {
		delete(s.Signals[model.Canary], model.Requests) // a signal that disappears
	}
	return s
}

func normal(s model.Snapshot) model.Snapshot {
	for _, side := range model.Sides {
		if s.Signals[side] == nil {
			s.Signals[side] = model.SideSignals{}
		}
	}
	return s
}

func writeFrames(t *testing.T, path string, n, keep int) []model.Snapshot {
	t.Helper()
	w, err := record.Create(path, record.Header{Target: model.Target{Name: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	var snaps []model.Snapshot
	for i := 0; i < n; i++ {
		s := snapAt(i, keep)
		snaps = append(snaps, s)
		if err := w.Snapshot(s.Now, s); err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			if err := w.Action(s.Now, model.Intent{Kind: model.StepUp}, &model.Result{Outcome: model.OutcomeOK}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return snaps
}

func TestRoundTripRebuildsEverySnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.gz")
	snaps := writeFrames(t, path, 100, 30)
	rec, err := record.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Frames) != 100 || len(rec.Actions) != 1 || rec.Header.Target.Name != "t" || rec.Header.Format != record.FormatName {
		t.Fatalf("read %d frames, %d actions, header %+v", len(rec.Frames), len(rec.Actions), rec.Header)
	}
	// In any order: checkpoints and deltas must agree.
	for _, i := range []int{99, 0, 31, 32, 33, 64, 50, 49, 1} {
		got, want := rec.Snapshot(i), normal(snaps[i])
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("frame %d:\n got %+v\nwant %+v", i, got.Signals, want.Signals)
		}
	}
	// A viewer may keep (and even scribble on) what it was given.
	s := rec.Snapshot(40)
	s.Signals[model.Stable][model.Requests][0].V = -1
	if rec.Snapshot(40).Signals[model.Stable][model.Requests][0].V == -1 {
		t.Fatal("Snapshot hands out the recording's own slices")
	}
}

func TestSeriesAreWrittenAsDeltas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.gz")
	writeFrames(t, path, 40, 30)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(plain), []byte("\n"))
	var last struct {
		Signals []struct {
			Points [][2]float64 `json:"points"`
		} `json:"signals"`
	}
	if err := json.Unmarshal(lines[len(lines)-1], &last); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range last.Signals {
		n += len(d.Points)
	}
	// Both request series gain a point and revise the one before (2
	// each); latency only gains one: 5 points, not 3 x 30.
	if n != 5 {
		t.Errorf("the last snapshot line carries %d points, want 5:\n%s", n, lines[len(lines)-1])
	}
}

func TestTruncatedRecordingKeepsWhatWasWritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.gz")
	w, err := record.Create(path, record.Header{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		s := snapAt(i, 10)
		if err := w.Snapshot(s.Now, s); err != nil {
			t.Fatal(err)
		}
	}
	// The process dies here: no Close. Every line was flushed.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := record.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Truncated || len(rec.Frames) != 5 {
		t.Fatalf("truncated=%v frames=%d, want true and 5", rec.Truncated, len(rec.Frames))
	}
	// Cut into the middle of the stream as well.
	rec, err = record.Read(bytes.NewReader(data[:len(data)*2/3]))
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Truncated || len(rec.Frames) == 0 || len(rec.Frames) >= 5 {
		t.Fatalf("cut short: truncated=%v frames=%d", rec.Truncated, len(rec.Frames))
	}
	w.Close()
}

func TestReadRefusesOtherFiles(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		io.WriteString(zw, s)
		zw.Close()
		return b.Bytes()
	}
	for name, data := range map[string][]byte{
		"plain":     []byte(`{"format":"perch-recording","version":1}` + "\n"),
		"audit log": gz(`{"seq":1,"time":"2026-01-01T00:00:00Z"}` + "\n"),
		"version 2": gz(`{"format":"perch-recording","version":2}` + "\n"),
		"empty":     gz(`{"format":"perch-recording","version":1}` + "\n"),
		"garbage":   gz(`{"format":"perch-recording","version":1}` + "\n{not json}\n"),
	} {
		if _, err := record.Read(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: read as a recording", name)
		}
	}
}

func TestCreateTightensAnExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.gz")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := record.Create(path, record.Header{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", st.Mode().Perm())
	}
}

// TestPlayerControls drives the replay keys through the cockpit.
func TestPlayerControls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.gz")
	writeFrames(t, path, 10, 5) // one frame a minute, 07:00 to 07:09
	rec, err := record.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(t0)
	p := record.NewPlayer(rec, clk, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	m := ui.New(p, ui.Options{Replay: p, Renderer: asciiRenderer()})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	key := func(k tea.KeyMsg) { m.Update(k) }
	runes := func(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }
	at := func() string { return p.Snapshot().Now.Format("15:04") }

	clk.BlockUntil(1)
	clk.Advance(6 * time.Second) // one recorded minute at 10x
	waitNow(t, p, "07:01")
	key(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
	if st := p.Replay(); !st.Paused {
		t.Fatal("space did not pause")
	}
	clk.Advance(time.Minute)
	if at() != "07:01" {
		t.Fatalf("paused replay moved to %s", at())
	}
	key(tea.KeyMsg{Type: tea.KeyRight})
	key(tea.KeyMsg{Type: tea.KeyRight})
	if at() != "07:03" {
		t.Fatalf("→→ from 07:01: %s", at())
	}
	key(tea.KeyMsg{Type: tea.KeyLeft})
	if at() != "07:02" {
		t.Fatalf("← from 07:03: %s", at())
	}
	key(tea.KeyMsg{Type: tea.KeyEnd})
	if at() != "07:09" {
		t.Fatalf("end: %s", at())
	}
	key(tea.KeyMsg{Type: tea.KeyHome})
	if at() != "07:00" {
		t.Fatalf("home: %s", at())
	}
	key(runes(">"))
	if st := p.Replay(); st.Speed != 20 {
		t.Fatalf("> from 10x: %vx", st.Speed)
	}
	key(runes("<"))
	key(runes("<"))
	if st := p.Replay(); st.Speed != 5 {
		t.Fatalf("<< from 20x: %vx", st.Speed)
	}
	v := m.View()
	if !strings.Contains(v, "REPLAY ❚❚ paused") || !strings.Contains(v, "space pause/play") {
		t.Errorf("replay header or help missing:\n%s", v)
	}
	// Write keys do nothing in a replay, and say why.
	key(runes("+"))
	if !strings.Contains(m.View(), "replay: a recording cannot move traffic") {
		t.Errorf("+ in a replay:\n%s", m.View())
	}
	key(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}) // play from 07:00 at 5x
	clk.BlockUntil(1)
	clk.Advance(12 * time.Second)
	waitNow(t, p, "07:01")
	if res := p.Execute(ctx, model.Intent{Kind: model.Rollback}); res.Outcome != model.OutcomeRefused {
		t.Fatalf("a player executed an intent: %+v", res)
	}
}

func waitNow(t *testing.T, p *record.Player, hhmm string) {
	t.Helper()
	ch, cancel := p.Subscribe()
	defer cancel()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case s := <-ch:
			if s.Now.Format("15:04") == hhmm {
				return
			}
		case <-deadline.C:
			t.Fatalf("replay did not reach %s (at %s)", hhmm, p.Snapshot().Now.Format("15:04"))
		}
	}
}

// A replay answers every control, saying it is not available there.
func TestPlayerRefusesEveryControlWithAReason(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.perch.gz")
	writeFrames(t, path, 3, 3)
	rec, err := record.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p := record.NewPlayer(rec, clock.NewManual(t0), 1)
	for _, kind := range []model.IntentKind{model.Pause, model.Resume, model.ConfirmCanary, model.Rollback} {
		res := p.Execute(context.Background(), model.Intent{Kind: kind})
		if res.Outcome != model.OutcomeRefused || res.Reason != model.ReasonUnsupported || !strings.HasPrefix(res.Err, "replay: ") {
			t.Fatalf("%s: %+v", kind, res)
		}
		if kind != model.Rollback && !strings.Contains(res.Err, "not available in a replay") {
			t.Fatalf("%s: %q", kind, res.Err)
		}
	}
}

// The player is what the cockpit's replay keys drive.
var _ ui.Replay = (*record.Player)(nil)
