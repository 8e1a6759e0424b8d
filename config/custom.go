package config

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/perch-dev/perch/model"
)

// Custom is a business metric the judge compares between the sides: one
// CloudWatch metric, or a metric-math expression over named input
// metrics. Dimension values and the expression may hold placeholders,
// ${side.KEY}, which each side's own values fill in (see Placeholders), so
// one definition serves both sides. A definition can also be given per
// side (Stable and Canary), for metrics whose dimensions perch cannot
// derive.
type Custom struct {
	Name          string
	Line          int
	HigherIsWorse bool
	// Tolerance is how much worse (relative) the canary may be in a period
	// before that period counts against it.
	Tolerance float64
	Period    time.Duration
	// Both is the template for both sides; when nil, Sides has one
	// definition per side.
	Both  *MetricDef
	Sides [2]*MetricDef
}

// DefaultTolerance is a custom metric's tolerance when none is given.
const DefaultTolerance = 0.10

// MetricDef is what one side of a custom metric queries: a Metric, or an
// Expression over Inputs (referred to by their IDs in the expression).
type MetricDef struct {
	Metric     *model.MetricStat
	Expression string
	Inputs     []model.MetricInput
}

// Signal is the custom metric's entry in the judge's configuration.
func (c Custom) Signal() model.CustomSignal {
	return model.CustomSignal{Name: model.Signal(c.Name), HigherIsWorse: c.HigherIsWorse, Tolerance: c.Tolerance}
}

// Def is the definition side uses, with the placeholders still in it.
func (c Custom) Def(side model.Side) *MetricDef {
	if c.Both != nil {
		return c.Both
	}
	return c.Sides[side]
}

// Expand returns side's definition with every placeholder filled from
// vals (keys as in ${side.KEY}; "side" itself is always stable or canary).
func (c Custom) Expand(side model.Side, vals map[string]string) (MetricDef, error) {
	d := c.Def(side)
	if d == nil {
		return MetricDef{}, fmt.Errorf("custom metric %s: no definition for the %s side", c.Name, side)
	}
	fill := func(s string) (string, error) {
		out, err := expand(s, side, vals)
		if err != nil {
			return "", fmt.Errorf("custom metric %s (%s): %w", c.Name, side, err)
		}
		return out, nil
	}
	fillMetric := func(m model.MetricStat) (model.MetricStat, error) {
		out := m
		out.Dimensions = make([]model.Dimension, len(m.Dimensions))
		for i, d := range m.Dimensions {
			v, err := fill(d.Value)
			if err != nil {
				return model.MetricStat{}, err
			}
			out.Dimensions[i] = model.Dimension{Name: d.Name, Value: v}
		}
		return out, nil
	}
	var out MetricDef
	if d.Metric != nil {
		m, err := fillMetric(*d.Metric)
		if err != nil {
			return MetricDef{}, err
		}
		out.Metric = &m
		return out, nil
	}
	expr, err := fill(d.Expression)
	if err != nil {
		return MetricDef{}, err
	}
	out.Expression = expr
	for _, in := range d.Inputs {
		m, err := fillMetric(in.Metric)
		if err != nil {
			return MetricDef{}, err
		}
		out.Inputs = append(out.Inputs, model.MetricInput{ID: in.ID, Metric: m})
	}
	return out, nil
}

// Placeholders lists the ${side.KEY} keys a target kind fills in.
func Placeholders(kind model.TargetKind) []string {
	keys := []string{"name"}
	switch kind {
	case model.KindALB:
		keys = append(keys, "target_group", "target_group_name", "target_group_arn", "load_balancer")
	case model.KindLambda:
		keys = append(keys, "function", "alias", "version", "resource")
	}
	sort.Strings(keys)
	return keys
}

var placeholderRe = regexp.MustCompile(`\$\{([^}]*)\}`)

// checkPlaceholders reports the first placeholder kind cannot fill.
func checkPlaceholders(s string, kind model.TargetKind) error {
	if strings.Contains(s, "${") && !placeholderRe.MatchString(s) {
		return fmt.Errorf("%q has an unterminated ${…}", s)
	}
	for _, m := range placeholderRe.FindAllStringSubmatch(s, -1) {
		key := m[1]
		if key == "side" {
			continue
		}
		k, ok := strings.CutPrefix(key, "side.")
		if !ok || !slices.Contains(Placeholders(kind), k) {
			return fmt.Errorf("unknown placeholder ${%s} for a %s target (have ${side}, ${side.%s})",
				key, kind, strings.Join(Placeholders(kind), "}, ${side."))
		}
	}
	return nil
}

func expand(s string, side model.Side, vals map[string]string) (string, error) {
	var err error
	out := placeholderRe.ReplaceAllStringFunc(s, func(m string) string {
		key := m[2 : len(m)-1]
		if key == "side" {
			return side.String()
		}
		v, ok := vals[strings.TrimPrefix(key, "side.")]
		if !ok && err == nil {
			err = fmt.Errorf("no value for %s", m)
		}
		return v
	})
	return out, err
}

var (
	statRe    = regexp.MustCompile(`^(?:Sum|Average|Minimum|Maximum|SampleCount|IQM|p(?:100|\d{1,2}(?:\.\d{1,2})?)|(?:tm|wm|tc|ts)\d{1,2}(?:\.\d{1,2})?)$`)
	signalRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	inputIDRe = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]{0,63}$`)
)

// builtinSignals may not be reused as custom names: the judge and the
// charts already mean something by them.
var builtinSignals = slices.Concat([]model.Signal{model.Requests, model.Errors5xx, model.Errors4xx, model.LatencyP50, model.LatencyP99, model.Throttles}, model.SaturationSignals)
