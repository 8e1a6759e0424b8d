package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/perch-dev/perch/model"
)

// Golden screens are compared with golden.RequireEqual, which reads
// testdata/<test name>.golden and rewrites it under -update.

// screen renders m at w x h and returns the stripped view after checking it
// fills the terminal exactly, with no line wider than the screen.
func screen(t *testing.T, m *Model, w, h int) string {
	t.Helper()
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	v := ansi.Strip(m.View())
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("view at %dx%d has %d lines", w, h, len(lines))
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide at %dx%d: %q", i+1, n, w, h, l)
		}
	}
	return v
}

func newTestModel(s model.Snapshot, o Options) (*Model, *fakeEngine) {
	eng := newFake(s)
	if o.Renderer == nil {
		o.Renderer = asciiRenderer()
	}
	if o.Actor == (model.Actor{}) {
		o.Actor = fixActor
	}
	return New(eng, o), eng
}

func TestGoldenScreens(t *testing.T) {
	cases := []struct {
		name string
		snap func() model.Snapshot
		opts Options
		keys string // typed before rendering
	}{
		{name: "healthy", snap: healthySnapshot},
		{name: "error-spike", snap: errorSpikeSnapshot},
		{name: "unknown", snap: unknownSnapshot},
		{name: "drift", snap: driftSnapshot},
		{name: "read-only", snap: healthySnapshot, opts: Options{ReadOnly: true}},
		{name: "confirm", snap: confirmSnapshot, keys: "r"},
	}
	sizes := []struct{ w, h int }{{80, 24}, {200, 50}}
	for _, c := range cases {
		for _, sz := range sizes {
			name := c.name + "-" + itoa(sz.w) + "x" + itoa(sz.h)
			t.Run(name, func(t *testing.T) {
				m, _ := newTestModel(c.snap(), c.opts)
				m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
				for _, r := range c.keys {
					m.Update(keyMsg(string(r)))
				}
				golden.RequireEqual(t, []byte(screen(t, m, sz.w, sz.h)))
			})
		}
	}
	t.Run("error-spike-250x70", func(t *testing.T) {
		m, _ := newTestModel(errorSpikeSnapshot(), Options{})
		golden.RequireEqual(t, []byte(screen(t, m, 250, 70)))
	})
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// keyMsg turns a key name into the message bubbletea would deliver.
func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case " ", "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}
