package config

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/perch-dev/perch/model"
)

// Parse reads perch.yaml from data. The error, when there is one, is an
// *Errors listing every problem found with its line.
func Parse(data []byte) (*File, error) {
	p := &parser{}
	f := p.file(data)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
		return nil, &Errors{List: p.errs}
	}
	return f, nil
}

type parser struct {
	errs []*Error
}

// maxErrors keeps a badly broken file from producing pages of errors.
const maxErrors = 50

func (p *parser) errf(line int, format string, a ...any) {
	if len(p.errs) < maxErrors {
		p.errs = append(p.errs, &Error{Line: line, Msg: fmt.Sprintf(format, a...)})
	}
}

var yamlLineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

func (p *parser) file(data []byte) *File {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		line := 0
		if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		p.errf(max(line, 1), "not valid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
		return nil
	}
	if len(doc.Content) == 0 {
		p.errf(1, "empty: want a mapping with targets")
		return nil
	}
	root := doc.Content[0]
	fields := p.mapping(root, "the config file", "publish_delay", "lookback", "defaults", "targets")
	if fields == nil {
		return nil
	}
	f := &File{PublishDelay: DefaultPublishDelay, Lookback: DefaultLookback}
	if v := fields.get("publish_delay"); v != nil {
		if d, ok := p.duration(v, "publish_delay"); ok {
			if d < 0 || d > 15*time.Minute {
				p.errf(v.Line, "publish_delay %v: want 0 to 15m", d)
			}
			f.PublishDelay = d
		}
	}
	if v := fields.get("lookback"); v != nil {
		if d, ok := p.duration(v, "lookback"); ok {
			if d < 0 || d > 3*time.Hour {
				p.errf(v.Line, "lookback %v: want 0 to 3h", d)
			}
			f.Lookback = d
		}
	}
	def := Target{Ladder: model.DefaultLadder()}
	var set defaultsSet
	if v := fields.get("defaults"); v != nil {
		set = p.defaults(v, &def)
	}
	tv := fields.get("targets")
	if tv == nil {
		p.errf(root.Line, "no targets: add a targets list")
		return f
	}
	if tv.Kind != yaml.SequenceNode || len(tv.Content) == 0 {
		p.errf(tv.Line, "targets: want a list with at least one target")
		return f
	}
	seen := map[string]int{}
	for _, n := range tv.Content {
		t, ok := p.target(n, def, set)
		if !ok {
			continue
		}
		if prev, dup := seen[t.Name]; dup {
			p.errf(t.Line, "target name %q already used on line %d", t.Name, prev)
			continue
		}
		seen[t.Name] = t.Line
		f.Targets = append(f.Targets, t)
	}
	return f
}

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
		if !contains(allowed, k.Value) {
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

// defaultsSet records which defaults the file gave, so a target knows
// what it inherits.
type defaultsSet struct{ plan bool }

func (p *parser) defaults(n *yaml.Node, def *Target) defaultsSet {
	var set defaultsSet
	fs := p.mapping(n, "defaults", "region", "profile", "ladder", "plan", "paused", "alarms")
	if fs == nil {
		return set
	}
	for i, k := range fs.keys {
		v := fs.vals[i]
		switch k.Value {
		case "region":
			def.Region, _ = p.region(v)
		case "profile":
			def.Profile, _ = p.str(v, "profile")
		case "ladder":
			if l, ok := p.ladder(v); ok {
				def.Ladder = l
			}
		case "plan":
			def.Plan, set.plan = p.plan(v)
		case "paused":
			def.Paused, _ = p.boolean(v, "paused")
		case "alarms":
			def.Alarms, _ = p.strList(v, "alarms")
		}
	}
	return set
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

var targetKeys = []string{"name", "alb", "lambda", "codedeploy", "region", "profile", "ladder", "plan", "paused", "alarms", "custom"}

func (p *parser) target(n *yaml.Node, def Target, set defaultsSet) (Target, bool) {
	before := len(p.errs)
	fs := p.mapping(n, "target", targetKeys...)
	if fs == nil {
		return Target{}, false
	}
	t := def
	t.Line = n.Line
	t.Alarms = append([]string(nil), def.Alarms...)
	if v := fs.get("name"); v != nil {
		if s, ok := p.str(v, "name"); ok {
			if len(s) > 64 || strings.ContainsAny(s, "\n\t") {
				p.errf(v.Line, "name %q: at most 64 characters on one line", s)
			}
			t.Name = s
		}
	} else {
		p.errf(n.Line, "target has no name")
	}
	var kinds []string
	for _, k := range []string{"alb", "lambda", "codedeploy"} {
		if fs.has(k) {
			kinds = append(kinds, k)
		}
	}
	arnRegion := ""
	switch len(kinds) {
	case 0:
		p.errf(n.Line, "target %s: say what it is with one of alb, lambda or codedeploy", t.Name)
	case 1:
		v, at := fs.get(kinds[0]), fs.keyLine(kinds[0])
		switch kinds[0] {
		case "alb":
			t.Kind = model.KindALB
			arnRegion = p.alb(v, at, &t)
		case "lambda":
			t.Kind = model.KindLambda
			arnRegion = p.lambda(v, at, &t)
		case "codedeploy":
			t.Kind = model.KindCodeDeploy
			p.codedeploy(v, at, &t)
		}
	default:
		p.errf(fs.get(kinds[1]).Line, "target %s: %s and %s both given: a target is exactly one of alb, lambda or codedeploy", t.Name, kinds[0], kinds[1])
	}
	for i, k := range fs.keys {
		v := fs.vals[i]
		switch k.Value {
		case "region":
			if r, ok := p.region(v); ok {
				t.Region = r
				if arnRegion != "" && r != arnRegion {
					p.errf(v.Line, "region %s, but the target's ARN is in %s", r, arnRegion)
				}
			}
		case "profile":
			t.Profile, _ = p.str(v, "profile")
		case "ladder":
			if l, ok := p.ladder(v); ok {
				t.Ladder = l
			}
		case "plan":
			t.Plan, _ = p.plan(v)
		case "paused":
			t.Paused, _ = p.boolean(v, "paused")
		case "alarms":
			t.Alarms, _ = p.strList(v, "alarms")
		case "custom":
			t.Custom = p.customs(v, t.Kind)
		}
	}
	if !fs.has("region") && arnRegion != "" {
		// The ARN says where the target is; a default region cannot move it.
		t.Region = arnRegion
	}
	if t.Plan != nil && t.Kind == model.KindCodeDeploy && !fs.has("plan") && set.plan {
		// CodeDeploy shifts by its own deployment configuration: a
		// default plan is not for it.
		t.Plan = nil
	}
	if t.Plan != nil && t.Kind == model.KindCodeDeploy && fs.has("plan") {
		p.errf(fs.get("plan").Line, "target %s: a CodeDeploy deployment shifts traffic by its own configuration; perch runs no plan on it", t.Name)
	}
	return t, len(p.errs) == before
}
