package ui

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim/simtest"
)

// End to end on the screen: the engine on the simulator's new-exception
// scenario through the real SDK, seven simulated minutes in (the exception
// began at five), and the cockpit on that engine. L shows the pane with
// the new exception marked NEW, its counts per side (none on stable), and
// stable's usual patterns unmarked.
func TestPatternsPaneOnTheSimulator(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "new-exception"})
	ctx := context.Background()
	router, err := perchaws.NewALBRouter(ctx, env.AWS, perchaws.ALBOptions{RuleARN: env.Manifest.Targets[0].RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	side := func(name string) perchaws.LogSide {
		return perchaws.LogSide{Groups: []string{"/ecs/checkout"}, StreamFilter: perchaws.StreamPrefixFilter("checkout-" + name + "/")}
	}
	logs, err := perchaws.NewLogs(env.AWS, perchaws.LogsOptions{Sides: [2]perchaws.LogSide{side("stable"), side("canary")}})
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	eng, err := rollout.New(rollout.Config{Router: router, Health: router, Metrics: perchaws.NewALBMetrics(env.AWS, router.Target()),
		Audit: log, Clock: env.Clock, Poll: 10 * time.Second, History: 30 * time.Minute,
		Logs: &rollout.LogsConfig{Reader: logs, Every: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	for range 7 * 6 {
		env.Clock.Advance(10 * time.Second)
		eng.PollOnce(ctx)
	}
	m := New(eng, Options{Renderer: asciiRenderer(), Actor: fixActor})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	press(m, "L")
	view := ansi.Strip(m.View())
	if !regexp.MustCompile(`NEW +c +\d+ s +0  ERROR java\.lang\.IllegalStateException: coupon <id> has no owner`).MatchString(view) {
		t.Fatalf("no NEW row for the new exception:\n%s", view)
	}
	for _, line := range strings.Split(view, "\n") {
		if strings.Contains(line, "WARN retry") && strings.HasPrefix(strings.TrimSpace(line), "NEW") {
			t.Fatalf("stable's usual pattern marked NEW: %q", line)
		}
	}
	if !strings.Contains(view, "WARN retry <num>/<num>") || !regexp.MustCompile(`logs: [\d.]+ [KM]B scanned, \d+ queries, 1 NEW \(L\)`).MatchString(view) {
		t.Fatalf("usual patterns or the bytes scanned missing:\n%s", view)
	}
}
