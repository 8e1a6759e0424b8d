package scenario

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/metrics"
	"gopkg.in/yaml.v3"
)

// fieldError is a validation failure at a path in the document (strings
// are mapping keys, ints sequence indexes), so the line can be found.
type fieldError struct {
	path []any
	msg  string
}

func (e *fieldError) Error() string { return e.pathString() + ": " + e.msg }

func (e *fieldError) pathString() string {
	var b strings.Builder
	for _, p := range e.path {
		switch v := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

func ferr(path []any, format string, args ...any) error {
	return &fieldError{path: append([]any(nil), path...), msg: fmt.Sprintf(format, args...)}
}

func with(path []any, more ...any) []any {
	return append(append([]any(nil), path...), more...)
}

// lineOf finds the line of the deepest node along path that exists.
func lineOf(root *yaml.Node, path []any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		var next *yaml.Node
		switch v := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == v {
						next = n.Content[i+1]
						line = n.Content[i].Line
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && v < len(n.Content) {
				next = n.Content[v]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

var albName = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,23}[A-Za-z0-9])?$`)

func (sc *Scenario) validate() error {
	if sc.History == 0 {
		sc.History = Duration(defaultHistory)
	}
	if sc.History.D() < minHistory || sc.History.D() > maxHistory {
		return ferr([]any{"history"}, "%s is out of range (%s..%s)", sc.History.D(), minHistory, maxHistory)
	}
	if sc.PublishDelay == 0 {
		sc.PublishDelay = Duration(defaultPublishDelay)
	}
	if sc.PublishDelay.D() < 0 || sc.PublishDelay.D() > 10*time.Minute {
		return ferr([]any{"publish_delay"}, "%s is out of range (0s..10m)", sc.PublishDelay.D())
	}
	if sc.CallerARN != "" && !strings.HasPrefix(sc.CallerARN, "arn:aws") {
		return ferr([]any{"caller_arn"}, "%q is not an ARN", sc.CallerARN)
	}
	for i, f := range sc.Faults {
		if err := validateFault([]any{"faults", i}, f); err != nil {
			return err
		}
	}
	sort.SliceStable(sc.Faults, func(x, y int) bool { return sc.Faults[x].At < sc.Faults[y].At })
	names := map[string]bool{}
	for i := range sc.ALBs {
		if err := sc.ALBs[i].validate([]any{"albs", i}, names, sc.History.D()); err != nil {
			return err
		}
	}
	if err := sc.validateLambdas(); err != nil {
		return err
	}
	if err := sc.validateSignals(); err != nil {
		return err
	}
	if err := sc.validateCodeDeploy(); err != nil {
		return err
	}
	return sc.validateECS()
}

// validateFault checks one scheduled fault at path p.
func validateFault(p []any, f ScheduledFault) error {
	if f.At.D() < 0 {
		return ferr(with(p, "at"), "%s is before the start", f.At.D())
	}
	if f.Spec != "" {
		if f.Fault != (Fault{}) {
			return ferr(with(p, "spec"), "give either spec or the fault's fields, not both")
		}
		if _, err := ParseFaultSpec(f.Spec); err != nil {
			return ferr(with(p, "spec"), "%v", err)
		}
		return nil
	}
	if (f.Code == "" && f.Latency == 0 && !f.Drop) || (f.Code != "" && !awsproto.IsParamName(f.Code)) {
		return ferr(with(p, "code"), "%q is not an error code such as Throttling", f.Code)
	}
	known := f.Service == ""
	for _, n := range serviceNames {
		known = known || f.Service == n
	}
	if !known {
		return ferr(with(p, "service"), "unknown service %q (elbv2, sts, cloudwatch, lambda, codedeploy)", f.Service)
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return ferr(with(p, "status"), "%d is not an HTTP error status (400..599)", f.Status)
	}
	if f.Times < -1 {
		return ferr(with(p, "times"), "%d: use a positive count, or -1 for until cleared", f.Times)
	}
	if err := f.Fault.Check(); err != nil {
		return ferr(p, "%v", err)
	}
	return nil
}

// validate checks one ALB canary at path p, filling its defaults; names
// are the ALB names seen so far.
func (a *ALB) validate(p []any, names map[string]bool, history time.Duration) error {
	if !albName.MatchString(a.Name) {
		return ferr(with(p, "name"), "%q must be 1-25 letters, digits or inner hyphens (target groups are named <name>-stable/-canary)", a.Name)
	}
	if names[a.Name] {
		return ferr(with(p, "name"), "%q is used twice", a.Name)
	}
	names[a.Name] = true
	if err := checkRate(with(p, "requests_per_minute"), a.RequestsPerMinute); err != nil {
		return err
	}
	if a.CanaryWeight < 0 || a.CanaryWeight > 100 {
		return ferr(with(p, "canary_weight"), "%d is out of range (0..100 percent)", a.CanaryWeight)
	}
	if a.TargetsPerSide == nil {
		n := defaultTargets
		a.TargetsPerSide = &n
	}
	if *a.TargetsPerSide < 0 || *a.TargetsPerSide > 100 {
		return ferr(with(p, "targets_per_side"), "%d is out of range (0..100)", *a.TargetsPerSide)
	}
	if a.Listeners < 0 || a.Listeners > 50 {
		return ferr(with(p, "listeners"), "%d is out of range (0..50, ELBv2's limit per load balancer)", a.Listeners)
	}
	if a.RulesPerListener < 0 || a.RulesPerListener > 100 {
		return ferr(with(p, "rules_per_listener"), "%d is out of range (0..100, ELBv2's limit per listener)", a.RulesPerListener)
	}
	if s := a.Stickiness.D(); s < 0 || s > maxStickiness || (s > 0 && s < time.Second) {
		return ferr(with(p, "stickiness"), "%s is out of range (0s, or 1s..168h)", s)
	}
	if a.PathPattern == "" {
		a.PathPattern = "/*"
	}
	if a.DefaultRule && a.PathPattern != "/*" {
		return ferr(with(p, "path_pattern"), "a default-rule canary has no path condition")
	}
	for j, x := range a.Extras {
		ok := false
		for _, k := range knownExtras {
			ok = ok || x == k
		}
		if !ok {
			return ferr(with(p, "extras", j), "unknown extra %q (have %s)", x, strings.Join(knownExtras, ", "))
		}
	}
	fillSide(&a.Stable)
	fillSide(&a.Canary)
	if err := a.Stable.validate(with(p, "stable"), *a.TargetsPerSide); err != nil {
		return err
	}
	if err := a.Canary.validate(with(p, "canary"), *a.TargetsPerSide); err != nil {
		return err
	}
	for j := range a.Events {
		if err := a.validateEvent(with(p, "events", j), &a.Events[j], history); err != nil {
			return err
		}
	}
	if err := a.validateTimeline(p); err != nil {
		return err
	}
	for j := range a.Alarms {
		if err := a.validateAlarm(with(p, "alarms", j), &a.Alarms[j]); err != nil {
			return err
		}
	}
	return nil
}

func checkRate(p []any, v float64) error {
	if math.IsNaN(v) || v < 0 || v > 1e7 {
		return ferr(p, "%v is out of range (0..10000000 per minute)", v)
	}
	return nil
}

func fillSide(s *Side) {
	set := func(p **float64, v float64) {
		if *p == nil {
			*p = &v
		}
	}
	set(&s.ErrorRate, defaultErrorRate)
	set(&s.Error4xxRate, defaultError4xxRate)
	set(&s.LatencyP50Ms, defaultP50Ms)
	if s.LatencyP99Ms == nil {
		v := math.Max(defaultP99Ms, *s.LatencyP50Ms)
		s.LatencyP99Ms = &v
	}
	if s.UnhealthyTargets == nil {
		z := 0
		s.UnhealthyTargets = &z
	}
}

// validate checks the fields that are set; base sides have all set.
func (s *Side) validate(p []any, targets int) error {
	prob := func(name string, v *float64) error {
		if v != nil && (math.IsNaN(*v) || *v < 0 || *v > 1) {
			return ferr(with(p, name), "%v is out of range (0..1, a fraction of requests)", *v)
		}
		return nil
	}
	if err := prob("error_rate", s.ErrorRate); err != nil {
		return err
	}
	if err := prob("error_4xx_rate", s.Error4xxRate); err != nil {
		return err
	}
	if s.ErrorRate != nil && s.Error4xxRate != nil && *s.ErrorRate+*s.Error4xxRate > 1 {
		return ferr(with(p, "error_4xx_rate"), "error_rate + error_4xx_rate exceeds 1")
	}
	ms := func(name string, v *float64) error {
		if v != nil && (math.IsNaN(*v) || *v <= 0 || *v > 600000) {
			return ferr(with(p, name), "%v is out of range (0 < ms <= 600000)", *v)
		}
		return nil
	}
	if err := ms("latency_p50_ms", s.LatencyP50Ms); err != nil {
		return err
	}
	if err := ms("latency_p99_ms", s.LatencyP99Ms); err != nil {
		return err
	}
	if s.LatencyP50Ms != nil && s.LatencyP99Ms != nil && *s.LatencyP99Ms < *s.LatencyP50Ms {
		return ferr(with(p, "latency_p99_ms"), "p99 %vms is below p50 %vms", *s.LatencyP99Ms, *s.LatencyP50Ms)
	}
	if s.UnhealthyTargets != nil && (*s.UnhealthyTargets < 0 || *s.UnhealthyTargets > targets) {
		return ferr(with(p, "unhealthy_targets"), "%d is out of range (0..targets_per_side=%d)", *s.UnhealthyTargets, targets)
	}
	return nil
}

func (a *ALB) validateEvent(p []any, ev *Event, history time.Duration) error {
	if ev.At.D() < -history {
		return ferr(with(p, "at"), "%s is before the backfilled history (-%s)", ev.At.D(), history)
	}
	if ev.RequestsPerMinute == nil && ev.Stable == nil && ev.Canary == nil && ev.Both == nil && ev.CanaryWeight == nil {
		return ferr(p, "an event must change something (requests_per_minute, stable, canary, both or canary_weight)")
	}
	if ev.RequestsPerMinute != nil {
		if err := checkRate(with(p, "requests_per_minute"), *ev.RequestsPerMinute); err != nil {
			return err
		}
	}
	if ev.CanaryWeight != nil && (*ev.CanaryWeight < 0 || *ev.CanaryWeight > 100) {
		return ferr(with(p, "canary_weight"), "%d is out of range (0..100 percent)", *ev.CanaryWeight)
	}
	for _, side := range []struct {
		name string
		s    *Side
	}{{"stable", ev.Stable}, {"canary", ev.Canary}, {"both", ev.Both}} {
		if side.s == nil {
			continue
		}
		if side.s.UnhealthyTargets != nil {
			return ferr(with(p, side.name, "unhealthy_targets"), "target health cannot change in an event")
		}
		if err := side.s.validate(with(p, side.name), *a.TargetsPerSide); err != nil {
			return err
		}
	}
	return nil
}

// validateTimeline applies the events in time order and checks that the
// parameters in force after each one are still consistent (an event that
// raises p50 alone must not leave it above the p99 in force).
func (a *ALB) validateTimeline(p []any) error {
	order := make([]int, len(a.Events))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return a.Events[order[x]].At < a.Events[order[y]].At })
	params := a.BaseParams()
	for _, i := range order {
		params.Apply(&a.Events[i])
		for _, sp := range []SideParams{params.Stable, params.Canary} {
			if sp.P99 < sp.P50 {
				return ferr(with(p, "events", i), "after this event p99 %vms is below p50 %vms", sp.P99, sp.P50)
			}
			if sp.ErrRate+sp.Err4xxRate > 1 {
				return ferr(with(p, "events", i), "after this event error_rate + error_4xx_rate exceeds 1")
			}
		}
	}
	sort.SliceStable(a.Events, func(x, y int) bool { return a.Events[x].At < a.Events[y].At })
	return nil
}

var (
	albMetrics = map[string]bool{
		"RequestCount": true, "HTTPCode_Target_5XX_Count": true,
		"HTTPCode_Target_4XX_Count": true, "TargetResponseTime": true,
	}
	alarmStats   = regexp.MustCompile(`^(Sum|Average|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d{1,2})?)$`)
	comparisons  = map[string]bool{"GreaterThanThreshold": true, "GreaterThanOrEqualToThreshold": true, "LessThanThreshold": true, "LessThanOrEqualToThreshold": true}
	missingModes = map[string]bool{"": true, "missing": true, "breaching": true, "notBreaching": true, "ignore": true}
)

func (a *ALB) validateAlarm(p []any, al *Alarm) error {
	if al.Side != "stable" && al.Side != "canary" {
		return ferr(with(p, "side"), "%q must be stable or canary", al.Side)
	}
	if !albMetrics[al.Metric] {
		return ferr(with(p, "metric"), "%q is not an ALB target-group metric the simulator publishes (%s)", al.Metric, strings.Join(awsproto.SortedKeys(albMetrics), ", "))
	}
	if al.Name == "" {
		al.Name = a.Name + "-" + al.Side + "-" + al.Metric
	}
	if len(al.Name) > 255 {
		return ferr(with(p, "name"), "longer than 255 characters")
	}
	if al.Statistic == "" {
		al.Statistic = "Sum"
	}
	if !alarmStats.MatchString(al.Statistic) {
		return ferr(with(p, "statistic"), "%q is not Sum, Average, Minimum, Maximum, SampleCount or a percentile like p99", al.Statistic)
	}
	if al.Period == 0 {
		al.Period = Duration(metrics.Period)
	}
	if d := al.Period.D(); d < metrics.Period || d%metrics.Period != 0 {
		return ferr(with(p, "period"), "%s must be a positive multiple of 60s", d)
	}
	if al.EvaluationPeriods == 0 {
		al.EvaluationPeriods = 1
	}
	if al.EvaluationPeriods < 1 || time.Duration(al.EvaluationPeriods)*al.Period.D() > 24*time.Hour {
		return ferr(with(p, "evaluation_periods"), "%d is out of range (at least 1, period × evaluation_periods ≤ 24h)", al.EvaluationPeriods)
	}
	if al.DatapointsToAlarm < 0 || al.DatapointsToAlarm > al.EvaluationPeriods {
		return ferr(with(p, "datapoints_to_alarm"), "%d is out of range (1..evaluation_periods)", al.DatapointsToAlarm)
	}
	if al.Comparison == "" {
		al.Comparison = "GreaterThanThreshold"
	}
	if !comparisons[al.Comparison] {
		return ferr(with(p, "comparison"), "%q is not one of %s", al.Comparison, strings.Join(awsproto.SortedKeys(comparisons), ", "))
	}
	if !missingModes[al.TreatMissingData] {
		return ferr(with(p, "treat_missing_data"), "%q is not missing, breaching, notBreaching or ignore", al.TreatMissingData)
	}
	if math.IsNaN(al.Threshold) || math.IsInf(al.Threshold, 0) {
		return ferr(with(p, "threshold"), "must be a finite number")
	}
	return nil
}
