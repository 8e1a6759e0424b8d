package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/perch-dev/perch/audit"
	"github.com/perch-dev/perch/pair/pairtest"
	"github.com/perch-dev/perch/record"
	"github.com/perch-dev/perch/ui"
)

// pressKey sends one key to a cockpit and runs what it asks for, feeding
// the answers back, as bubbletea would.
func pressKey(m *ui.Model, k string) {
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
	for cmd != nil {
		msg := cmd()
		if msg == nil {
			return
		}
		_, cmd = m.Update(msg)
	}
}

// space pauses and resumes the autopilot through the recorder's engine:
// the recorder forwards every action, pausing included.
func TestSpacePausesTheAutopilotWhileRecording(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	g := &globalFlags{endpointURL: c.sim.URL, region: "us-east-1", poll: 10 * time.Second, auditLog: auditPath, reconcileAfter: time.Minute}
	tf := &targetFlags{ruleARN: c.sim.Manifest.Targets[0].RuleARN, ladder: "0,1,5,10,25,50,100", plan: "10%:1h,25%:1h,100%"}
	ctx := context.Background()
	s, err := openSession(ctx, g, tf, sessionOptions{via: "cockpit"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.engine.PollOnce(ctx)
	recPath := filepath.Join(t.TempDir(), "session.perch.gz")
	eng, stopRec, err := startRecording(s, recordTo{path: recPath}, "test", g.poll)
	if err != nil {
		t.Fatal(err)
	}
	m := ui.New(eng, ui.Options{Actor: s.actor})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	if ap := s.engine.Snapshot().Autopilot; ap == nil || !ap.Running {
		t.Fatalf("autopilot not running before space: %+v", ap)
	}
	pressKey(m, " ")
	if ap := s.engine.Snapshot().Autopilot; !ap.State.Paused {
		t.Fatalf("space did not pause the autopilot through the recorder: %s", m.View())
	}
	if !strings.Contains(m.View(), "autopilot paused") {
		t.Fatalf("screen does not say paused:\n%s", m.View())
	}
	// A cockpit that opens now sees the pause, and space resumes.
	m = ui.New(eng, ui.Options{Actor: s.actor})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	pressKey(m, " ")
	if ap := s.engine.Snapshot().Autopilot; ap.State.Paused {
		t.Fatal("second space did not resume the autopilot")
	}
	stopRec()
	rec, err := record.Open(recPath)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, a := range rec.Actions {
		if a.Result != nil {
			kinds = append(kinds, string(a.Intent.Kind)+":"+string(a.Result.Outcome))
		}
	}
	if strings.Join(kinds, " ") != "pause:ok resume:ok" {
		t.Fatalf("recorded actions: %v", kinds)
	}
}

// The driver of a shared session pauses and resumes the autopilot; a
// watcher's space is refused on the watcher's screen.
func TestServeDriverPausesTheAutopilot(t *testing.T) {
	ana, bob := pairtest.NewKey(t, "ana@laptop"), pairtest.NewKey(t, "bob@laptop")
	r := startServeWithPlan(t, "10%:1h,25%:1h,100%", ana, bob)
	driver := r.dial(t, "ana", ana)
	driver.Expect(t, "▶ ana (you) drives")
	driver.Expect(t, "pause autopilot")
	watcher := r.dial(t, "bob", bob)
	watcher.Expect(t, "watching: bob (you)")

	if err := watcher.Type(" "); err != nil {
		t.Fatal(err)
	}
	watcher.Expect(t, "watching: ana drives")
	if err := driver.Type(" "); err != nil {
		t.Fatal(err)
	}
	driver.Expect(t, "autopilot paused")
	driver.Expect(t, "resume autopilot")
	if err := driver.Type(" "); err != nil {
		t.Fatal(err)
	}
	driver.Expect(t, "autopilot resumed")

	r.stop()
	entries, err := audit.ReadAll(r.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Action == "pause" || e.Action == "resume" {
			got = append(got, e.Action+" by "+e.Actor.Via)
		}
	}
	if want := "pause by ssh:ana " + ana.Fingerprint() + ", resume by ssh:ana " + ana.Fingerprint(); strings.Join(got, ", ") != want {
		t.Fatalf("audit: %v, want %s", got, want)
	}
}
