package config

import (
	"fmt"
	"regexp"
	"slices"
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
	fields := p.mapping(root, "the config file", "publish_delay", "lookback", "defaults", "targets", "production", "profiles")
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
	if v := fields.get("production"); v != nil {
		p.production(v, f)
	}
	if v := fields.get("profiles"); v != nil {
		p.profiles(v, f)
	}
	def := Target{Ladder: model.DefaultLadder()}
	if v := fields.get("defaults"); v != nil {
		p.defaults(v, &def)
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
		t, ok := p.target(n, def)
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

// production reads production: {pattern: REGEX}.
func (p *parser) production(n *yaml.Node, f *File) {
	fs := p.mapping(n, "production", "pattern")
	if fs == nil {
		return
	}
	if v := fs.get("pattern"); v != nil {
		if s, ok := p.str(v, "production pattern"); ok {
			re, err := regexp.Compile(s)
			if err != nil {
				p.errf(v.Line, "production pattern %q: %v", s, err)
				return
			}
			f.Production = re
		}
	}
}

// profiles reads profiles: {NAME: {read_only: BOOL}}.
func (p *parser) profiles(n *yaml.Node, f *File) {
	if n.Kind != yaml.MappingNode {
		p.errf(n.Line, "profiles: want a mapping of profile names to their settings (read_only)")
		return
	}
	f.ReadOnlyProfiles = map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name := n.Content[i].Value
		fs := p.mapping(n.Content[i+1], "profile "+name, "read_only")
		if fs == nil {
			continue
		}
		if v := fs.get("read_only"); v != nil {
			if ro, ok := p.boolean(v, "profile "+name+" read_only"); ok && ro {
				f.ReadOnlyProfiles[name] = true
			}
		}
	}
}

// inheritedKeys are the settings defaults gives every target that does not
// set its own.
var inheritedKeys = []string{"region", "profile", "ladder", "plan", "paused", "alarms"}

func (p *parser) defaults(n *yaml.Node, def *Target) {
	fs := p.mapping(n, "defaults", inheritedKeys...)
	if fs == nil {
		return
	}
	for i, k := range fs.keys {
		p.inherited(k.Value, fs.vals[i], def)
	}
}

// inherited reads one of the inheritedKeys into t.
func (p *parser) inherited(key string, v *yaml.Node, t *Target) {
	switch key {
	case "region":
		if r, ok := p.region(v); ok {
			t.Region = r
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
	}
}

var targetKeys = slices.Concat([]string{"name", "alb", "lambda", "codedeploy", "ecs"}, inheritedKeys, []string{"custom", "saturation", "logs"})

func (p *parser) target(n *yaml.Node, def Target) (Target, bool) {
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
	for _, k := range []string{"alb", "lambda", "codedeploy", "ecs"} {
		if fs.has(k) {
			kinds = append(kinds, k)
		}
	}
	arnRegion := ""
	switch len(kinds) {
	case 0:
		p.errf(n.Line, "target %s: say what it is with one of alb, lambda, codedeploy or ecs", t.Name)
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
		case "ecs":
			t.Kind = model.KindECS
			arnRegion = p.ecs(v, at, &t)
		}
	default:
		p.errf(fs.get(kinds[1]).Line, "target %s: %s and %s both given: a target is exactly one of alb, lambda, codedeploy or ecs", t.Name, kinds[0], kinds[1])
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
		case "custom":
			t.Custom = p.customs(v, t.Kind)
		case "saturation":
			p.saturation(v, &t)
		case "logs":
			p.logs(v, &t)
		default:
			p.inherited(k.Value, v, &t)
		}
	}
	if !fs.has("region") && arnRegion != "" {
		// The ARN says where the target is; a default region cannot move it.
		t.Region = arnRegion
	}
	if t.Plan != nil && t.Kind.OwnedByDeployment() && !fs.has("plan") {
		// CodeDeploy shifts by its own deployment configuration: a
		// default plan is not for it.
		t.Plan = nil
	}
	if t.Plan != nil && t.Kind.OwnedByDeployment() && fs.has("plan") {
		p.errf(fs.get("plan").Line, "target %s: a %s deployment shifts traffic by its own configuration; perch runs no plan on it", t.Name, t.Kind)
	}
	return t, len(p.errs) == before
}
