package cloudwatch

import (
	"fmt"
	"testing"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim/metrics"
)

func TestCWExpressions(t *testing.T) {
	store := metrics.NewStore(0)
	for i := 0; i < 3; i++ {
		ts := cwT0.Add(time.Duration(i) * time.Minute)
		store.Put(metrics.Datum{Namespace: "N", MetricName: "A", Timestamp: ts, SampleCount: 1, Sum: float64(i + 1)})
		if i != 1 {
			store.Put(metrics.Datum{Namespace: "N", MetricName: "B", Timestamp: ts, SampleCount: 1, Sum: -2})
		}
	}
	cw := New(clock.NewManual(cwT0), store)
	stat := func(id, name string) cwQuery {
		return cwQuery{ID: id, Stat: &cwMetricStat{Namespace: "N", MetricName: name, Period: 60, Stat: "Sum"}}
	}
	cases := []struct {
		expr, want string
		period     int64
	}{
		{expr: "a + b", want: "[-1 1]"},
		{expr: "ABS(b)", want: "[2 2]"},
		{expr: "-a", want: "[-1 -2 -3]"},
		{expr: "a / (b + 2)", want: "[]"}, // division by zero is dropped
		{expr: "MAX([a, b])", want: "[1 2 3]"},
		{expr: "MIN([a, b])", want: "[-2 2 -2]"},
		{expr: "AVG([a, FILL(b, 0)])", want: "[-0.5 1 0.5]"},
		{expr: "a - AVG(a)", want: "[-1 0 1]"}, // AVG of one series is a scalar
		{expr: "SUM(a) * 1", want: "[6 6 6]", period: 60},
		{expr: "2.5e1", want: "[25 25 25]", period: 60},
		{expr: "FILL(b, 7) * 1", want: "[-2 7 -2]"},
		{expr: "FILL([a, b], 0)[0]", want: "error"},
		{expr: "a * [a]", want: "error"},
		{expr: "((a)", want: "error"},
		{expr: "a b", want: "error"},
		{expr: "FILL(a)", want: "error"},
		{expr: "METRICS()", want: "error"},
		{expr: "e", want: "error"}, // refers to itself
	}
	for _, tc := range cases {
		qs := []cwQuery{stat("a", "A"), stat("b", "B"), {ID: "e", Expression: tc.expr, Period: tc.period, ReturnData: true}}
		res, err := cw.evalQueries(qs, cwT0, cwT0.Add(3*time.Minute))
		if tc.want == "error" {
			if err == nil {
				t.Errorf("%s: no error", tc.expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		var vals []float64
		for _, p := range res["e"].sorted(true) {
			vals = append(vals, p.v)
		}
		if got := fmt.Sprint(vals); got != tc.want && !(tc.want == "[]" && vals == nil) {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

func TestCWParseExprBounds(t *testing.T) {
	deep := ""
	for i := 0; i < 200; i++ {
		deep += "("
	}
	if _, err := cwParseExpr(deep + "a" + deep); err == nil {
		t.Error("deep nesting accepted")
	}
	long := make([]byte, cwMaxExprLen+1)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := cwParseExpr(string(long)); err == nil {
		t.Error("overlong expression accepted")
	}
}
