package config

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/perch-dev/perch/internal/metricmath"
	"github.com/perch-dev/perch/model"
)

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
			case slices.Contains(builtinSignals, model.Signal(s)):
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
	for _, id := range metricmath.IDs(expr) {
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
			d.Inputs = append(d.Inputs, model.MetricInput{ID: id, Metric: m})
		}
	}
	return d
}

func (p *parser) metric(n *yaml.Node, kind model.TargetKind) (model.MetricStat, bool) {
	before := len(p.errs)
	fs := p.mapping(n, "metric", "namespace", "name", "dimensions", "stat")
	if fs == nil {
		return model.MetricStat{}, false
	}
	var m model.MetricStat
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
				m.Dimensions = append(m.Dimensions, model.Dimension{Name: dk.Value, Value: val})
			}
		}
	}
	return m, len(p.errs) == before
}
