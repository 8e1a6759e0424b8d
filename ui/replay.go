package ui

import (
	"fmt"
	"strconv"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Replay controls a recording being played back (perch replay). The
// engine given to the cockpit plays the snapshots; this moves through them.
type Replay interface {
	Replay() ReplayState
	TogglePause()
	// Seek moves the position by d (negative: back), within the recording.
	Seek(d time.Duration)
	SeekStart()
	SeekEnd()
	Faster()
	Slower()
}

// ReplayState is where a replay is and how fast it moves.
type ReplayState struct {
	Paused     bool
	Speed      float64
	At         time.Time // the recorded time now shown
	Start, End time.Time
}

// replayKeys are bound only in replay mode.
type replayKeys struct {
	Pause    key.Binding
	Back     key.Binding
	Forward  key.Binding
	Start    key.Binding
	End      key.Binding
	Slower   key.Binding
	Faster   key.Binding
	Seek     key.Binding // Back and Forward as one entry in the short help
	SpeedKey key.Binding // Slower and Faster as one entry in the short help
}

func newReplayKeys() replayKeys {
	return replayKeys{
		Pause:    key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "pause/play")),
		Back:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←", "back 1 min")),
		Forward:  key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→", "forward 1 min")),
		Start:    key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home", "start")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end", "end")),
		Slower:   key.NewBinding(key.WithKeys("<", ","), key.WithHelp("<", "slower")),
		Faster:   key.NewBinding(key.WithKeys(">", "."), key.WithHelp(">", "faster")),
		Seek:     key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "seek 1 min")),
		SpeedKey: key.NewBinding(key.WithKeys("<", ">"), key.WithHelp("</>", "speed")),
	}
}

// replayHelp is the help bar of a replay: its own keys, then the cockpit's
// read-only ones.
type replayHelp struct {
	r replayKeys
	k KeyMap
}

func (h replayHelp) ShortHelp() []key.Binding {
	return []key.Binding{h.r.Pause, h.r.Seek, h.r.SpeedKey, h.r.Start, h.r.End, h.k.Help, h.k.Quit, h.k.Focus, h.k.Window}
}

func (h replayHelp) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{h.r.Pause, h.r.Back, h.r.Forward, h.r.Start, h.r.End, h.r.Slower, h.r.Faster},
		{h.k.Focus, h.k.ScrollUp, h.k.ScrollDn, h.k.Narrower, h.k.Wider},
		{h.k.Help, h.k.Quit},
	}
}

// replayKey handles the replay keys; it reports whether it used the key.
// It runs before the write keys: space pauses a replay, it does not touch
// an autopilot.
func (m *Model) replayKey(msg tea.KeyMsg) bool {
	r := m.opts.Replay
	if r == nil {
		return false
	}
	rk := &m.rkeys
	switch {
	case key.Matches(msg, rk.Pause):
		r.TogglePause()
	case key.Matches(msg, rk.Back):
		r.Seek(-time.Minute)
	case key.Matches(msg, rk.Forward):
		r.Seek(time.Minute)
	case key.Matches(msg, rk.Start):
		r.SeekStart()
	case key.Matches(msg, rk.End):
		r.SeekEnd()
	case key.Matches(msg, rk.Slower):
		r.Slower()
	case key.Matches(msg, rk.Faster):
		r.Faster()
	default:
		return false
	}
	m.refreshReplay()
	return true
}

// refreshReplay re-reads the replay position into the header.
func (m *Model) refreshReplay() {
	if m.opts.Replay == nil {
		return
	}
	m.header.replay = m.replayLine(m.opts.Replay.Replay())
	m.header.render()
}

func (m *Model) replayLine(r ReplayState) string {
	st := m.st
	mode := "▶ " + speedText(r.Speed)
	if r.Paused {
		mode = "❚❚ paused"
	} else if !r.End.IsZero() && !r.At.Before(r.End) {
		mode = "■ end"
	}
	return st.Warn.Render("REPLAY "+mode) + st.Dim.Render(fmt.Sprintf(" %s of %s–%s", hms(r.At), hms(r.Start), hms(r.End)))
}

func speedText(x float64) string {
	return strconv.FormatFloat(x, 'f', -1, 64) + "x"
}
