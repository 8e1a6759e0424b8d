package cloudwatch

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/metrics"
)

// Alarm states.
const (
	alarmOK           = "OK"
	alarmAlarm        = "ALARM"
	alarmInsufficient = "INSUFFICIENT_DATA"
)

const (
	cwMaxAlarmMetrics   = 10
	cwMaxAlarmNames     = 100
	cwDefaultMaxRecords = 50
	cwMaxRecords        = 100
)

var cwComparisons = map[string]string{
	"GreaterThanThreshold":          "greater than",
	"GreaterThanOrEqualToThreshold": "greater than or equal to",
	"LessThanThreshold":             "less than",
	"LessThanOrEqualToThreshold":    "less than or equal to",
}

// AlarmDef is a metric alarm's definition, i.e. PutMetricAlarm's input.
// Scenarios build one directly and call putAlarm.
type AlarmDef struct {
	Name, Description     string
	Namespace, MetricName string
	Dimensions            []metrics.Dimension
	Statistic             string // Sum, Average, ... (or empty with ExtendedStatistic)
	ExtendedStatistic     string // pNN
	Period                int64  // seconds
	Unit                  string
	Metrics               []cwQuery // metric-math form instead of the single metric
	EvaluationPeriods     int64
	DatapointsToAlarm     int64 // 0 means EvaluationPeriods
	Threshold             float64
	ComparisonOperator    string
	TreatMissingData      string // missing (default), breaching, notBreaching, ignore
	ActionsEnabled        bool
	AlarmActions          []string
	OKActions             []string
	InsufficientActions   []string
}

// cwAlarm is a stored alarm and its state.
type cwAlarm struct {
	def           AlarmDef
	arn           string
	state, reason string
	reasonData    string
	updated       time.Time // state or reason last changed
	transitioned  time.Time // state value last changed
	configUpdated time.Time
	lastEval      int64 // evaluation tick (Unix seconds) last applied
}

// PutAlarm creates or replaces an alarm. A replaced alarm keeps its state
// until the next evaluation, as in AWS.
func (c *Service) PutAlarm(def AlarmDef) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.putAlarmLocked(def)
}

// setAlarmState forces an alarm's state; it holds until the next
// evaluation tick (the next minute boundary) re-evaluates the metric.
func (c *Service) setAlarmState(name, state, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setAlarmStateLocked(name, state, reason, "")
}

// alarmState reports an alarm's state after evaluating it at the current
// virtual time.
func (c *Service) alarmState(name string) (state, reason string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.alarms[name]
	if a == nil {
		return "", "", false
	}
	c.evaluateLocked(c.clk.Now())
	return a.state, a.reason, true
}

func (c *Service) validateAlarm(def *AlarmDef) error {
	if def.Name == "" {
		return cwErrMissing("AlarmName")
	}
	if len(def.Name) > 255 {
		return cwErrInvalidParam("The parameter AlarmName must be at most 255 characters.")
	}
	if def.EvaluationPeriods < 1 {
		return cwErrMissing("EvaluationPeriods")
	}
	if def.ComparisonOperator == "" {
		return cwErrMissing("ComparisonOperator")
	}
	if _, ok := cwComparisons[def.ComparisonOperator]; !ok {
		return cwErrInvalidParam("The comparison operator %s is not supported (anomaly detection bands are not simulated).", def.ComparisonOperator)
	}
	switch def.TreatMissingData {
	case "":
		def.TreatMissingData = "missing"
	case "missing", "breaching", "notBreaching", "ignore":
	default:
		return cwErrInvalidParam("The value %s for parameter TreatMissingData is invalid.", def.TreatMissingData)
	}
	if def.DatapointsToAlarm == 0 {
		def.DatapointsToAlarm = def.EvaluationPeriods
	}
	if def.DatapointsToAlarm < 1 || def.DatapointsToAlarm > def.EvaluationPeriods {
		return cwErrInvalidParam("The parameter DatapointsToAlarm must be between 1 and EvaluationPeriods.")
	}
	if len(def.Metrics) > 0 {
		if def.MetricName != "" || def.Namespace != "" || def.Statistic != "" || def.ExtendedStatistic != "" || len(def.Dimensions) > 0 {
			return cwErrCombination("Metrics cannot be combined with MetricName, Namespace, Dimensions, Statistic or ExtendedStatistic.")
		}
		if len(def.Metrics) > cwMaxAlarmMetrics {
			return cwErrInvalidParam("The collection Metrics must not have a size greater than %d.", cwMaxAlarmMetrics)
		}
		returned := 0
		def.Period = 0
		for _, q := range def.Metrics {
			if q.ReturnData {
				returned++
			}
			if q.Stat != nil {
				def.Period = max(def.Period, q.Stat.Period)
			}
			def.Period = max(def.Period, q.Period)
		}
		if returned != 1 {
			return cwErrInvalidParam("Exactly one element of Metrics must have ReturnData set to true.")
		}
		if def.Period == 0 {
			return cwErrMissing("Metrics.member.N.MetricStat.Period")
		}
	} else {
		if def.MetricName == "" {
			return cwErrMissing("MetricName")
		}
		if def.Namespace == "" {
			return cwErrMissing("Namespace")
		}
		if (def.Statistic == "") == (def.ExtendedStatistic == "") {
			return cwErrCombination("Exactly one of Statistic and ExtendedStatistic must be given.")
		}
		if def.Statistic != "" {
			if k, err := cwParseStat(def.Statistic); err != nil || k.extended() {
				return cwErrInvalidParam("The value %s for parameter Statistic is invalid.", def.Statistic)
			}
		} else if k, err := cwParseStat(def.ExtendedStatistic); err != nil || !k.extended() {
			return cwErrInvalidParam("The value %s for parameter ExtendedStatistic is invalid.", def.ExtendedStatistic)
		}
		if def.Period == 0 {
			return cwErrMissing("Period")
		}
		if err := cwValidPeriod(def.Period, "Period"); err != nil {
			return err
		}
		if len(def.Dimensions) > cwMaxDimensions {
			return cwErrInvalidParam("The collection Dimensions must not have a size greater than %d.", cwMaxDimensions)
		}
	}
	if def.Period*def.EvaluationPeriods > 86400 {
		return cwErrValidation("Metrics list must not span more than one day: Period multiplied by EvaluationPeriods must be at most 86400.")
	}
	if cwBad(def.Threshold) {
		return cwErrInvalidParam("The value for parameter Threshold is invalid.")
	}
	return nil
}

func (c *Service) putAlarmLocked(def AlarmDef) error {
	if err := c.validateAlarm(&def); err != nil {
		return err
	}
	now := c.clk.Now()
	if a := c.alarms[def.Name]; a != nil {
		a.def = def
		a.configUpdated = now
		a.lastEval = math.MinInt64 // re-evaluate with the new definition
		return nil
	}
	if len(c.alarms) >= c.alarmLimit {
		return cwErrLimit("The maximum number of alarms (%d) has been reached.", c.alarmLimit)
	}
	c.alarms[def.Name] = &cwAlarm{
		def:           def,
		arn:           fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", c.region, c.account, def.Name),
		state:         alarmInsufficient,
		reason:        "Unchecked: Initial alarm creation",
		updated:       now,
		transitioned:  now,
		configUpdated: now,
		lastEval:      math.MinInt64,
	}
	return nil
}

func (c *Service) setAlarmStateLocked(name, state, reason, reasonData string) error {
	a := c.alarms[name]
	if a == nil {
		return cwErrNotFound("Alarm %s not found", name)
	}
	switch state {
	case alarmOK, alarmAlarm, alarmInsufficient:
	default:
		return cwErrInvalidParam("The value %s for parameter StateValue is invalid.", state)
	}
	now := c.clk.Now()
	// Evaluate first so a tick that was due before this call cannot
	// immediately undo the forced state.
	c.evaluateLocked(now)
	a.transition(state, reason, reasonData, now)
	a.lastEval = cwAlignDown(now.Unix(), a.evalInterval())
	return nil
}

func (a *cwAlarm) transition(state, reason, data string, at time.Time) {
	if state != a.state {
		a.transitioned = at
	}
	a.state, a.reason, a.reasonData, a.updated = state, reason, data, at
}

// evalInterval is how often CloudWatch evaluates the alarm: every minute,
// or every period for high-resolution alarms.
func (a *cwAlarm) evalInterval() int64 {
	if a.def.Period > 0 && a.def.Period < 60 {
		return a.def.Period
	}
	return 60
}

// evaluateLocked applies, for each alarm, the latest evaluation tick that
// has not been applied yet. Evaluation is lazy (on request) but depends only
// on the tick and the stored data, so it does not matter when it runs.
func (c *Service) evaluateLocked(now time.Time) {
	for _, a := range c.alarms {
		tick := cwAlignDown(now.Unix(), a.evalInterval())
		if tick <= a.lastEval {
			continue
		}
		a.lastEval = tick
		c.evaluateAlarm(a, tick)
	}
}

// cwEvaluated is a datapoint an evaluation looked at.
type cwEvaluated struct {
	t      int64
	v      float64
	breach bool
}

func (c *Service) evaluateAlarm(a *cwAlarm, tick int64) {
	d := a.def
	p := d.Period
	n := int(d.EvaluationPeriods)
	m := int(d.DatapointsToAlarm)
	// CloudWatch looks a little further back than EvaluationPeriods so that
	// late or missing datapoints can be replaced by real older ones.
	rangeN := int64(n + min(n, 3))
	end := cwAlignDown(tick, p)
	start := end - rangeN*p

	qs, retID := a.queries()
	series, err := c.evalQueries(qs, time.Unix(start, 0), time.Unix(end, 0))
	var pts []cwPoint
	if err == nil {
		for _, pt := range series[retID].sorted(false) {
			if pt.t >= start && pt.t < end {
				pts = append(pts, pt)
			}
		}
	}
	if len(pts) > n {
		pts = pts[:n]
	}
	evals := make([]cwEvaluated, len(pts))
	breaching := 0
	for i, pt := range pts {
		b := cwCompare(d.ComparisonOperator, pt.v, d.Threshold)
		evals[i] = cwEvaluated{pt.t, pt.v, b}
		if b {
			breaching++
		}
	}
	missing := n - len(pts)
	at := time.Unix(tick, 0).UTC()

	var state string
	switch {
	case missing == 0:
		state = alarmOK
		if breaching >= m {
			state = alarmAlarm
		}
	case d.TreatMissingData == "breaching":
		state = alarmOK
		if breaching+missing >= m {
			state = alarmAlarm
		}
	case d.TreatMissingData == "notBreaching":
		state = alarmOK
		if breaching >= m {
			state = alarmAlarm
		}
	case len(pts) == 0 && d.TreatMissingData == "ignore":
		return // keep the current state
	case len(pts) == 0:
		state = alarmInsufficient
	default:
		// Partial data, missing treated as missing or ignored: decide only
		// when the real datapoints settle it either way.
		switch {
		case breaching >= m:
			state = alarmAlarm
		case breaching+missing < m:
			state = alarmOK
		default:
			return
		}
	}
	if state == a.state {
		return
	}
	a.transition(state, a.reasonText(state, evals, missing), a.reasonDataJSON(state, evals, start, at), at)
}

// queries turns the alarm into GetMetricData queries and names the one
// whose values are compared with the threshold.
func (a *cwAlarm) queries() ([]cwQuery, string) {
	d := a.def
	if len(d.Metrics) > 0 {
		for _, q := range d.Metrics {
			if q.ReturnData {
				return d.Metrics, q.ID
			}
		}
	}
	stat := d.Statistic
	if stat == "" {
		stat = d.ExtendedStatistic
	}
	return []cwQuery{{ID: "m", ReturnData: true, Stat: &cwMetricStat{
		Namespace: d.Namespace, MetricName: d.MetricName, Dimensions: d.Dimensions,
		Period: d.Period, Stat: stat, Unit: d.Unit,
	}}}, "m"
}

func cwCompare(op string, v, threshold float64) bool {
	switch op {
	case "GreaterThanThreshold":
		return v > threshold
	case "GreaterThanOrEqualToThreshold":
		return v >= threshold
	case "LessThanThreshold":
		return v < threshold
	case "LessThanOrEqualToThreshold":
		return v <= threshold
	}
	return false
}

// reasonText mimics AWS's StateReason wording.
func (a *cwAlarm) reasonText(state string, evals []cwEvaluated, missing int) string {
	d := a.def
	if state == alarmInsufficient {
		return fmt.Sprintf("Insufficient Data: %s unknown.", cwPlural(int(d.EvaluationPeriods), "datapoint was", "datapoints were"))
	}
	cmp := cwComparisons[d.ComparisonOperator]
	if state == alarmOK {
		cmp = "not " + cmp
	}
	var b strings.Builder
	b.WriteString("Threshold Crossed: ")
	if len(evals) == 0 {
		fmt.Fprintf(&b, "no datapoints were received for %s and %s treated as [%s].",
			cwPlural(missing, "period", "periods"), cwPlural(missing, "missing datapoint was", "missing datapoints were"),
			map[bool]string{true: "Breaching", false: "NonBreaching"}[d.TreatMissingData == "breaching"])
		return b.String()
	}
	counted := 0
	for _, e := range evals {
		if e.breach == (state == alarmAlarm) {
			counted++
		}
	}
	list := make([]string, len(evals))
	for i, e := range evals {
		list[i] = fmt.Sprintf("%s (%s)", cwJavaDouble(e.v), time.Unix(e.t, 0).UTC().Format("02/01/06 15:04:05"))
	}
	if len(evals) == 1 && d.EvaluationPeriods == 1 {
		fmt.Fprintf(&b, "1 datapoint [%s] was %s the threshold (%s).", list[0], cmp, cwJavaDouble(d.Threshold))
		return b.String()
	}
	verb := "were"
	if counted == 1 {
		verb = "was"
	}
	fmt.Fprintf(&b, "%d out of the last %s [%s] %s %s the threshold (%s)",
		counted, cwPlural(int(d.EvaluationPeriods), "datapoint", "datapoints"), strings.Join(list, ", "), verb, cmp, cwJavaDouble(d.Threshold))
	if missing > 0 {
		fmt.Fprintf(&b, " and %s treated as [%s]", cwPlural(missing, "missing datapoint was", "missing datapoints were"),
			map[bool]string{true: "Breaching", false: "NonBreaching"}[d.TreatMissingData == "breaching"])
	}
	if state == alarmAlarm {
		fmt.Fprintf(&b, " (minimum %s for OK -> ALARM transition).", cwPlural(int(d.DatapointsToAlarm), "datapoint", "datapoints"))
	} else {
		fmt.Fprintf(&b, " (minimum %s for ALARM -> OK transition).", cwPlural(int(d.EvaluationPeriods-d.DatapointsToAlarm+1), "datapoint", "datapoints"))
	}
	return b.String()
}

func cwPlural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// cwJavaDouble formats like Java's Double.toString, which AWS's reasons use.
func cwJavaDouble(f float64) string {
	abs := math.Abs(f)
	switch {
	case f == math.Trunc(f) && abs < 1e7:
		return strconv.FormatFloat(f, 'f', 1, 64)
	case abs >= 1e-3 && abs < 1e7:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1.5E+07
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

func (a *cwAlarm) reasonDataJSON(state string, evals []cwEvaluated, start int64, at time.Time) string {
	const layout = "2006-01-02T15:04:05.000+0000"
	type point struct {
		Timestamp string  `json:"timestamp"`
		Value     float64 `json:"value"`
	}
	data := struct {
		Version             string    `json:"version"`
		QueryDate           string    `json:"queryDate"`
		StartDate           string    `json:"startDate"`
		Statistic           string    `json:"statistic,omitempty"`
		Period              int64     `json:"period"`
		RecentDatapoints    []float64 `json:"recentDatapoints"`
		Threshold           float64   `json:"threshold"`
		EvaluatedDatapoints []point   `json:"evaluatedDatapoints,omitempty"`
	}{
		Version: "1.0", QueryDate: at.Format(layout), StartDate: time.Unix(start, 0).UTC().Format(layout),
		Statistic: a.def.Statistic + a.def.ExtendedStatistic, Period: a.def.Period,
		RecentDatapoints: []float64{}, Threshold: a.def.Threshold,
	}
	for i := len(evals) - 1; i >= 0; i-- {
		data.RecentDatapoints = append(data.RecentDatapoints, evals[i].v)
	}
	for _, e := range evals {
		data.EvaluatedDatapoints = append(data.EvaluatedDatapoints, point{time.Unix(e.t, 0).UTC().Format(layout), e.v})
	}
	b, err := json.Marshal(data)
	if err != nil {
		return ""
	}
	return string(b)
}

// ---- operations ----

// AlarmStatesAt evaluates the alarms at at (a time no later than the
// clock's now) and returns the named ones' states.
func (c *Service) AlarmStatesAt(names []string, at time.Time) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evaluateLocked(at)
	out := make(map[string]string, len(names))
	for _, n := range names {
		if a := c.alarms[n]; a != nil {
			out[n] = a.state
		}
	}
	return out
}
