package cloudwatch

import (
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"

	"github.com/perch-dev/perch/sim/cloudwatch/wire"
)

func (c *Service) putMetricAlarmOp(f cwFields) (wire.Obj, error) {
	def, err := cwParseAlarmDef(f)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return nil, c.putAlarmLocked(def)
}

func cwParseAlarmDef(f cwFields) (AlarmDef, error) {
	var d AlarmDef
	d.Name, _ = f.str("AlarmName")
	d.Description, _ = f.str("AlarmDescription")
	d.Namespace, _ = f.str("Namespace")
	d.MetricName, _ = f.str("MetricName")
	dims, err := cwParseDimensions(f, "Dimensions")
	if err != nil {
		return d, err
	}
	d.Dimensions = dims
	d.Statistic, _ = f.str("Statistic")
	d.ExtendedStatistic, _ = f.str("ExtendedStatistic")
	d.Period, _ = f.integer("Period")
	d.Unit, _ = f.str("Unit")
	d.EvaluationPeriods, _ = f.integer("EvaluationPeriods")
	d.DatapointsToAlarm, _ = f.integer("DatapointsToAlarm")
	var hasThreshold bool
	d.Threshold, hasThreshold = f.num("Threshold")
	d.ComparisonOperator, _ = f.str("ComparisonOperator")
	d.TreatMissingData, _ = f.str("TreatMissingData")
	d.ActionsEnabled = true
	if v, ok := f.boolean("ActionsEnabled"); ok {
		d.ActionsEnabled = v
	}
	d.AlarmActions = f.strs("AlarmActions")
	d.OKActions = f.strs("OKActions")
	d.InsufficientActions = f.strs("InsufficientDataActions")
	if f.has("Metrics") {
		if d.Metrics, err = cwParseQueries(f, "Metrics"); err != nil {
			return d, err
		}
	}
	if *f.err != nil {
		return d, *f.err
	}
	if f.has("ThresholdMetricId") {
		return d, cwErrInvalidParam("ThresholdMetricId (anomaly detection) is not supported by this simulator.")
	}
	if !hasThreshold {
		return d, cwErrMissing("Threshold")
	}
	return d, nil
}

func (c *Service) setAlarmStateOp(f cwFields) (wire.Obj, error) {
	name, _ := f.str("AlarmName")
	state, _ := f.str("StateValue")
	reason, hasReason := f.str("StateReason")
	data, hasData := f.str("StateReasonData")
	if *f.err != nil {
		return nil, *f.err
	}
	switch {
	case name == "":
		return nil, cwErrMissing("AlarmName")
	case state == "":
		return nil, cwErrMissing("StateValue")
	case !hasReason:
		return nil, cwErrMissing("StateReason")
	}
	if hasData && !json.Valid([]byte(data)) {
		return nil, cwErrInvalidFormat("The parameter StateReasonData must be valid JSON.")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return nil, c.setAlarmStateLocked(name, state, reason, data)
}

func (c *Service) deleteAlarms(f cwFields) (wire.Obj, error) {
	names := f.strs("AlarmNames")
	if *f.err != nil {
		return nil, *f.err
	}
	if len(names) == 0 {
		return nil, cwErrMissing("AlarmNames")
	}
	if len(names) > cwMaxAlarmNames {
		return nil, cwErrInvalidParam("The collection AlarmNames must not have a size greater than %d.", cwMaxAlarmNames)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// All or nothing, as AWS: one unknown name deletes none.
	for _, n := range names {
		if c.alarms[n] == nil {
			return nil, cwErrNotFound("Alarm %s not found", n)
		}
	}
	for _, n := range names {
		delete(c.alarms, n)
	}
	return nil, nil
}

func (c *Service) describeAlarms(f cwFields) (wire.Obj, error) {
	names := f.strs("AlarmNames")
	prefix, hasPrefix := f.str("AlarmNamePrefix")
	state, hasState := f.str("StateValue")
	actionPrefix, hasActionPrefix := f.str("ActionPrefix")
	types := f.strs("AlarmTypes")
	maxRecords, hasMax := f.integer("MaxRecords")
	tok, _ := f.str("NextToken")
	if *f.err != nil {
		return nil, *f.err
	}
	if len(names) > 0 && hasPrefix {
		return nil, cwErrCombination("AlarmNames and AlarmNamePrefix cannot be given together.")
	}
	if len(names) > cwMaxAlarmNames {
		return nil, cwErrInvalidParam("The collection AlarmNames must not have a size greater than %d.", cwMaxAlarmNames)
	}
	if hasState && state != alarmOK && state != alarmAlarm && state != alarmInsufficient {
		return nil, cwErrInvalidParam("The value %s for parameter StateValue is invalid.", state)
	}
	if !hasMax {
		maxRecords = cwDefaultMaxRecords
	}
	if maxRecords < 1 || maxRecords > cwMaxRecords {
		return nil, cwErrInvalidParam("The parameter MaxRecords must be between 1 and %d.", cwMaxRecords)
	}
	after := ""
	if tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || !strings.HasPrefix(string(raw), "da:") {
			return nil, cwErrNextToken()
		}
		after = strings.TrimPrefix(string(raw), "da:")
	}
	wantMetric := len(types) == 0
	for _, t := range types {
		switch t {
		case "MetricAlarm":
			wantMetric = true
		case "CompositeAlarm":
		default:
			return nil, cwErrInvalidParam("The value %s for parameter AlarmTypes is invalid.", t)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.evaluateLocked(c.clk.Now())
	wanted := map[string]bool{}
	for _, n := range names {
		wanted[n] = true
	}
	keys := make([]string, 0, len(c.alarms))
	for k := range c.alarms {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var page []wire.Obj
	next := ""
	for _, k := range keys {
		a := c.alarms[k]
		switch {
		case !wantMetric,
			k < after,
			len(names) > 0 && !wanted[k],
			hasPrefix && !strings.HasPrefix(k, prefix),
			hasState && a.state != state,
			hasActionPrefix && !a.hasActionPrefix(actionPrefix):
			continue
		}
		if int64(len(page)) == maxRecords {
			next = base64.RawURLEncoding.EncodeToString([]byte("da:" + k))
			break
		}
		page = append(page, a.describe())
	}
	res := wire.Obj{}.Set("MetricAlarms", nonNilObjs(page)).Set("CompositeAlarms", []wire.Obj{})
	if next != "" {
		res = res.Set("NextToken", next)
	}
	return res, nil
}

func nonNilObjs(o []wire.Obj) []wire.Obj {
	if o == nil {
		return []wire.Obj{}
	}
	return o
}

func (a *cwAlarm) hasActionPrefix(p string) bool {
	for _, l := range [][]string{a.def.AlarmActions, a.def.OKActions, a.def.InsufficientActions} {
		for _, s := range l {
			if strings.HasPrefix(s, p) {
				return true
			}
		}
	}
	return false
}

func (a *cwAlarm) describe() wire.Obj {
	d := a.def
	o := wire.Obj{}.
		Set("AlarmName", d.Name).
		Set("AlarmArn", a.arn)
	if d.Description != "" {
		o = o.Set("AlarmDescription", d.Description)
	}
	o = o.Set("AlarmConfigurationUpdatedTimestamp", a.configUpdated).
		Set("ActionsEnabled", d.ActionsEnabled).
		Set("OKActions", nonNilStrings(d.OKActions)).
		Set("AlarmActions", nonNilStrings(d.AlarmActions)).
		Set("InsufficientDataActions", nonNilStrings(d.InsufficientActions)).
		Set("StateValue", a.state).
		Set("StateReason", a.reason)
	if a.reasonData != "" {
		o = o.Set("StateReasonData", a.reasonData)
	}
	o = o.Set("StateUpdatedTimestamp", a.updated).
		Set("StateTransitionedTimestamp", a.transitioned)
	if len(d.Metrics) == 0 {
		o = o.Set("MetricName", d.MetricName).Set("Namespace", d.Namespace)
		if d.Statistic != "" {
			o = o.Set("Statistic", d.Statistic)
		} else {
			o = o.Set("ExtendedStatistic", d.ExtendedStatistic)
		}
		o = o.Set("Dimensions", cwDimsObj(d.Dimensions)).Set("Period", d.Period)
		if d.Unit != "" {
			o = o.Set("Unit", d.Unit)
		}
	} else {
		ms := make([]wire.Obj, len(d.Metrics))
		for i, q := range d.Metrics {
			ms[i] = q.describe()
		}
		o = o.Set("Dimensions", []wire.Obj{}).Set("Metrics", ms)
	}
	return o.Set("EvaluationPeriods", d.EvaluationPeriods).
		Set("DatapointsToAlarm", d.DatapointsToAlarm).
		Set("Threshold", d.Threshold).
		Set("ComparisonOperator", d.ComparisonOperator).
		Set("TreatMissingData", d.TreatMissingData)
}

func (q cwQuery) describe() wire.Obj {
	o := wire.Obj{}.Set("Id", q.ID)
	if q.Stat != nil {
		ms := wire.Obj{}.
			Set("Metric", wire.Obj{}.
				Set("Namespace", q.Stat.Namespace).
				Set("MetricName", q.Stat.MetricName).
				Set("Dimensions", cwDimsObj(q.Stat.Dimensions))).
			Set("Period", q.Stat.Period).
			Set("Stat", q.Stat.Stat)
		if q.Stat.Unit != "" {
			ms = ms.Set("Unit", q.Stat.Unit)
		}
		o = o.Set("MetricStat", ms)
	} else {
		o = o.Set("Expression", q.Expression)
	}
	if q.Label != "" {
		o = o.Set("Label", q.Label)
	}
	o = o.Set("ReturnData", q.ReturnData)
	if q.Period > 0 {
		o = o.Set("Period", q.Period)
	}
	return o
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
