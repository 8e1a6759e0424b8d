package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/ui"
)

// countingEngine passes everything through and counts intents.
type countingEngine struct {
	rollout.Control
	intents chan model.Intent
}

func (c countingEngine) Execute(ctx context.Context, in model.Intent) model.Result {
	c.intents <- in
	return c.Control.Execute(ctx, in)
}

// TestReadOnlyCockpitHasNoWriteKeys wires a session with --read-only as
// the cockpit commands do, on the real engine and simulator, presses every
// write key (and confirms), and wants: no write key in the short or full
// help, no intent reaching the engine, no write call at the simulator. It
// does so twice: with the flag passed to the screen too, and with only the
// engine knowing, so a wiring slip on one side cannot open a write path.
func TestReadOnlyCockpitHasNoWriteKeys(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	rule := c.sim.Manifest.Targets[0].RuleARN
	for _, screenToo := range []bool{true, false} {
		g := &globalFlags{endpointURL: c.sim.URL, region: "us-east-1", poll: 10 * time.Second, readOnly: true, reconcileAfter: time.Minute}
		tf := &targetFlags{ruleARN: rule, ladder: "0,1,5,10,25,50,100", plan: "10%:1m,100%"}
		ctx := context.Background()
		s, err := openSession(ctx, g, tf, sessionOptions{via: "cockpit"})
		if err != nil {
			t.Fatal(err)
		}
		s.engine.PollOnce(ctx)
		eng := countingEngine{Control: s.engine, intents: make(chan model.Intent, 16)}
		m := ui.New(eng, ui.Options{Actor: s.actor, ReadOnly: screenToo && g.readOnly, Poll: g.poll})
		m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})

		var views []string
		views = append(views, ansi.Strip(m.View()))
		keys := []tea.KeyMsg{
			{Type: tea.KeyRunes, Runes: []rune("+")}, {Type: tea.KeyRunes, Runes: []rune("=")},
			{Type: tea.KeyRunes, Runes: []rune("-")}, {Type: tea.KeyRunes, Runes: []rune("r")},
			{Type: tea.KeyRunes, Runes: []rune("P")}, {Type: tea.KeySpace, Runes: []rune(" ")},
			{Type: tea.KeyRunes, Runes: []rune("y")}, {Type: tea.KeyEnter},
		}
		for _, k := range keys {
			_, cmd := m.Update(k)
			runCmd(cmd)
			views = append(views, ansi.Strip(m.View()))
		}
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("?")}) // the full help
		views = append(views, ansi.Strip(m.View()))
		for _, v := range views {
			help := v[strings.LastIndex(strings.TrimRight(v, "\n"), "\n")+1:]
			if i := strings.Index(v, "q quit"); i >= 0 {
				help = v[max(0, i-600):]
			}
			for _, w := range []string{"step up", "step down", "+/-", "roll back", "promote", "autopilot"} {
				if strings.Contains(help, w) {
					t.Errorf("screen too=%v: help shows %q in read-only mode:\n%s", screenToo, w, help)
				}
			}
		}
		if !strings.Contains(views[len(views)-1], "quit") {
			t.Errorf("screen too=%v: help lost quit", screenToo)
		}
		select {
		case in := <-eng.intents:
			// The engine refuses it, but the screen should not have sent it.
			if screenToo {
				t.Errorf("a read-only screen sent %s", in.Kind)
			}
		default:
		}
		s.close()
	}
	if n := simWrites(t, c.sim.URL); n != 0 {
		t.Fatalf("read-only cockpits made %d write calls", n)
	}
}

// runCmd runs a tea.Cmd to its end, and the batch it may return. The
// cockpit was never Init-ed, so no command waits on a subscription: an
// intent's command returns when the engine has answered, however slowly,
// and the call counts read after it are final.
func runCmd(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if batch, ok := cmd().(tea.BatchMsg); ok {
		for _, c := range batch {
			runCmd(c)
		}
	}
}
