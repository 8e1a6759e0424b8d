package config

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/perch-dev/perch/model"
)

// Readers of single YAML nodes: a mapping's fields, and the values perch.yaml
// holds (strings, booleans, durations, lists, regions, ladders and plans).
// Each reports what is wrong with the node's line and says whether it read
// a value.

// yamlLineRe finds the line yaml.v3 names at the front of its errors, so
// that the line goes where every other error has it.
var yamlLineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// fields is a mapping's keys and values in file order.
type fields struct {
	keys []*yaml.Node
	vals []*yaml.Node
}

func (fs *fields) get(k string) *yaml.Node {
	for i, kn := range fs.keys {
		if kn.Value == k {
			return fs.vals[i]
		}
	}
	return nil
}

func (fs *fields) has(k string) bool { return fs.get(k) != nil }

// keyLine is the line of key k: a block's own line is its first key's,
// which is the wrong place to say something is missing from it.
func (fs *fields) keyLine(k string) int {
	for _, kn := range fs.keys {
		if kn.Value == k {
			return kn.Line
		}
	}
	return 0
}

// mapping checks that n is a mapping with only allowed keys, each once.
// It returns nil (after reporting) when n is not a mapping.
func (p *parser) mapping(n *yaml.Node, what string, allowed ...string) *fields {
	if n.Kind != yaml.MappingNode {
		p.errf(n.Line, "%s: want a mapping with %s", what, strings.Join(allowed, ", "))
		return nil
	}
	fs := &fields{}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errf(k.Line, "%s: keys must be plain words", what)
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			p.errf(k.Line, "%s: unknown key %q (want %s)", what, k.Value, strings.Join(allowed, ", "))
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			p.errf(k.Line, "%s: %q already given on line %d", what, k.Value, prev)
			continue
		}
		seen[k.Value] = k.Line
		fs.keys = append(fs.keys, k)
		fs.vals = append(fs.vals, v)
	}
	return fs
}

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errf(n.Line, "%s: want a single value", what)
		return "", false
	}
	if strings.TrimSpace(n.Value) == "" {
		p.errf(n.Line, "%s: is empty", what)
		return "", false
	}
	return n.Value, true
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errf(n.Line, "%s: %q is not true or false", what, n.Value)
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.errf(n.Line, "%s: %v", what, err)
		return false, false
	}
	return b, true
}

func (p *parser) duration(n *yaml.Node, what string) (time.Duration, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return 0, false
	}
	if s == "0" {
		return 0, true
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		p.errf(n.Line, "%s: %q is not a duration (use e.g. 30s, 5m, 1h)", what, s)
		return 0, false
	}
	return d, true
}

func (p *parser) strList(n *yaml.Node, what string) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		p.errf(n.Line, "%s: want a list", what)
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	seen := map[string]bool{}
	ok := true
	for _, it := range n.Content {
		s, good := p.str(it, what)
		if !good {
			ok = false
			continue
		}
		if seen[s] {
			p.errf(it.Line, "%s: %q listed twice", what, s)
			ok = false
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, ok
}

var regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)

func (p *parser) region(n *yaml.Node) (string, bool) {
	s, ok := p.str(n, "region")
	if !ok {
		return "", false
	}
	if !regionRe.MatchString(s) {
		p.errf(n.Line, "region %q does not look like an AWS region (e.g. us-east-1)", s)
		return "", false
	}
	return s, true
}

func (p *parser) ladder(n *yaml.Node) (model.Ladder, bool) {
	var text string
	switch n.Kind {
	case yaml.ScalarNode:
		text = n.Value
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, it := range n.Content {
			if it.Kind != yaml.ScalarNode {
				p.errf(it.Line, "ladder: each step is a percentage")
				return nil, false
			}
			parts[i] = it.Value
		}
		text = strings.Join(parts, ",")
	default:
		p.errf(n.Line, "ladder: want a list of percentages like [0, 1, 5, 10, 25, 50, 100]")
		return nil, false
	}
	l, err := model.ParseLadder(text)
	if err != nil {
		p.errf(n.Line, "%v", err)
		return nil, false
	}
	return l, true
}

// plan reads a plan in either form model reads: a string (steps or a
// CodeDeploy configuration name, or "none") or a mapping with steps. The
// mapping goes through model.ParsePlanYAML; its line numbers, which count
// from the re-encoded block, are mapped back to the file's.
func (p *parser) plan(n *yaml.Node) (*model.Plan, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		if strings.TrimSpace(n.Value) == "none" {
			return nil, true
		}
		pl, err := model.ParsePlan(n.Value)
		if err != nil {
			p.errf(n.Line, "%v", err)
			return nil, false
		}
		return &pl, true
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n.Line, "plan: want steps like \"5%%:10m,100%%\" or a mapping with steps")
		return nil, false
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		p.errf(n.Line, "plan: %v", err)
		return nil, false
	}
	pl, err := model.ParsePlanYAML(b)
	if err == nil {
		return &pl, true
	}
	msg, line := err.Error(), n.Line
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		rel, _ := strconv.Atoi(m[1])
		var re yaml.Node
		if yaml.Unmarshal(b, &re) == nil && len(re.Content) > 0 {
			lines := map[int]int{}
			pairLines(re.Content[0], n, lines)
			if l, ok := lines[rel]; ok {
				line = l
			}
		}
		msg = msg[len(m[0]):]
	}
	p.errf(line, "plan: %s", msg)
	return nil, false
}

// pairLines maps each line of a re-encoded node tree to the line of the
// same node in the original (the trees have the same shape).
func pairLines(re, orig *yaml.Node, out map[int]int) {
	if _, ok := out[re.Line]; !ok {
		out[re.Line] = orig.Line
	}
	for i := range min(len(re.Content), len(orig.Content)) {
		pairLines(re.Content[i], orig.Content[i], out)
	}
}
