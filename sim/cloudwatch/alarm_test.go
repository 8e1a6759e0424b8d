package cloudwatch

import (
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim/metrics"
)

var alarmDims = []metrics.Dimension{{Name: "LoadBalancer", Value: "app/checkout/1"}, {Name: "TargetGroup", Value: "targetgroup/canary/2"}}

func newAlarmCW(t *testing.T) (*Service, *clock.Manual, *metrics.Store) {
	t.Helper()
	clk := clock.NewManual(cwT0)
	store := metrics.NewStore(6 * time.Hour)
	return New(clk, store), clk, store
}

func putErrors(store *metrics.Store, at time.Time, v float64) {
	store.Put(metrics.Datum{Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Dimensions: alarmDims,
		Timestamp: at, Unit: "Count", SampleCount: 1, Sum: v, Min: v, Max: v})
}

func errorsAlarm(name string, n, m int64, missing string) AlarmDef {
	return AlarmDef{
		Name: name, Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Dimensions: alarmDims,
		Statistic: "Sum", Period: 60, EvaluationPeriods: n, DatapointsToAlarm: m, Threshold: 5,
		ComparisonOperator: "GreaterThanThreshold", TreatMissingData: missing, ActionsEnabled: true,
	}
}

func wantState(t *testing.T, cw *Service, name, state, reason string) {
	t.Helper()
	got, gotReason, ok := cw.alarmState(name)
	if !ok {
		t.Fatalf("alarm %s not found", name)
	}
	if got != state {
		t.Fatalf("alarm %s is %s (%s), want %s", name, got, gotReason, state)
	}
	if reason != "" && gotReason != reason {
		t.Fatalf("alarm %s reason\n got %q\nwant %q", name, gotReason, reason)
	}
}

func TestAlarmThresholdCrossingOKAlarmOK(t *testing.T) {
	cw, clk, store := newAlarmCW(t)
	if err := cw.PutAlarm(errorsAlarm("canary-5xx", 1, 0, "")); err != nil {
		t.Fatal(err)
	}
	// As in AWS, an alarm that never saw data keeps its creation reason.
	wantState(t, cw, "canary-5xx", alarmInsufficient, "Unchecked: Initial alarm creation")

	putErrors(store, cwT0, 1)
	clk.Advance(70 * time.Second)
	wantState(t, cw, "canary-5xx", alarmOK,
		"Threshold Crossed: 1 datapoint [1.0 (26/11/26 07:00:00)] was not greater than the threshold (5.0).")

	putErrors(store, cwT0.Add(time.Minute), 12)
	clk.Advance(time.Minute)
	wantState(t, cw, "canary-5xx", alarmAlarm,
		"Threshold Crossed: 1 datapoint [12.0 (26/11/26 07:01:00)] was greater than the threshold (5.0).")
	a := cw.alarms["canary-5xx"]
	if !a.transitioned.Equal(cwT0.Add(2*time.Minute)) || !strings.Contains(a.reasonData, `"recentDatapoints":[12]`) {
		t.Errorf("transitioned %v, reason data %s", a.transitioned, a.reasonData)
	}

	putErrors(store, cwT0.Add(2*time.Minute), 2)
	clk.Advance(time.Minute)
	wantState(t, cw, "canary-5xx", alarmOK, "")

	// Traffic stops: once the evaluation range holds no datapoint at all,
	// missing data (the default) means INSUFFICIENT_DATA.
	clk.Advance(10 * time.Minute)
	wantState(t, cw, "canary-5xx", alarmInsufficient, "Insufficient Data: 1 datapoint was unknown.")
}

func TestAlarmSetStateHoldsUntilNextEvaluation(t *testing.T) {
	cw, clk, store := newAlarmCW(t)
	if err := cw.PutAlarm(errorsAlarm("canary-5xx", 1, 0, "")); err != nil {
		t.Fatal(err)
	}
	putErrors(store, cwT0.Add(-time.Minute), 0)
	putErrors(store, cwT0, 0)
	clk.Advance(10 * time.Second)
	wantState(t, cw, "canary-5xx", alarmOK, "")

	if err := cw.setAlarmState("canary-5xx", alarmAlarm, "forced by test"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{10 * time.Second, 30 * time.Second, 59 * time.Second} {
		clk.Set(cwT0.Add(d))
		wantState(t, cw, "canary-5xx", alarmAlarm, "forced by test")
	}
	clk.Set(cwT0.Add(time.Minute)) // the next evaluation tick
	wantState(t, cw, "canary-5xx", alarmOK, "")

	if err := cw.setAlarmState("nope", alarmAlarm, "x"); err == nil || err.(*cwError).shape != "ResourceNotFound" {
		t.Fatalf("unknown alarm: %v", err)
	}
	if err := cw.setAlarmState("canary-5xx", "RED", "x"); err == nil {
		t.Fatal("invalid state accepted")
	}
}

func TestAlarmMOfNAndMissingData(t *testing.T) {
	cw, clk, store := newAlarmCW(t)
	for _, def := range []AlarmDef{
		errorsAlarm("m-of-n", 3, 2, "missing"),
		errorsAlarm("breaching", 3, 2, "breaching"),
		errorsAlarm("not-breaching", 3, 2, "notBreaching"),
		errorsAlarm("ignore", 3, 2, "ignore"),
	} {
		if err := cw.PutAlarm(def); err != nil {
			t.Fatal(err)
		}
	}
	// No data at all.
	wantState(t, cw, "m-of-n", alarmInsufficient, "")
	wantState(t, cw, "breaching", alarmAlarm,
		"Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching].")
	wantState(t, cw, "not-breaching", alarmOK, "")
	wantState(t, cw, "ignore", alarmInsufficient, "Unchecked: Initial alarm creation")

	// Two of three breaching.
	putErrors(store, cwT0, 9)
	putErrors(store, cwT0.Add(time.Minute), 1)
	putErrors(store, cwT0.Add(2*time.Minute), 7)
	clk.Set(cwT0.Add(3 * time.Minute))
	for _, name := range []string{"m-of-n", "breaching", "not-breaching", "ignore"} {
		wantState(t, cw, name, alarmAlarm, "")
	}
	_, reason, _ := cw.alarmState("m-of-n")
	want := "Threshold Crossed: 2 out of the last 3 datapoints [7.0 (26/11/26 07:02:00), 1.0 (26/11/26 07:01:00), 9.0 (26/11/26 07:00:00)] were greater than the threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition)."
	if reason != want {
		t.Errorf("reason\n got %q\nwant %q", reason, want)
	}

	// The newest period has not been published yet (publishing delay): the
	// evaluation uses older real datapoints instead of treating it as missing.
	clk.Set(cwT0.Add(4 * time.Minute))
	wantState(t, cw, "m-of-n", alarmAlarm, "")
	wantState(t, cw, "not-breaching", alarmAlarm, "")

	// Recovery.
	for i := 3; i < 6; i++ {
		putErrors(store, cwT0.Add(time.Duration(i)*time.Minute), 0)
	}
	clk.Set(cwT0.Add(6 * time.Minute))
	for _, name := range []string{"m-of-n", "breaching", "not-breaching", "ignore"} {
		wantState(t, cw, name, alarmOK, "")
	}
}

func TestAlarmMetricMathAndPercentile(t *testing.T) {
	cw, clk, store := newAlarmCW(t)
	req := cwQuery{ID: "req", Stat: &cwMetricStat{Namespace: "AWS/ApplicationELB", MetricName: "RequestCount", Dimensions: alarmDims, Period: 60, Stat: "Sum"}}
	errs := cwQuery{ID: "err", Stat: &cwMetricStat{Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Dimensions: alarmDims, Period: 60, Stat: "Sum"}}
	rate := cwQuery{ID: "rate", Expression: "100*FILL(err,0)/req", ReturnData: true}
	if err := cw.PutAlarm(AlarmDef{Name: "rate", Metrics: []cwQuery{req, errs, rate}, EvaluationPeriods: 1,
		Threshold: 5, ComparisonOperator: "GreaterThanOrEqualToThreshold"}); err != nil {
		t.Fatal(err)
	}
	if err := cw.PutAlarm(AlarmDef{Name: "p99", Namespace: "AWS/ApplicationELB", MetricName: "TargetResponseTime", Dimensions: alarmDims,
		ExtendedStatistic: "p99", Period: 60, EvaluationPeriods: 1, Threshold: 0.5, ComparisonOperator: "GreaterThanThreshold"}); err != nil {
		t.Fatal(err)
	}
	store.Put(metrics.Datum{Namespace: "AWS/ApplicationELB", MetricName: "RequestCount", Dimensions: alarmDims, Timestamp: cwT0, SampleCount: 1, Sum: 100})
	store.Put(metrics.Datum{Namespace: "AWS/ApplicationELB", MetricName: "TargetResponseTime", Dimensions: alarmDims, Timestamp: cwT0,
		Values: []float64{0.05, 0.9}, Counts: []float64{98, 2}})
	clk.Set(cwT0.Add(time.Minute))
	wantState(t, cw, "rate", alarmOK, "") // FILL(err,0): no errors published means 0%
	wantState(t, cw, "p99", alarmAlarm, "")

	putErrors(store, cwT0.Add(time.Minute), 5)
	store.Put(metrics.Datum{Namespace: "AWS/ApplicationELB", MetricName: "RequestCount", Dimensions: alarmDims, Timestamp: cwT0.Add(time.Minute), SampleCount: 1, Sum: 100})
	clk.Set(cwT0.Add(2 * time.Minute))
	wantState(t, cw, "rate", alarmAlarm, "")
}

func TestAlarmValidation(t *testing.T) {
	cw, _, _ := newAlarmCW(t)
	base := errorsAlarm("x", 1, 0, "")
	cases := map[string]func(d *AlarmDef){
		"no name":            func(d *AlarmDef) { d.Name = "" },
		"both stats":         func(d *AlarmDef) { d.ExtendedStatistic = "p99" },
		"bad stat":           func(d *AlarmDef) { d.Statistic = "p99" },
		"bad period":         func(d *AlarmDef) { d.Period = 90 },
		"more than a day":    func(d *AlarmDef) { d.Period = 3600; d.EvaluationPeriods = 25 },
		"m > n":              func(d *AlarmDef) { d.DatapointsToAlarm = 2 },
		"bad operator":       func(d *AlarmDef) { d.ComparisonOperator = "LessThanLowerOrGreaterThanUpperThreshold" },
		"bad missing":        func(d *AlarmDef) { d.TreatMissingData = "sometimes" },
		"metrics and metric": func(d *AlarmDef) { d.Metrics = []cwQuery{{ID: "a", Expression: "1", ReturnData: true}} },
	}
	for name, mutate := range cases {
		d := base
		mutate(&d)
		if err := cw.PutAlarm(d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if len(cw.alarms) != 0 {
		t.Fatalf("invalid alarms were stored: %d", len(cw.alarms))
	}
}

func TestJavaDouble(t *testing.T) {
	for in, want := range map[float64]string{12: "12.0", 0.5: "0.5", 5: "5.0", 1e7: "1.0E7", 1.5e-4: "1.5E-4", -3: "-3.0", 0: "0.0"} {
		if got := cwJavaDouble(in); got != want {
			t.Errorf("cwJavaDouble(%v) = %q, want %q", in, got, want)
		}
	}
}
