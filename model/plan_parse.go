package model

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ParsePlan reads a plan written as steps, "5%:10m,25%:10m,50%:10m,100%"
// (percent, then bake time in Go duration syntax; the % is optional; only
// the last step may leave out its bake), or as a CodeDeploy deployment
// configuration name: Canary10Percent5Minutes, Linear10PercentEvery1Minute,
// AllAtOnce, with or without "CodeDeployDefault." and "ECS"/"Lambda".
// Percentages must increase, each within (0, 100]. The plan gets the
// default policy (roll back on FAIL and on alarm).
func ParsePlan(s string) (Plan, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Plan{}, errors.New("plan: empty; want steps like 5%:10m,25%:10m,100% or a CodeDeploy configuration name")
	}
	if c := s[0]; ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) && !strings.ContainsAny(s, ":%,") {
		return parseCodeDeploy(s)
	}
	fields := strings.Split(s, ",")
	steps := make([]PlanStep, 0, len(fields))
	for i, f := range fields {
		step, err := parseStep(strings.TrimSpace(f), i == len(fields)-1)
		if err != nil {
			return Plan{}, fmt.Errorf("plan %q: step %d %q: %w", s, i+1, strings.TrimSpace(f), err)
		}
		steps = append(steps, step)
	}
	if err := checkSteps(steps, func(i int) string { return fmt.Sprintf("plan %q: step %d", s, i+1) }); err != nil {
		return Plan{}, err
	}
	return Plan{Name: s, Steps: steps, Policy: DefaultPlanPolicy()}, nil
}

func parseStep(f string, last bool) (PlanStep, error) {
	if f == "" {
		return PlanStep{}, errors.New("is empty")
	}
	pct, bake, hasBake := strings.Cut(f, ":")
	p, err := parsePercent(pct)
	if err != nil {
		return PlanStep{}, err
	}
	step := PlanStep{Percent: p}
	if !hasBake {
		if !last {
			return PlanStep{}, fmt.Errorf("needs a bake time, like %s:10m (only the last step may leave it out)", FormatPercent(p))
		}
		return step, nil
	}
	step.Bake, err = parseBake(bake)
	return step, err
}

func parsePercent(s string) (float64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || !(v > 0 && v <= 100) {
		return 0, fmt.Errorf("%q is not a percentage above 0 and at most 100", strings.TrimSpace(s))
	}
	return v, nil
}

func parseBake(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bake %q is not a duration like 10m or 1h30m", s)
	}
	return d, nil
}

// checkSteps enforces what every plan must satisfy, however it was written.
func checkSteps(steps []PlanStep, where func(i int) string) error {
	if len(steps) == 0 {
		return errors.New("plan: no steps")
	}
	for i, s := range steps {
		if !(s.Percent > 0 && s.Percent <= 100) {
			return fmt.Errorf("%s: %v%% is not a percentage above 0 and at most 100", where(i), s.Percent)
		}
		if s.Bake < 0 {
			return fmt.Errorf("%s: negative bake %v", where(i), s.Bake)
		}
		if i > 0 && s.Percent <= steps[i-1].Percent {
			return fmt.Errorf("%s: %s does not increase from %s", where(i), FormatPercent(s.Percent), FormatPercent(steps[i-1].Percent))
		}
	}
	return nil
}

var codeDeployName = regexp.MustCompile(`(?i)^(?:CodeDeployDefault\.)?(?:ECS|Lambda)?` +
	`(?:Canary(\d{1,3})Percent(\d{1,6})Minutes?|Linear(\d{1,3})PercentEvery(\d{1,6})Minutes?|(AllAtOnce))$`)

// parseCodeDeploy expands a CodeDeploy deployment configuration name into
// the steps CodeDeploy would take: Canary shifts its percentage, waits,
// then shifts the rest; Linear adds its percentage every interval until
// everything has moved.
func parseCodeDeploy(s string) (Plan, error) {
	m := codeDeployName.FindStringSubmatch(s)
	if m == nil {
		return Plan{}, fmt.Errorf("plan %q: not steps like 5%%:10m,100%% and not a CodeDeploy configuration name like Canary10Percent5Minutes, Linear10PercentEvery1Minute or AllAtOnce", s)
	}
	plan := Plan{Name: s, Policy: DefaultPlanPolicy()}
	if m[5] != "" {
		plan.Steps = []PlanStep{{Percent: 100}}
		return plan, nil
	}
	pctS, minS := m[1], m[2]
	if pctS == "" {
		pctS, minS = m[3], m[4]
	}
	pct, _ := strconv.Atoi(pctS)
	mins, _ := strconv.Atoi(minS)
	if pct < 1 || pct > 99 {
		return Plan{}, fmt.Errorf("plan %q: %d%% must be between 1 and 99", s, pct)
	}
	if mins < 1 {
		return Plan{}, fmt.Errorf("plan %q: the interval must be at least a minute", s)
	}
	bake := time.Duration(mins) * time.Minute
	if m[1] != "" {
		plan.Steps = []PlanStep{{Percent: float64(pct), Bake: bake}, {Percent: 100}}
		return plan, nil
	}
	for p := pct; p < 100; p += pct {
		plan.Steps = append(plan.Steps, PlanStep{Percent: float64(p), Bake: bake})
	}
	plan.Steps = append(plan.Steps, PlanStep{Percent: 100})
	return plan, nil
}

// ParsePlanYAML reads a plan block from a config file:
//
//	name: careful
//	rollback_on_fail: true   # default true
//	rollback_on_alarm: true  # default true
//	steps:
//	  - {percent: 5, bake: 10m}
//	  - {percent: 50, bake: 30m}
//	  - {percent: 100}
//
// or a single string in ParsePlan's syntax. Unknown fields are errors, and
// errors name the line.
func ParsePlanYAML(b []byte) (Plan, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Plan{}, fmt.Errorf("plan YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return Plan{}, errors.New("plan YAML: empty")
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!str" {
		p, err := ParsePlan(root.Value)
		if err != nil {
			return Plan{}, fmt.Errorf("line %d: %w", root.Line, err)
		}
		return p, nil
	}
	if root.Kind != yaml.MappingNode {
		return Plan{}, fmt.Errorf("line %d: a plan is a mapping with steps (or a string like 5%%:10m,100%%)", root.Line)
	}
	plan := Plan{Policy: DefaultPlanPolicy()}
	var stepLines []int
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if prev, dup := seen[k.Value]; dup {
			return Plan{}, fmt.Errorf("line %d: %q already given on line %d", k.Line, k.Value, prev)
		}
		seen[k.Value] = k.Line
		var err error
		switch k.Value {
		case "name":
			plan.Name, err = yamlString(v)
		case "rollback_on_fail":
			plan.Policy.RollbackOnFail, err = yamlBool(v)
		case "rollback_on_alarm":
			plan.Policy.RollbackOnAlarm, err = yamlBool(v)
		case "steps":
			plan.Steps, stepLines, err = yamlSteps(v)
		default:
			err = fmt.Errorf("line %d: unknown field %q in plan (want name, steps, rollback_on_fail, rollback_on_alarm)", k.Line, k.Value)
		}
		if err != nil {
			return Plan{}, err
		}
	}
	if _, ok := seen["steps"]; !ok {
		return Plan{}, fmt.Errorf("line %d: plan has no steps", root.Line)
	}
	err := checkSteps(plan.Steps, func(i int) string { return fmt.Sprintf("line %d: step %d", stepLines[i], i+1) })
	if err != nil {
		return Plan{}, err
	}
	if plan.Name == "" {
		plan.Name = plan.String()
	}
	return plan, nil
}

func yamlString(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("line %d: want a string", n.Line)
	}
	return n.Value, nil
}

func yamlBool(n *yaml.Node) (bool, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, fmt.Errorf("line %d: %q is not true or false", n.Line, n.Value)
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return false, fmt.Errorf("line %d: %w", n.Line, err)
	}
	return b, nil
}

func yamlSteps(n *yaml.Node) ([]PlanStep, []int, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("line %d: steps is a list of {percent, bake}", n.Line)
	}
	steps := make([]PlanStep, 0, len(n.Content))
	lines := make([]int, 0, len(n.Content))
	for i, s := range n.Content {
		if s.Kind != yaml.MappingNode {
			return nil, nil, fmt.Errorf("line %d: step %d is not a {percent, bake} mapping", s.Line, i+1)
		}
		var step PlanStep
		var hasPct, hasBake bool
		for j := 0; j+1 < len(s.Content); j += 2 {
			k, v := s.Content[j], s.Content[j+1]
			if v.Kind != yaml.ScalarNode {
				return nil, nil, fmt.Errorf("line %d: step %d: %s wants a single value", v.Line, i+1, k.Value)
			}
			var err error
			switch k.Value {
			case "percent":
				if hasPct {
					return nil, nil, fmt.Errorf("line %d: step %d: percent given twice", k.Line, i+1)
				}
				hasPct = true
				step.Percent, err = parsePercent(v.Value)
			case "bake":
				if hasBake {
					return nil, nil, fmt.Errorf("line %d: step %d: bake given twice", k.Line, i+1)
				}
				hasBake = true
				step.Bake, err = parseBake(v.Value)
			default:
				err = fmt.Errorf("unknown field %q (want percent, bake)", k.Value)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("line %d: step %d: %w", k.Line, i+1, err)
			}
		}
		if !hasPct {
			return nil, nil, fmt.Errorf("line %d: step %d has no percent", s.Line, i+1)
		}
		if !hasBake && i < len(n.Content)-1 {
			return nil, nil, fmt.Errorf("line %d: step %d (%s) needs a bake (only the last step may leave it out)", s.Line, i+1, FormatPercent(step.Percent))
		}
		steps = append(steps, step)
		lines = append(lines, s.Line)
	}
	return steps, lines, nil
}
