package ui

import (
	"fmt"
	"strconv"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/perch-dev/perch/model"
)

// Replay controls a recording being played back (perch replay). The
// engine given to the cockpit plays the snapshots; this moves through them.
type Replay interface {
	Replay() model.ReplayState
	TogglePause()
	// Seek moves the position by d (negative: back), within the recording.
	Seek(d time.Duration)
	SeekStart()
	SeekEnd()
	Faster()
	Slower()
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
	m.header.SetReplay(m.replayLine(m.opts.Replay.Replay()))
}

func (m *Model) replayLine(r model.ReplayState) string {
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
