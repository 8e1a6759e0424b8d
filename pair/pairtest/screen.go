// Package pairtest connects to a perch serve in tests the way a person
// would: an SSH client (golang.org/x/crypto/ssh) with a PTY, and a small
// terminal emulator that turns the byte stream back into the screen the
// person would see.
package pairtest

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Screen is a minimal VT100-style screen: enough of the cursor movement,
// erase and alternate-screen sequences that bubbletea's renderer emits to
// reconstruct what is on a terminal. Styling (SGR) is dropped.
type Screen struct {
	mu       sync.Mutex
	w, h     int
	cells    [][]rune
	x, y     int
	wrapNext bool   // the last column was written: the next rune wraps
	pending  []byte // an incomplete escape sequence or UTF-8 rune
	changed  chan struct{}
	received int
	raw      []byte // the first rawKeep bytes as received
}

const rawKeep = 4 << 20

// NewScreen is a blank w x h screen (at least 1x1).
func NewScreen(w, h int) *Screen {
	w, h = max(w, 1), max(h, 1)
	s := &Screen{w: w, h: h, changed: make(chan struct{}, 1)}
	s.clear()
	return s
}

func (s *Screen) clear() {
	s.cells = make([][]rune, s.h)
	for i := range s.cells {
		s.cells[i] = blank(s.w)
	}
}

func blank(w int) []rune {
	r := make([]rune, w)
	for i := range r {
		r[i] = ' '
	}
	return r
}

// Changed is signalled (latest wins) after every Write.
func (s *Screen) Changed() <-chan struct{} { return s.changed }

// Received is how many bytes have been written so far.
func (s *Screen) Received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}

// Raw is the byte stream as received (its first 4 MiB), escapes and all.
func (s *Screen) Raw() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.raw...)
}

// String is the screen's text, lines joined by "\n", trailing blanks trimmed.
func (s *Screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := make([]string, s.h)
	for i, row := range s.cells {
		var b strings.Builder
		for _, r := range row {
			if r != 0 { // 0 marks the second cell of a wide rune
				b.WriteRune(r)
			}
		}
		lines[i] = strings.TrimRight(b.String(), " ")
	}
	return strings.Join(lines, "\n")
}

// Write feeds terminal output to the screen.
func (s *Screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.received += len(p)
	if room := rawKeep - len(s.raw); room > 0 {
		s.raw = append(s.raw, p[:min(room, len(p))]...)
	}
	buf := append(s.pending, p...)
	s.pending = nil
	for len(buf) > 0 {
		n, ok := s.step(buf)
		if !ok {
			s.pending = append([]byte(nil), buf...)
			break
		}
		buf = buf[n:]
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

// step consumes one control, sequence or rune; ok is false when buf ends
// in the middle of one.
func (s *Screen) step(buf []byte) (int, bool) {
	if c := buf[0]; c < 0x20 || c == 0x7f {
		s.wrapNext = false
	}
	switch c := buf[0]; {
	case c == 0x1b:
		return s.escape(buf)
	case c == '\r':
		s.x = 0
	case c == '\n':
		s.lineFeed()
	case c == '\b':
		s.x = max(0, s.x-1)
	case c == '\t':
		s.x = min(s.w-1, (s.x/8+1)*8)
	case c < 0x20 || c == 0x7f:
		// Other controls (BEL, ...) do not change the screen.
	default:
		if !utf8.FullRune(buf) {
			return 0, false
		}
		r, n := utf8.DecodeRune(buf)
		s.put(r)
		return n, true
	}
	return 1, true
}

func (s *Screen) lineFeed() {
	if s.y < s.h-1 {
		s.y++
		return
	}
	copy(s.cells, s.cells[1:])
	s.cells[s.h-1] = blank(s.w)
}

func (s *Screen) put(r rune) {
	wd := ansi.StringWidth(string(r))
	if wd == 0 {
		return
	}
	if s.wrapNext || s.x+wd > s.w {
		s.x, s.wrapNext = 0, false
		s.lineFeed()
	}
	s.cells[s.y][s.x] = r
	if wd == 2 && s.x+1 < s.w {
		s.cells[s.y][s.x+1] = 0
	}
	s.x += wd
	if s.x >= s.w {
		s.x, s.wrapNext = s.w-1, true
	}
}

func (s *Screen) escape(buf []byte) (int, bool) {
	if len(buf) < 2 {
		return 0, false
	}
	switch buf[1] {
	case '[':
		return s.csi(buf)
	case ']', 'P', '_', '^':
		// OSC, DCS, APC, PM: up to BEL or ST; nothing on screen changes.
		for i := 2; i < len(buf); i++ {
			if buf[i] == 0x07 {
				return i + 1, true
			}
			if buf[i] == 0x1b && i+1 < len(buf) && buf[i+1] == '\\' {
				return i + 2, true
			}
		}
		return 0, false
	case '(', ')', '#':
		if len(buf) < 3 {
			return 0, false
		}
		return 3, true
	}
	return 2, true
}

func (s *Screen) csi(buf []byte) (int, bool) {
	i := 2
	for i < len(buf) && (buf[i] < 0x40 || buf[i] > 0x7e) {
		i++
	}
	if i >= len(buf) {
		return 0, false
	}
	params, final := string(buf[2:i]), buf[i]
	private := strings.HasPrefix(params, "?")
	nums := func(def int) []int {
		var out []int
		for _, f := range strings.Split(strings.TrimPrefix(params, "?"), ";") {
			n, err := strconv.Atoi(f)
			if err != nil || n == 0 {
				n = def
			}
			out = append(out, n)
		}
		return out
	}
	arg := func(def int) int { return nums(def)[0] }
	switch final {
	case 'A':
		s.y = max(0, s.y-arg(1))
	case 'B':
		s.y = min(s.h-1, s.y+arg(1))
	case 'C':
		s.x = min(s.w-1, s.x+arg(1))
	case 'D':
		s.x = max(0, s.x-arg(1))
	case 'G':
		s.x = min(s.w-1, arg(1)-1)
	case 'H', 'f':
		n := nums(1)
		row, col := n[0], 1
		if len(n) > 1 {
			col = n[1]
		}
		s.y, s.x = min(s.h-1, row-1), min(s.w-1, col-1)
	case 'K':
		from, to := s.x, s.w
		switch arg(0) {
		case 1:
			from, to = 0, s.x+1
		case 2:
			from = 0
		}
		for x := from; x < to && x < s.w; x++ {
			s.cells[s.y][x] = ' '
		}
	case 'J':
		switch arg(0) {
		case 0:
			for x := s.x; x < s.w; x++ {
				s.cells[s.y][x] = ' '
			}
			for y := s.y + 1; y < s.h; y++ {
				s.cells[y] = blank(s.w)
			}
		case 1:
			for y := 0; y < s.y; y++ {
				s.cells[y] = blank(s.w)
			}
		default:
			s.clear()
		}
	case 'h', 'l':
		// Entering or leaving the alternate screen starts from a blank one.
		if private && (strings.Contains(params, "1049") || strings.Contains(params, "47")) {
			s.clear()
			s.x, s.y = 0, 0
		}
	}
	return i + 1, true
}
