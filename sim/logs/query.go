package logs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The subset of the Logs Insights query language the simulator runs, which
// is what perch sends and a little more for the AWS CLI (docs/logs.md):
//
//	fields F [as A], ...          keep (and rename) fields
//	filter EXPR                   EXPR: F like /re/ | F like "sub" | F not like …
//	                              | F = "v" | F != "v" | F =~ /re/
//	                              joined by and, or, not and ( )
//	parse F "glob * text *" as A, B      or  parse F /(?<a>re)…/
//	stats count(*) [as A], … [by F, …]
//	pattern F                     groups F into @pattern, @sampleCount, @ratio
//	sort F [asc|desc]
//	limit N                       1..10000 (the default and the most)
//	display F, ...
//
// Commands are separated by |; # starts a comment to the end of the line.
// Fields are @timestamp, @message, @logStream, @log and any a parse
// created. Anything else is refused with MalformedQueryException, as AWS
// does, so a query the simulator accepts but AWS would not is unlikely.

// MaxLimit is Logs Insights' most (and default) rows per query.
const MaxLimit = 10000

type command interface{ cmd() }

type fieldsCmd struct {
	fields  []string
	aliases []string
	display bool // display: keep only these, no renaming
}
type filterCmd struct{ expr expr }
type parseCmd struct {
	field string
	re    *regexp.Regexp
	names []string
}
type statsCmd struct {
	counts []string // output names of count(*)
	by     []string
}
type patternCmd struct{ field string }
type sortCmd struct {
	field string
	desc  bool
}
type limitCmd struct{ n int }

func (fieldsCmd) cmd()  {}
func (filterCmd) cmd()  {}
func (parseCmd) cmd()   {}
func (statsCmd) cmd()   {}
func (patternCmd) cmd() {}
func (sortCmd) cmd()    {}
func (limitCmd) cmd()   {}

// Query is a parsed query.
type Query struct{ cmds []command }

// maxQueryLen is StartQuery's limit on queryString.
const maxQueryLen = 10000

// ParseQuery parses s; the error says what and where.
func ParseQuery(s string) (*Query, error) {
	if len(s) > maxQueryLen {
		return nil, fmt.Errorf("query is %d characters, more than %d", len(s), maxQueryLen)
	}
	parts, err := splitCommands(stripComments(s))
	if err != nil {
		return nil, err
	}
	q := &Query{}
	for _, p := range parts {
		c, err := parseCommand(p)
		if err != nil {
			return nil, err
		}
		q.cmds = append(q.cmds, c)
	}
	if len(q.cmds) == 0 {
		return nil, fmt.Errorf("query has no commands")
	}
	return q, nil
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		l := newLexer(line)
		cut := len(line)
		for l.pos < len(line) {
			switch c := line[l.pos]; {
			case c == '#':
				cut = l.pos
				l.pos = len(line)
			case c == '"' || c == '\'' || c == '/' || c == '`':
				if _, err := l.quoted(c); err != nil {
					l.pos = len(line)
				}
			default:
				l.pos++
			}
		}
		b.WriteString(line[:cut])
		b.WriteByte('\n')
	}
	return b.String()
}

// splitCommands splits at | outside strings and regexes.
func splitCommands(s string) ([]string, error) {
	var out []string
	l := newLexer(s)
	start := 0
	for l.pos < len(s) {
		switch c := s[l.pos]; c {
		case '"', '\'', '/', '`':
			if _, err := l.quoted(c); err != nil {
				return nil, err
			}
		case '|':
			out = append(out, s[start:l.pos])
			l.pos++
			start = l.pos
		default:
			l.pos++
		}
	}
	out = append(out, s[start:])
	var cmds []string
	for i, c := range out {
		c = strings.TrimSpace(c)
		if c == "" {
			if len(out) == 1 {
				return nil, nil
			}
			return nil, fmt.Errorf("empty command at position %d", i+1)
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

func parseCommand(s string) (command, error) {
	word, rest, _ := strings.Cut(s, " ")
	if i := strings.IndexAny(s, " \t\n\r"); i >= 0 {
		word, rest = s[:i], s[i+1:]
	}
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(word) {
	case "fields":
		return parseFields(rest, false)
	case "display":
		return parseFields(rest, true)
	case "filter":
		l := newLexer(rest)
		e, err := l.parseOr()
		if err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		if l.skipSpace(); l.pos < len(rest) {
			return nil, fmt.Errorf("filter: unexpected %q", rest[l.pos:])
		}
		return filterCmd{e}, nil
	case "parse":
		return parseParse(rest)
	case "stats":
		return parseStats(rest)
	case "pattern":
		f, err := oneField(rest)
		if err != nil {
			return nil, fmt.Errorf("pattern: %w", err)
		}
		return patternCmd{f}, nil
	case "sort":
		return parseSort(rest)
	case "limit":
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || n > MaxLimit {
			return nil, fmt.Errorf("limit: %q is not a number from 1 to %d", rest, MaxLimit)
		}
		return limitCmd{n}, nil
	}
	return nil, fmt.Errorf("unknown command %q (the simulator runs fields, display, filter, parse, stats, pattern, sort and limit)", word)
}

var fieldName = regexp.MustCompile(`^@?[A-Za-z_][A-Za-z0-9_.]*$|^` + "`[^`]+`$")

func cleanField(f string) (string, bool) {
	f = strings.TrimSpace(f)
	if !fieldName.MatchString(f) {
		return "", false
	}
	return strings.Trim(f, "`"), true
}

func oneField(s string) (string, error) {
	f, ok := cleanField(s)
	if !ok {
		return "", fmt.Errorf("%q is not a field name", s)
	}
	return f, nil
}

func parseFields(s string, display bool) (command, error) {
	c := fieldsCmd{display: display}
	for _, item := range strings.Split(s, ",") {
		name, alias := strings.TrimSpace(item), ""
		if m := asRe.FindStringIndex(name); m != nil && !display {
			name, alias = strings.TrimSpace(name[:m[0]]), strings.TrimSpace(name[m[1]:])
		}
		f, ok := cleanField(name)
		if !ok {
			return nil, fmt.Errorf("fields: %q is not a field name", name)
		}
		a := f
		if alias != "" {
			if a, ok = cleanField(alias); !ok {
				return nil, fmt.Errorf("fields: %q is not a field name", alias)
			}
		}
		c.fields, c.aliases = append(c.fields, f), append(c.aliases, a)
	}
	return c, nil
}

func parseParse(s string) (command, error) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return nil, fmt.Errorf("parse: want a field and a pattern")
	}
	field, err := oneField(s[:i])
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	l := newLexer(strings.TrimSpace(s[i:]))
	if l.pos >= len(l.s) {
		return nil, fmt.Errorf("parse: want a pattern")
	}
	q := l.s[l.pos]
	lit, err := l.quoted(q)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if q == '/' {
		re, err := compileRegex(lit)
		if err != nil {
			return nil, fmt.Errorf("parse: %w", err)
		}
		var names []string
		for _, n := range re.SubexpNames()[1:] {
			if n == "" {
				return nil, fmt.Errorf("parse: every group of the regex must be named (?<name>…)")
			}
			names = append(names, n)
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("parse: the regex names no groups")
		}
		if l.skipSpace(); l.pos < len(l.s) {
			return nil, fmt.Errorf("parse: unexpected %q after the regex", l.s[l.pos:])
		}
		return parseCmd{field: field, re: re, names: names}, nil
	}
	// A glob: * captures, the rest is literal.
	glob := strings.Split(lit, "*")
	if len(glob) < 2 {
		return nil, fmt.Errorf("parse: the pattern %q has no *", lit)
	}
	for j := range glob {
		glob[j] = regexp.QuoteMeta(glob[j])
	}
	rest := strings.TrimSpace(l.s[l.pos:])
	m := asPrefixRe.FindStringIndex(rest)
	if m == nil {
		return nil, fmt.Errorf("parse: want `as name, …` after the pattern")
	}
	as := rest[m[1]:]
	var names []string
	for _, n := range strings.Split(as, ",") {
		f, ok := cleanField(n)
		if !ok {
			return nil, fmt.Errorf("parse: %q is not a field name", strings.TrimSpace(n))
		}
		names = append(names, f)
	}
	if len(names) != len(glob)-1 {
		return nil, fmt.Errorf("parse: %d * in the pattern but %d names", len(glob)-1, len(names))
	}
	// Each * but the last stops at the next literal; the last takes the rest.
	last := len(glob) - 1
	re := regexp.MustCompile("(?s)" + strings.Join(glob[:last], "(.*?)") + "(.*)" + glob[last])
	return parseCmd{field: field, re: re, names: names}, nil
}

var (
	byRe       = regexp.MustCompile(`(?i)\s+by\s+`)
	asRe       = regexp.MustCompile(`(?i)\s+as\s+`)
	asPrefixRe = regexp.MustCompile(`(?i)^as\s+`)
)

var countRe = regexp.MustCompile(`^(?i)count\(\s*\*?\s*\)(?:\s+as\s+(\S+))?$`)

func parseStats(s string) (command, error) {
	aggs, by := s, ""
	if m := byRe.FindAllStringIndex(s, -1); len(m) > 0 {
		last := m[len(m)-1]
		aggs, by = s[:last[0]], s[last[1]:]
	}
	c := statsCmd{}
	for _, a := range strings.Split(aggs, ",") {
		a = strings.TrimSpace(a)
		m := countRe.FindStringSubmatch(a)
		if m == nil {
			return nil, fmt.Errorf("stats: %q is not count(*) [as name] (the simulator's only aggregate)", a)
		}
		name := "count(*)"
		if m[1] != "" {
			f, ok := cleanField(m[1])
			if !ok {
				return nil, fmt.Errorf("stats: %q is not a field name", m[1])
			}
			name = f
		}
		c.counts = append(c.counts, name)
	}
	if by != "" {
		for _, f := range strings.Split(by, ",") {
			name, err := oneField(f)
			if err != nil {
				return nil, fmt.Errorf("stats by: %w", err)
			}
			c.by = append(c.by, name)
		}
	}
	return c, nil
}

func parseSort(s string) (command, error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return nil, fmt.Errorf("sort: want a field and asc or desc")
	}
	name, err := oneField(f[0])
	if err != nil {
		return nil, fmt.Errorf("sort: %w", err)
	}
	c := sortCmd{field: name, desc: true}
	if len(f) == 2 {
		switch strings.ToLower(f[1]) {
		case "asc":
			c.desc = false
		case "desc":
		default:
			return nil, fmt.Errorf("sort: %q is not asc or desc", f[1])
		}
	}
	return c, nil
}

// compileRegex compiles a Logs Insights regex: Go's RE2 accepts
// (?<name>…) and (?i), which is what queries use.
func compileRegex(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("bad regex /%s/: %w", s, err)
	}
	return re, nil
}
