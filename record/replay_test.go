package record_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/record"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim/simtest"
	"github.com/perch-dev/perch/ui"
)

const screenW, screenH = 200, 50

func asciiRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

// render draws a fresh cockpit on eng at 200x50, ANSI stripped.
func render(eng rollout.Control, o ui.Options) string {
	o.Renderer = asciiRenderer()
	m := ui.New(eng, o)
	m.Update(tea.WindowSizeMsg{Width: screenW, Height: screenH})
	return ansi.Strip(m.View())
}

// body is the screen without its header (2 lines), status and help
// lines: the part a live cockpit and its replay must show identically.
func body(screen string) string {
	lines := strings.Split(screen, "\n")
	return strings.Join(lines[2:len(lines)-2], "\n")
}

// static serves one snapshot: the live cockpit as it was at that moment.
type static struct{ s model.Snapshot }

func (e static) Snapshot() model.Snapshot { return e.s }
func (e static) Subscribe() (<-chan model.Snapshot, func()) {
	ch := make(chan model.Snapshot, 1)
	ch <- e.s
	return ch, func() {}
}
func (e static) Execute(context.Context, model.Intent) model.Result { return model.Result{} }

type step struct {
	at     time.Time
	seq    uint64
	live   string // the live cockpit's screen
	golden string // golden name, "" for none
}

// recordErrorSpike runs the error-spike demo on the simulator with a
// manual clock: polls every 30 simulated seconds for 14 minutes, stepping
// the canary up twice and rolling it back once the errors (which start
// eight minutes in) show, all recorded. It returns the recording's path and the live screens.
func recordErrorSpike(t *testing.T) (string, []step) {
	t.Helper()
	env := simtest.Start(t, simtest.Options{ScenarioName: "error-spike"})
	ctx := context.Background()
	tg := env.Target(t, "checkout")
	router, err := perchaws.NewALBRouter(ctx, env.AWS, perchaws.ALBOptions{RuleARN: tg.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	eng, err := rollout.New(rollout.Config{
		Router: router, Health: router,
		Metrics: perchaws.NewALBMetrics(env.AWS, router.Target()),
		Alarms:  perchaws.NewAlarms(env.AWS), AlarmNames: tg.Alarms,
		Identity: perchaws.NewIdentity(env.AWS),
		Audit:    log, Clock: env.Clock, Poll: 30 * time.Second, History: time.Hour,
		DescribeError: perchaws.DescribeError,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "error-spike.perch.gz")
	w, err := record.Create(path, record.Header{Target: router.Target(), Title: "demo · error-spike", Poll: 30 * time.Second,
		Created: simtest.Epoch})
	if err != nil {
		t.Fatal(err)
	}
	rec := record.Start(eng, w, env.Clock)
	actor := model.Actor{OSUser: "ana", Via: "cockpit"}
	act := func(kind model.IntentKind) {
		s := eng.Snapshot()
		exp := s.Split
		res := rec.Engine().Execute(ctx, model.Intent{Kind: kind, Expected: &exp, Actor: actor, Reason: "replay test"})
		if res.Outcome != model.OutcomeOK {
			t.Fatalf("%s: %+v", kind, res)
		}
	}
	var steps []step
	for i := 0; i <= 28; i++ {
		if i > 0 {
			env.Advance(30 * time.Second)
		}
		eng.PollOnce(ctx)
		name := ""
		switch i {
		case 2, 4:
			act(model.StepUp)
		case 24:
			act(model.Rollback)
		}
		switch i {
		case 0:
			name = "replay-start"
		case 4:
			name = "replay-stepped"
		case 24:
			name = "replay-rolled-back"
		}
		s := eng.Snapshot()
		if err := rec.WaitSeq(s.Seq, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, step{at: env.Clock.Now(), seq: s.Seq, live: render(static{s}, ui.Options{Actor: actor}), golden: name})
	}
	if err := rec.Stop(); err != nil {
		t.Fatal(err)
	}
	return path, steps
}

func TestErrorSpikeReplaysToTheSameScreens(t *testing.T) {
	path, steps := recordErrorSpike(t)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("recording mode %04o, want 0600", st.Mode().Perm())
	}
	rec, err := record.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Truncated {
		t.Error("a cleanly closed recording reads as truncated")
	}
	if n := len(rec.Actions); n != 6 {
		t.Errorf("%d action lines, want 6 (intent and result of 3 actions)", n)
	}
	t.Logf("%d frames, %d bytes compressed", len(rec.Frames), st.Size())

	// Play at 10x on a clock of its own.
	clk := clock.NewManual(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	player := record.NewPlayer(rec, clk, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen, unsubscribe := player.Subscribe()
	defer unsubscribe()
	go player.Run(ctx)

	opts := ui.Options{Replay: player, Title: "replay"}
	prev := rec.Start()
	for i, s := range steps {
		clk.Advance(s.at.Sub(prev) / 10)
		prev = s.at
		waitSeq(t, seen, s.seq)
		got := render(player, opts)
		if body(got) != body(s.live) {
			t.Fatalf("step %d (%s): the replay differs from the live cockpit\n--- replay ---\n%s\n--- live ---\n%s",
				i, s.at.Format(time.TimeOnly), got, s.live)
		}
		if s.golden != "" {
			t.Run(s.golden+"-200x50", func(t *testing.T) { golden.RequireEqual(t, []byte(got)) })
		}
	}
	if st := player.Replay(); !st.At.Equal(rec.End()) {
		t.Errorf("replay ended at %v, want %v", st.At, rec.End())
	}
}

// waitSeq reads frames until the one numbered seq arrives (bounded).
func waitSeq(t *testing.T, ch <-chan model.Snapshot, seq uint64) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case s := <-ch:
			if s.Seq == seq {
				return
			}
			if s.Seq > seq {
				t.Fatalf("replay skipped past frame %d to %d", seq, s.Seq)
			}
		case <-deadline.C:
			t.Fatalf("frame %d not shown within 10s", seq)
		}
	}
}

func TestRecordingNeverHoldsCredentials(t *testing.T) {
	const secret, token = "MARKERsecretAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "MARKERtokenBBBBBBBBBBBBBBBBBBBB"
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIAMARKERKEYID00000",
		"AWS_SECRET_ACCESS_KEY":       secret,
		"AWS_SESSION_TOKEN":           token,
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	env := simtest.Start(t, simtest.Options{ScenarioName: "healthy"})
	ctx := context.Background()
	// The real credential chain, as the CLI loads it: from the environment.
	cfg, err := perchaws.LoadConfig(ctx, perchaws.ConfigOptions{Region: "us-east-1", EndpointURL: env.URL})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := cfg.Credentials.Retrieve(ctx); err != nil || c.SecretAccessKey != secret {
		t.Fatalf("the test must run with the marker credentials: %v", err)
	}
	tg := env.Target(t, "checkout")
	router, err := perchaws.NewALBRouter(ctx, cfg, perchaws.ALBOptions{RuleARN: tg.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	eng, err := rollout.New(rollout.Config{Router: router, Health: router, Metrics: perchaws.NewALBMetrics(cfg, router.Target()),
		Identity: perchaws.NewIdentity(cfg), Audit: log, Clock: env.Clock, History: time.Hour, DescribeError: perchaws.DescribeError})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rec.gz")
	w, err := record.Create(path, record.Header{Target: router.Target()})
	if err != nil {
		t.Fatal(err)
	}
	rec := record.Start(eng, w, env.Clock)
	eng.PollOnce(ctx)
	exp := eng.Snapshot().Split
	rec.Engine().Execute(ctx, model.Intent{Kind: model.StepUp, Expected: &exp, Actor: model.Actor{OSUser: "ana"}})
	env.Advance(time.Minute)
	eng.PollOnce(ctx)
	if err := rec.Stop(); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(plain, []byte(`"kind":"action"`)) || !bytes.Contains(plain, []byte(`"split"`)) {
		t.Fatalf("the recording does not look complete:\n%.400s", plain)
	}
	for _, marker := range []string{secret, token, "MARKER"} {
		if bytes.Contains(plain, []byte(marker)) || bytes.Contains(raw, []byte(marker)) {
			t.Errorf("the recording contains %q", marker)
		}
	}
}
