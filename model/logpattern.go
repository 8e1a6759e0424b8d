package model

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Log patterns: error-like lines grouped by their shape, so that "the same
// exception with a different request id" is one row. The rules are
// perch's own and deliberately simple, so that a reader can predict them:
//
//   - a quoted string ("…" or '…') becomes <str>;
//   - a token (a run of letters, digits, '_', '-', '.') with a digit in it
//     becomes <uuid> (8-4-4-4-12 hex), <hex> (0x…, or 8+ hex digits),
//     <num> (digits and dots: counts, durations, IPv4) or <id> (anything
//     else that mixes letters and digits: req-7f3a, i-0abc12, v2);
//   - everything else (words, punctuation, spacing) is kept as it is,
//     except that runs of spaces and tabs become one space.
//
// Lines longer than MaxPatternLine bytes are cut there first: a pattern is
// a display key, and one huge stack trace must not cost more than a line.

// MaxPatternLine is how much of a line the normaliser looks at.
const MaxPatternLine = 1000

// NormalizeLine returns line's pattern. It is idempotent: a pattern
// normalises to itself.
func NormalizeLine(line string) string {
	return string(appendPattern(nil, line))
}

// appendPattern appends line's pattern to b: GroupLines reuses one buffer
// and looks patterns up without allocating.
func appendPattern(b []byte, line string) []byte {
	if len(line) > MaxPatternLine {
		line = line[:MaxPatternLine]
	}
	if !utf8.ValidString(line) {
		line = strings.ToValidUTF8(line, "\uFFFD")
	}
	start := len(b)
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == '"' || c == '\'':
			if j := strings.IndexByte(line[i+1:], c); j >= 0 {
				b = append(b, "<str>"...)
				i += j + 2
				continue
			}
			b = append(b, c)
			i++
		case c == '<':
			// A placeholder already in the line stays whole.
			if p := placeholderAt(line[i:]); p != "" {
				b = append(b, p...)
				i += len(p)
				continue
			}
			b = append(b, c)
			i++
		case isTokenByte(c):
			j := i
			for j < len(line) && isTokenByte(line[j]) {
				j++
			}
			b = append(b, classifyToken(line[i:j])...)
			i = j
		case c == ' ' || c == '\t':
			b = append(b, ' ')
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
				i++
			}
		default:
			_, n := utf8.DecodeRuneInString(line[i:])
			b = append(b, line[i:i+n]...)
			i += n
		}
	}
	return append(b[:start], cutRunes(trimSpace(b[start:]), MaxPatternLine)...)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && asciiSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && asciiSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// cutRunes cuts s to at most n bytes at a rune boundary: placeholders are
// longer than what they replace, and a pattern must stay within bounds
// (and normalise to itself).
func cutRunes(s []byte, n int) []byte {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return trimSpace(s[:n])
}

var placeholders = [...]string{"<str>", "<uuid>", "<hex>", "<num>", "<id>"}

func placeholderAt(s string) string {
	for _, p := range placeholders {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// classifyToken replaces a token holding a digit by its placeholder.
func classifyToken(tok string) string {
	digits, hex, numeric := 0, true, true
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c >= '0' && c <= '9' {
			digits++
		}
		if !isHex(c) {
			hex = false
		}
		if !(c >= '0' && c <= '9' || c == '.') {
			numeric = false
		}
	}
	switch {
	case digits == 0:
		return tok
	case isUUID(tok):
		return "<uuid>"
	case numeric:
		return "<num>"
	case len(tok) > 2 && (tok[:2] == "0x" || tok[:2] == "0X") && allHex(tok[2:]):
		return "<hex>"
	case hex && len(tok) >= 8:
		return "<hex>"
	}
	return "<id>"
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return s != ""
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// LogPattern is one pattern's lines on one side.
type LogPattern struct {
	Pattern string `json:"pattern"`
	Count   int    `json:"count"`
	// Sample is the first line seen with this pattern.
	Sample string `json:"sample"`
}

// GroupLines groups lines by pattern, most frequent first (ties by
// pattern, so the order is deterministic).
func GroupLines(lines []string) []LogPattern {
	idx := make(map[string]int, 64)
	var out []LogPattern
	var buf []byte
	for _, l := range lines {
		buf = appendPattern(buf[:0], l)
		if i, ok := idx[string(buf)]; ok {
			out[i].Count++
			continue
		}
		p := string(buf)
		idx[p] = len(out)
		out = append(out, LogPattern{Pattern: p, Count: 1, Sample: l})
	}
	sortPatterns(out)
	return out
}

// MergePatterns adds groups that share a pattern (several pages of one
// side's results), keeping the first sample.
func MergePatterns(groups ...[]LogPattern) []LogPattern {
	idx := map[string]int{}
	var out []LogPattern
	for _, g := range groups {
		for _, p := range g {
			if i, ok := idx[p.Pattern]; ok {
				out[i].Count += p.Count
				continue
			}
			idx[p.Pattern] = len(out)
			out = append(out, p)
		}
	}
	sortPatterns(out)
	return out
}

func sortPatterns(ps []LogPattern) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Count != ps[j].Count {
			return ps[i].Count > ps[j].Count
		}
		return ps[i].Pattern < ps[j].Pattern
	})
}
