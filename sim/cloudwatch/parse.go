package cloudwatch

import (
	"strconv"
	"strings"
)

// The metric math parser: expressions into cwNode trees.

type cwNode any

type (
	cwNum float64
	cwRef string
	cwNeg struct{ x cwNode }
	cwBin struct {
		op   byte
		l, r cwNode
	}
	cwCall struct {
		fn   string
		args []cwNode
	}
	cwArray []cwNode
)

type cwParser struct {
	src   string
	pos   int
	depth int
}

func cwParseExpr(src string) (cwNode, error) {
	if len(src) > cwMaxExprLen {
		return nil, cwErrInvalidParam("The expression is longer than %d characters.", cwMaxExprLen)
	}
	if f := strings.Fields(src); len(f) > 0 && strings.EqualFold(f[0], "SELECT") {
		return nil, cwErrInvalidParam("Metrics Insights queries (SELECT ...) are not supported by this simulator.")
	}
	p := &cwParser{src: src}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	return n, nil
}

func (p *cwParser) errorf(format string, args ...any) error {
	return cwErrInvalidParam("Invalid expression %q at position %d: "+format, append([]any{p.src, p.pos}, args...)...)
}

func (p *cwParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n') {
		p.pos++
	}
}

func (p *cwParser) peek() byte {
	p.skipSpace()
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *cwParser) enter() error {
	p.depth++
	if p.depth > cwMaxExprDepth {
		return p.errorf("nested too deeply")
	}
	return nil
}

func (p *cwParser) expr() (cwNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for {
		op := p.peek()
		if op != '+' && op != '-' {
			return l, nil
		}
		p.pos++
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		l = cwBin{op, l, r}
	}
}

func (p *cwParser) term() (cwNode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		op := p.peek()
		if op != '*' && op != '/' {
			return l, nil
		}
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = cwBin{op, l, r}
	}
}

func (p *cwParser) unary() (cwNode, error) {
	if p.peek() == '-' {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		p.pos++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return cwNeg{x}, nil
	}
	return p.primary()
}

func (p *cwParser) primary() (cwNode, error) {
	c := p.peek()
	switch {
	case c == '(':
		p.pos++
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, p.errorf("missing )")
		}
		p.pos++
		return n, nil
	case c == '[':
		p.pos++
		items, err := p.list(']')
		if err != nil {
			return nil, err
		}
		return cwArray(items), nil
	case c == '.' || (c >= '0' && c <= '9'):
		start := p.pos
		for p.pos < len(p.src) && strings.IndexByte("0123456789.eE", p.src[p.pos]) >= 0 {
			if (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '-' || p.src[p.pos+1] == '+') {
				p.pos++
			}
			p.pos++
		}
		f, err := strconv.ParseFloat(p.src[start:p.pos], 64)
		if err != nil || cwBad(f) {
			p.pos = start
			return nil, p.errorf("bad number")
		}
		return cwNum(f), nil
	case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		start := p.pos
		for p.pos < len(p.src) && (p.src[p.pos] == '_' || (p.src[p.pos] >= 'a' && p.src[p.pos] <= 'z') ||
			(p.src[p.pos] >= 'A' && p.src[p.pos] <= 'Z') || (p.src[p.pos] >= '0' && p.src[p.pos] <= '9')) {
			p.pos++
		}
		name := p.src[start:p.pos]
		if p.peek() == '(' {
			p.pos++
			args, err := p.list(')')
			if err != nil {
				return nil, err
			}
			switch name {
			case "FILL", "SUM", "AVG", "MIN", "MAX", "ABS":
				return cwCall{name, args}, nil
			}
			return nil, cwErrInvalidParam("Unsupported function %s in expression.", name)
		}
		if name[0] >= 'A' && name[0] <= 'Z' {
			return nil, cwErrInvalidParam("Unsupported keyword %s in expression.", name)
		}
		return cwRef(name), nil
	case c == 0:
		return nil, p.errorf("unexpected end")
	}
	return nil, p.errorf("unexpected %q", string(c))
}

func (p *cwParser) list(closer byte) ([]cwNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	var items []cwNode
	if p.peek() == closer {
		p.pos++
		return items, nil
	}
	for {
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		items = append(items, n)
		switch p.peek() {
		case ',':
			p.pos++
		case closer:
			p.pos++
			return items, nil
		default:
			return nil, p.errorf("expected , or %c", closer)
		}
	}
}
