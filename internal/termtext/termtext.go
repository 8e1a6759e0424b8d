// Package termtext makes text that perch did not write safe to put on a
// terminal. Alarm reasons, target group names, CodeDeploy messages, audit
// reasons, SSH user names and recordings are written by whoever can call
// SetAlarmState, create a resource, type a --reason, log in or hand over a
// file: none of them may move the cursor, retitle the terminal, query it or
// write the clipboard. Clean is the one function every such string goes
// through before it is drawn, exported as text or sent to a viewer.
package termtext

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Ellipsis marks a string cut to its width.
const Ellipsis = "…"

// Clean returns s with every control character made visible, so a terminal
// prints it instead of obeying it: C0 controls and DEL become \xNN (\t, \n
// and \r keep their short names), C1 controls (U+0080-U+009F, the 8-bit
// CSI U+009B among them) and the bidirectional overrides that reorder what
// is shown become \uNNNN, and each byte of invalid UTF-8 (a raw 0x9b too)
// becomes \xNN. With width > 0 the result is cut to width terminal cells,
// ending in an ellipsis; width <= 0 keeps it whole.
func Clean(s string, width int) string {
	if !needsEscape(s) {
		return fit(s, width)
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case isC1(r) || isBidi(r):
			b.WriteString(`\u`)
			b.WriteString(hex4(r))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return fit(b.String(), width)
}

// fit cuts s (already clean) to width cells.
func fit(s string, width int) string {
	if width <= 0 || ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, Ellipsis)
}

// needsEscape is the fast path: most text is printable ASCII.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return true
		}
		if c >= 0x80 {
			return needsEscapeUTF8(s[i:])
		}
	}
	return false
}

func needsEscapeUTF8(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || r < 0x20 || r == 0x7f || isC1(r) || isBidi(r) {
			return true
		}
		i += size
	}
	return false
}

// isC1 is the C1 control range. Terminals that accept 8-bit controls read
// U+009B as CSI and U+009D as OSC, exactly like ESC [ and ESC ].
func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

// isBidi is the bidirectional formatting characters (and the Unicode line
// and paragraph separators): they make a terminal show text in an order
// other than the one it has, so "rollback" can be made to read as
// something else.
func isBidi(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f, r == 0x2028, r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

func hex4(r rune) string {
	h := strconv.FormatInt(int64(r), 16)
	return strings.Repeat("0", max(0, 4-len(h))) + h
}

// JSON makes encoded JSON safe to print on a terminal without changing
// what it decodes to: encoding/json already escapes C0 controls and
// replaces invalid UTF-8, but writes DEL, the C1 controls and the
// bidirectional overrides as they are. Those are rewritten as \u escapes,
// which only occur inside strings, so the document means the same.
func JSON(b []byte) []byte {
	if !needsEscapeUTF8(string(b)) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || isC1(r) || isBidi(r) {
			out = append(out, `\u`...)
			out = append(out, hex4(r)...)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}
