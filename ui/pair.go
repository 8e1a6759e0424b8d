package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Pairing is one viewer's seat in a shared session (perch serve): who
// drives, who watches, and the hand-over of the wheel. The pair package
// implements it; a cockpit without one is a solo cockpit that always drives.
type Pairing interface {
	Pair() PairState
	// Changed is signalled (latest wins) whenever Pair() may have changed.
	Changed() <-chan struct{}
	// Active tells the hub this viewer pressed a key: a driver who types is
	// not idle, so the wheel does not pass behind their back.
	Active()
	// AskForWheel is a watcher's request to drive.
	AskForWheel()
	// HandOver is the driver accepting the pending request.
	HandOver()
	// KeepWheel is the driver declining the pending request.
	KeepWheel()
}

// PairState is a shared session as one viewer sees it.
type PairState struct {
	Me       string
	Driving  bool
	Driver   string
	Watchers []string
	// Asker is who asked for the wheel; "" when nobody has.
	Asker string
	// PassesAt is when a pending request passes by itself if the driver
	// stays idle until then.
	PassesAt time.Time
}

// asked reports whether this viewer is the one waiting for the wheel.
func (p PairState) asked() bool { return !p.Driving && p.Asker != "" && p.Asker == p.Me }

type pairChangedMsg struct{}

func waitForPair(ch <-chan struct{}) tea.Cmd {
	return func() tea.Msg {
		if _, ok := <-ch; !ok {
			return nil
		}
		return pairChangedMsg{}
	}
}

// watching reports whether this cockpit shares a session and someone else
// drives it.
func (m *Model) watching() bool { return m.opts.Pairing != nil && !m.pair.Driving }

// setPair takes a new pair state and re-applies everything that depends on
// who drives: the keys, the header and the prompt.
func (m *Model) setPair(p PairState) {
	// Seat names are SSH user names: whoever connects chooses them.
	m.pair = displayPair(p)
	m.pickKeys()
	m.header.SetPair(m.pairLine())
}

// pairLine is the header's "who drives, who watches" segment.
func (m *Model) pairLine() string {
	if m.opts.Pairing == nil {
		return ""
	}
	p, st := m.pair, m.st
	name := func(n string) string {
		if n == p.Me {
			return shorten(n, shortWidth) + " (you)"
		}
		return shorten(n, shortWidth)
	}
	out := st.Bold.Render("▶ " + name(p.Driver) + " drives")
	if p.Driver == "" {
		out = st.Warn.Render("▶ nobody drives")
	}
	if len(p.Watchers) > 0 {
		ws := make([]string, 0, 3)
		for i, w := range p.Watchers {
			if i == 3 {
				ws = append(ws, "+"+strconv.Itoa(len(p.Watchers)-3))
				break
			}
			ws = append(ws, name(w))
		}
		out += st.Dim.Render(" · watching: ") + strings.Join(ws, ", ")
	}
	return out
}

// pairPrompt is the line that asks the driver to hand over, or tells the
// asker what they wait for. It takes the status line's place.
func (m *Model) pairPrompt() string {
	if m.opts.Pairing == nil || m.pair.Asker == "" {
		return ""
	}
	p := m.pair
	at := ""
	if !p.PassesAt.IsZero() {
		at = hms(p.PassesAt) + " UTC"
	}
	switch {
	case p.Driving:
		out := m.st.Banner.Render(p.Asker + " asks for the wheel: " +
			m.keys.Wheel.Help().Key + " hand over · " + m.keys.KeepWheel.Help().Key + " keep it")
		if at != "" {
			out += m.st.Dim.Render(" · passes at " + at + " if you stay idle")
		}
		return out
	case p.asked():
		out := m.st.Status.Render("» asked " + p.Driver + " for the wheel")
		if at != "" {
			out += m.st.Dim.Render(" · passes at " + at + " if " + p.Driver + " stays idle")
		}
		return out
	}
	return ""
}

// pairKey handles the wheel's keys in a shared session; it reports
// whether it used the key.
func (m *Model) pairKey(msg tea.KeyMsg) bool {
	if m.opts.Pairing == nil {
		return false
	}
	switch {
	case pressed(msg, m.keys.Wheel):
		switch {
		case m.readOnly():
			m.status = "read-only: nobody drives this session"
		case m.pair.Driving && m.pair.Asker != "":
			m.opts.Pairing.HandOver()
			m.status = "handed the wheel to " + m.pair.Asker
		case m.pair.Driving:
			m.status = "you already drive"
		case m.pair.asked():
			m.status = "already asked " + m.pair.Driver + " for the wheel"
		default:
			m.opts.Pairing.AskForWheel()
		}
		return true
	case key.Matches(msg, m.keys.KeepWheel):
		m.opts.Pairing.KeepWheel()
		m.status = "kept the wheel"
		return true
	}
	return false
}
