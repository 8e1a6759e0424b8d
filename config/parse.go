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

var (
	ruleARNRe     = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:([a-z0-9-]+):\d{12}:listener-rule/app/[^/]+/[0-9a-f]+/[0-9a-f]+/[0-9a-f]+$`)
	listenerARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:([a-z0-9-]+):\d{12}:listener/app/[^/]+/[0-9a-f]+/[0-9a-f]+$`)
	functionARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:([a-z0-9-]+):\d{12}:function:[A-Za-z0-9_-]{1,64}$`)
	functionRe    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	aliasRe       = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	versionRe     = regexp.MustCompile(`^[0-9]{1,10}$`)
	deploymentRe  = regexp.MustCompile(`^d-[A-Z0-9]{9}$`)
)

// alb reads an alb block and returns the region its ARN names.
func (p *parser) alb(n *yaml.Node, at int, t *Target) string {
	fs := p.mapping(n, "alb", "rule_arn", "listener_arn", "canary_target_group")
	if fs == nil {
		return ""
	}
	region := ""
	if v := fs.get("rule_arn"); v != nil {
		if s, ok := p.str(v, "rule_arn"); ok {
			if m := ruleARNRe.FindStringSubmatch(s); m != nil {
				t.RuleARN, region = s, m[1]
			} else {
				p.errf(v.Line, "rule_arn %q is not a listener rule ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/…)", s)
			}
		}
	}
	if v := fs.get("listener_arn"); v != nil {
		if s, ok := p.str(v, "listener_arn"); ok {
			if m := listenerARNRe.FindStringSubmatch(s); m != nil {
				t.ListenerARN, region = s, m[1]
			} else {
				p.errf(v.Line, "listener_arn %q is not a listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/…)", s)
			}
		}
	}
	switch {
	case fs.has("rule_arn") && fs.has("listener_arn"):
		p.errf(at, "alb: give rule_arn or listener_arn, not both")
	case !fs.has("rule_arn") && !fs.has("listener_arn"):
		p.errf(at, "alb: needs rule_arn (a listener rule) or listener_arn (a listener's default action)")
	}
	if v := fs.get("canary_target_group"); v != nil {
		t.CanaryTargetGroup, _ = p.str(v, "canary_target_group")
	}
	return region
}

func (p *parser) lambda(n *yaml.Node, at int, t *Target) string {
	fs := p.mapping(n, "lambda", "function", "alias", "canary_version")
	if fs == nil {
		return ""
	}
	region := ""
	if v := fs.get("function"); v != nil {
		if s, ok := p.str(v, "function"); ok {
			if m := functionARNRe.FindStringSubmatch(s); m != nil {
				t.Function, region = s, m[1]
			} else if functionRe.MatchString(s) {
				t.Function = s
			} else {
				p.errf(v.Line, "function %q is neither a function name nor a function ARN", s)
			}
		}
	} else {
		p.errf(at, "lambda: needs function")
	}
	if v := fs.get("alias"); v != nil {
		if s, ok := p.str(v, "alias"); ok {
			if aliasRe.MatchString(s) && !versionRe.MatchString(s) {
				t.Alias = s
			} else {
				p.errf(v.Line, "alias %q is not an alias name", s)
			}
		}
	} else {
		p.errf(at, "lambda: needs alias (perch drives an alias that routes between two versions)")
	}
	if v := fs.get("canary_version"); v != nil {
		if s, ok := p.str(v, "canary_version"); ok {
			if versionRe.MatchString(s) {
				t.CanaryVersion = s
			} else {
				p.errf(v.Line, "canary_version %q is not a version number", s)
			}
		}
	}
	return region
}

func (p *parser) codedeploy(n *yaml.Node, at int, t *Target) {
	fs := p.mapping(n, "codedeploy", "deployment_id", "application", "deployment_group")
	if fs == nil {
		return
	}
	if v := fs.get("deployment_id"); v != nil {
		if s, ok := p.str(v, "deployment_id"); ok {
			if deploymentRe.MatchString(s) {
				t.DeploymentID = s
			} else {
				p.errf(v.Line, "deployment_id %q is not a deployment ID (d-XXXXXXXXX)", s)
			}
		}
	}
	if v := fs.get("application"); v != nil {
		t.Application, _ = p.str(v, "application")
	}
	if v := fs.get("deployment_group"); v != nil {
		t.DeploymentGroup, _ = p.str(v, "deployment_group")
	}
	byGroup := fs.has("application") || fs.has("deployment_group")
	switch {
	case fs.has("deployment_id") && byGroup:
		p.errf(at, "codedeploy: give deployment_id, or application with deployment_group, not both")
	case !fs.has("deployment_id") && !byGroup:
		p.errf(at, "codedeploy: needs deployment_id, or application with deployment_group")
	case byGroup && (!fs.has("application") || !fs.has("deployment_group")):
		p.errf(at, "codedeploy: application and deployment_group go together")
	}
}

func (p *parser) customs(n *yaml.Node, kind model.TargetKind) []Custom {
	if n.Kind != yaml.SequenceNode {
		p.errf(n.Line, "custom: want a list of metrics")
		return nil
	}
	var out []Custom
	seen := map[string]int{}
	for _, it := range n.Content {
		c, ok := p.custom(it, kind)
		if !ok {
			continue
		}
		if prev, dup := seen[c.Name]; dup {
			p.errf(c.Line, "custom metric %q already defined on line %d", c.Name, prev)
			continue
		}
		seen[c.Name] = c.Line
		out = append(out, c)
	}
	return out
}

var defKeys = []string{"metric", "expression", "metrics"}

func (p *parser) custom(n *yaml.Node, kind model.TargetKind) (Custom, bool) {
	before := len(p.errs)
	keys := append([]string{"name", "direction", "tolerance", "period", "stable", "canary"}, defKeys...)
	fs := p.mapping(n, "custom metric", keys...)
	if fs == nil {
		return Custom{}, false
	}
	c := Custom{Line: n.Line, Tolerance: DefaultTolerance, Period: time.Minute}
	if v := fs.get("name"); v != nil {
		if s, ok := p.str(v, "name"); ok {
			switch {
			case !signalRe.MatchString(s):
				p.errf(v.Line, "custom metric name %q: want lowercase letters, digits and _ (it names the signal in verdicts)", s)
			case containsSignal(builtinSignals, model.Signal(s)):
				p.errf(v.Line, "custom metric name %q is one of perch's own signals; pick another", s)
			}
			c.Name = s
		}
	} else {
		p.errf(n.Line, "custom metric has no name")
	}
	if v := fs.get("direction"); v != nil {
		switch s, _ := p.str(v, "direction"); s {
		case "higher_is_worse":
			c.HigherIsWorse = true
		case "lower_is_worse":
		case "":
		default:
			p.errf(v.Line, "direction %q: want higher_is_worse or lower_is_worse", s)
		}
	} else {
		// No default: guessing wrong would make the judge cheer a regression.
		p.errf(n.Line, "custom metric %s: needs direction (higher_is_worse or lower_is_worse)", c.Name)
	}
	if v := fs.get("tolerance"); v != nil {
		f, err := strconv.ParseFloat(v.Value, 64)
		if v.Kind != yaml.ScalarNode || err != nil || !(f >= 0 && f <= 10) {
			p.errf(v.Line, "tolerance %q: want a fraction from 0 to 10 (0.1 = 10%% worse is still fine)", v.Value)
		} else {
			c.Tolerance = f
		}
	}
	if v := fs.get("period"); v != nil {
		if d, ok := p.duration(v, "period"); ok {
			if d < time.Minute || d > time.Hour || d%time.Minute != 0 {
				p.errf(v.Line, "period %v: want whole minutes from 1m to 1h", d)
			} else {
				c.Period = d
			}
		}
	}
	template := fs.has("metric") || fs.has("expression") || fs.has("metrics")
	perSide := fs.has("stable") || fs.has("canary")
	switch {
	case template && perSide:
		p.errf(n.Line, "custom metric %s: give one definition for both sides (metric or expression) or one per side (stable and canary), not both", c.Name)
	case template:
		c.Both = p.def(n, fs, kind, c.Name)
	case perSide:
		for _, side := range model.Sides {
			v := fs.get(side.String())
			if v == nil {
				p.errf(n.Line, "custom metric %s: %s given without %s", c.Name, other(side), side)
				continue
			}
			sfs := p.mapping(v, "custom metric "+side.String(), defKeys...)
			if sfs != nil {
				c.Sides[side] = p.def(v, sfs, kind, c.Name)
			}
		}
	default:
		p.errf(n.Line, "custom metric %s: needs a metric, or an expression with its metrics", c.Name)
	}
	return c, len(p.errs) == before
}

func other(s model.Side) model.Side { return 1 - s }

func containsSignal(list []model.Signal, s model.Signal) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// def reads metric, or expression with metrics, from fs.
func (p *parser) def(n *yaml.Node, fs *fields, kind model.TargetKind, name string) *MetricDef {
	d := &MetricDef{}
	mv, ev, inv := fs.get("metric"), fs.get("expression"), fs.get("metrics")
	switch {
	case mv != nil && (ev != nil || inv != nil):
		p.errf(n.Line, "custom metric %s: give metric, or expression with metrics, not both", name)
		return nil
	case mv != nil:
		m, ok := p.metric(mv, kind)
		if !ok {
			return nil
		}
		d.Metric = &m
		return d
	case ev == nil:
		p.errf(n.Line, "custom metric %s: metrics need an expression that combines them", name)
		return nil
	}
	expr, ok := p.str(ev, "expression")
	if !ok {
		return nil
	}
	if len(expr) > 2048 {
		p.errf(ev.Line, "expression: %d characters, CloudWatch takes at most 2048", len(expr))
	}
	if err := checkPlaceholders(expr, kind); err != nil {
		p.errf(ev.Line, "expression: %v", err)
	}
	d.Expression = expr
	used := map[string]bool{}
	for _, id := range ExpressionIDs(expr) {
		used[id] = true
	}
	if inv == nil {
		if !strings.Contains(expr, "SEARCH(") {
			p.errf(ev.Line, "expression %q: no metrics to combine (add metrics, or use SEARCH)", expr)
		}
		return d
	}
	if inv.Kind != yaml.MappingNode || len(inv.Content) == 0 {
		p.errf(inv.Line, "metrics: want a mapping of id: {namespace, name, dimensions, stat}")
		return nil
	}
	if len(inv.Content)/2 > 10 {
		p.errf(inv.Line, "metrics: at most 10 inputs per expression")
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(inv.Content); i += 2 {
		k, v := inv.Content[i], inv.Content[i+1]
		id := k.Value
		switch {
		case !inputIDRe.MatchString(id):
			p.errf(k.Line, "metric id %q: must start with a lowercase letter and hold only letters, digits and _", id)
			continue
		case seen[id]:
			p.errf(k.Line, "metric id %q given twice", id)
			continue
		case !used[id]:
			p.errf(k.Line, "metric %q is not used in the expression %q", id, expr)
		}
		seen[id] = true
		if m, ok := p.metric(v, kind); ok {
			d.Inputs = append(d.Inputs, Input{ID: id, Metric: m})
		}
	}
	return d
}

func (p *parser) metric(n *yaml.Node, kind model.TargetKind) (Metric, bool) {
	before := len(p.errs)
	fs := p.mapping(n, "metric", "namespace", "name", "dimensions", "stat")
	if fs == nil {
		return Metric{}, false
	}
	var m Metric
	for _, k := range []string{"namespace", "name", "stat"} {
		v := fs.get(k)
		if v == nil {
			p.errf(n.Line, "metric: needs %s", k)
			continue
		}
		s, ok := p.str(v, k)
		if !ok {
			continue
		}
		if len(s) > 255 {
			p.errf(v.Line, "%s: at most 255 characters", k)
		}
		switch k {
		case "namespace":
			m.Namespace = s
		case "name":
			m.Name = s
		case "stat":
			if !statRe.MatchString(s) {
				p.errf(v.Line, "stat %q: want Sum, Average, Minimum, Maximum, SampleCount or a percentile like p99", s)
			}
			m.Stat = s
		}
	}
	if v := fs.get("dimensions"); v != nil {
		if v.Kind != yaml.MappingNode {
			p.errf(v.Line, "dimensions: want a mapping of name: value")
		} else {
			if len(v.Content)/2 > 30 {
				p.errf(v.Line, "dimensions: at most 30")
			}
			seen := map[string]bool{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				dk, dv := v.Content[i], v.Content[i+1]
				val, ok := p.str(dv, "dimension "+dk.Value)
				if !ok {
					continue
				}
				if seen[dk.Value] || dk.Value == "" {
					p.errf(dk.Line, "dimension %q given twice or empty", dk.Value)
					continue
				}
				seen[dk.Value] = true
				if err := checkPlaceholders(val, kind); err != nil {
					p.errf(dv.Line, "dimension %s: %v", dk.Value, err)
				}
				m.Dimensions = append(m.Dimensions, Dimension{Name: dk.Value, Value: val})
			}
		}
	}
	return m, len(p.errs) == before
}
