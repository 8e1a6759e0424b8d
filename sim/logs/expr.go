package logs

import (
	"fmt"
	"regexp"
	"strings"
)

// expr is a filter expression over one event's fields.
type expr interface {
	eval(fields map[string]string) bool
}

type orExpr struct{ a, b expr }
type andExpr struct{ a, b expr }
type notExpr struct{ e expr }
type matchExpr struct {
	field string
	re    *regexp.Regexp // like /re/, =~
	sub   string         // like "sub"
	eq    *string        // = "v"
	neg   bool
}

func (e orExpr) eval(f map[string]string) bool  { return e.a.eval(f) || e.b.eval(f) }
func (e andExpr) eval(f map[string]string) bool { return e.a.eval(f) && e.b.eval(f) }
func (e notExpr) eval(f map[string]string) bool { return !e.e.eval(f) }
func (e matchExpr) eval(f map[string]string) bool {
	v, ok := f[e.field]
	var r bool
	switch {
	case !ok:
		r = false
	case e.re != nil:
		r = e.re.MatchString(v)
	case e.eq != nil:
		r = v == *e.eq
	default:
		r = strings.Contains(v, e.sub)
	}
	return r != e.neg
}

// lexer walks a command's text.
type lexer struct {
	s     string
	pos   int
	depth int
}

func newLexer(s string) *lexer { return &lexer{s: s} }

func (l *lexer) skipSpace() {
	for l.pos < len(l.s) && strings.IndexByte(" \t\r\n", l.s[l.pos]) >= 0 {
		l.pos++
	}
}

// quoted reads a literal opened by q at pos: "…", '…', /…/ or `…`; a
// backslash escapes the closing character (and, in strings, itself).
func (l *lexer) quoted(q byte) (string, error) {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		switch {
		case c == '\\' && l.pos+1 < len(l.s):
			next := l.s[l.pos+1]
			if next == q || (q != '/' && next == '\\') {
				b.WriteByte(next)
			} else {
				b.WriteByte(c)
				b.WriteByte(next)
			}
			l.pos += 2
		case c == q:
			l.pos++
			return b.String(), nil
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return "", fmt.Errorf("unterminated %c at %d", q, start)
}

// keyword consumes word (case-insensitive) when it is next, whole.
func (l *lexer) keyword(word string) bool {
	l.skipSpace()
	end := l.pos + len(word)
	if end > len(l.s) || !strings.EqualFold(l.s[l.pos:end], word) {
		return false
	}
	if end < len(l.s) && (isIdentByte(l.s[end])) {
		return false
	}
	l.pos = end
	return true
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '@' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

const maxDepth = 50

func (l *lexer) parseOr() (expr, error) {
	a, err := l.parseAnd()
	if err != nil {
		return nil, err
	}
	for l.keyword("or") {
		b, err := l.parseAnd()
		if err != nil {
			return nil, err
		}
		a = orExpr{a, b}
	}
	return a, nil
}

func (l *lexer) parseAnd() (expr, error) {
	a, err := l.parseNot()
	if err != nil {
		return nil, err
	}
	for l.keyword("and") {
		b, err := l.parseNot()
		if err != nil {
			return nil, err
		}
		a = andExpr{a, b}
	}
	return a, nil
}

func (l *lexer) parseNot() (expr, error) {
	if l.depth++; l.depth > maxDepth {
		return nil, fmt.Errorf("expression nested deeper than %d", maxDepth)
	}
	defer func() { l.depth-- }()
	if l.keyword("not") {
		e, err := l.parseNot()
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	}
	l.skipSpace()
	if l.pos < len(l.s) && l.s[l.pos] == '(' {
		l.pos++
		e, err := l.parseOr()
		if err != nil {
			return nil, err
		}
		if l.skipSpace(); l.pos >= len(l.s) || l.s[l.pos] != ')' {
			return nil, fmt.Errorf("missing ) at %d", l.pos)
		}
		l.pos++
		return e, nil
	}
	return l.parseMatch()
}

func (l *lexer) parseMatch() (expr, error) {
	l.skipSpace()
	start := l.pos
	if l.pos < len(l.s) && l.s[l.pos] == '`' {
		if _, err := l.quoted('`'); err != nil {
			return nil, err
		}
	} else {
		for l.pos < len(l.s) && isIdentByte(l.s[l.pos]) {
			l.pos++
		}
	}
	field, ok := cleanField(l.s[start:l.pos])
	if !ok {
		return nil, fmt.Errorf("want a field at %d", start)
	}
	m := matchExpr{field: field}
	switch {
	case l.keyword("not"):
		if !l.keyword("like") {
			return nil, fmt.Errorf("want like after not at %d", l.pos)
		}
		m.neg = true
		return l.likeValue(m)
	case l.keyword("like"):
		return l.likeValue(m)
	}
	l.skipSpace()
	for _, op := range []string{"=~", "!=", "="} {
		if strings.HasPrefix(l.s[l.pos:], op) {
			l.pos += len(op)
			m.neg = op == "!="
			if op == "=~" {
				return l.likeValue(m)
			}
			v, err := l.literal()
			if err != nil {
				return nil, err
			}
			m.eq = &v
			return m, nil
		}
	}
	return nil, fmt.Errorf("want like, not like, =~, = or != after %s at %d", field, l.pos)
}

func (l *lexer) likeValue(m matchExpr) (expr, error) {
	l.skipSpace()
	if l.pos < len(l.s) && l.s[l.pos] == '/' {
		lit, err := l.quoted('/')
		if err != nil {
			return nil, err
		}
		re, err := compileRegex(lit)
		if err != nil {
			return nil, err
		}
		m.re = re
		return m, nil
	}
	v, err := l.literal()
	if err != nil {
		return nil, err
	}
	m.sub = v
	return m, nil
}

// literal is a quoted string or a bare number.
func (l *lexer) literal() (string, error) {
	l.skipSpace()
	if l.pos >= len(l.s) {
		return "", fmt.Errorf("want a value at the end")
	}
	if c := l.s[l.pos]; c == '"' || c == '\'' {
		return l.quoted(c)
	}
	start := l.pos
	for l.pos < len(l.s) && (l.s[l.pos] >= '0' && l.s[l.pos] <= '9' || l.s[l.pos] == '.' || l.s[l.pos] == '-') {
		l.pos++
	}
	if l.pos == start {
		return "", fmt.Errorf("want a quoted string, a number or /regex/ at %d", start)
	}
	return l.s[start:l.pos], nil
}
