package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim/cloudwatch/wire"
	"github.com/perch-dev/perch/sim/metrics"
)

// cwT0 is a minute-aligned start for the virtual clock.
var cwT0 = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

type cwEnv struct {
	cw    *Service
	clk   *clock.Manual
	store *metrics.Store
	url   string
	// seen records the protocol of every request, so a test can prove the
	// client really spoke the protocol under test.
	seen []wire.Protocol
}

// codesOverridden tells whether ErrorCode() carries the awsQuery code: the
// CBOR and JSON protocols take it from X-Amzn-Query-Error, while the awsQuery
// protocol resolves the typed error and leaves the shape name as the code.
func (env *cwEnv) codesOverridden() bool {
	return len(env.seen) > 0 && env.seen[0] != wire.Query
}

func newCWEnv(t *testing.T) *cwEnv {
	t.Helper()
	env := &cwEnv{clk: clock.NewManual(cwT0), store: metrics.NewStore(6 * time.Hour)}
	env.cw = New(env.clk, env.store)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		env.seen = append(env.seen, wire.DetectProtocol(r.URL.Path, r.Header.Get))
		env.cw.Serve(w, r, body)
	}))
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server not on loopback: %s", srv.URL)
	}
	env.url = srv.URL
	return env
}

var cwProtocols = []struct {
	name  string
	proto wire.Protocol
	opt   func(*cloudwatch.Options)
}{
	{"cbor", wire.CBOR, func(*cloudwatch.Options) {}},
	{"json", wire.JSON, func(o *cloudwatch.Options) { o.Protocol = awsjson.New10(schemas.GraniteServiceVersion20100801) }},
	{"query", wire.Query, func(o *cloudwatch.Options) { o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801) }},
}

func (env *cwEnv) client(opt func(*cloudwatch.Options)) *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(env.url),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	}, opt)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// forEachProtocol runs the same test body against a fresh simulator for
// each wire protocol.
func forEachProtocol(t *testing.T, body func(t *testing.T, env *cwEnv, c *cloudwatch.Client)) {
	for _, p := range cwProtocols {
		t.Run(p.name, func(t *testing.T) {
			env := newCWEnv(t)
			body(t, env, env.client(p.opt))
			if len(env.seen) == 0 {
				t.Fatal("no request reached the simulator")
			}
			for _, s := range env.seen {
				if s != p.proto {
					t.Fatalf("request decoded as protocol %d, want %d", s, p.proto)
				}
			}
		})
	}
}

var albDims = []types.Dimension{
	{Name: aws.String("LoadBalancer"), Value: aws.String("app/checkout/50dc6c495c0c9188")},
	{Name: aws.String("TargetGroup"), Value: aws.String("targetgroup/checkout-canary/73e2d6bc24d8a067")},
}

func metricStat(name, stat string, period int32) *types.MetricStat {
	return &types.MetricStat{
		Metric: &types.Metric{Namespace: aws.String("Perch/Test"), MetricName: aws.String(name), Dimensions: albDims},
		Period: aws.Int32(period),
		Stat:   aws.String(stat),
	}
}

func TestCWPutAndGetMetricDataStatistics(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, env *cwEnv, c *cloudwatch.Client) {
		ctx := ctxT(t)
		// One minute with raw values 1..1000 (a histogram), published over
		// two calls: Values/Counts and a single Value.
		vals := make([]float64, 0, 150)
		counts := make([]float64, 0, 150)
		for i := 1; i <= 150; i++ {
			vals = append(vals, float64(i))
			counts = append(counts, 1)
		}
		_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
			Namespace: aws.String("Perch/Test"),
			MetricData: []types.MetricDatum{
				{MetricName: aws.String("Latency"), Dimensions: albDims, Timestamp: aws.Time(cwT0.Add(-5 * time.Minute)), Values: vals, Counts: counts, Unit: types.StandardUnitMilliseconds},
				{MetricName: aws.String("Latency"), Dimensions: []types.Dimension{albDims[1], albDims[0]}, Timestamp: aws.Time(cwT0.Add(-5*time.Minute + 10*time.Second)), Value: aws.Float64(1000), Unit: types.StandardUnitMilliseconds},
			},
		})
		if err != nil {
			t.Fatalf("PutMetricData: %v", err)
		}
		stats := map[string]float64{
			"Sum":         150*151/2 + 1000,
			"SampleCount": 151,
			"Average":     (150*151/2 + 1000) / 151.0,
			"Minimum":     1,
			"Maximum":     1000,
			"p50":         76,
			"p99":         150,
			"p99.9":       1000,
			// The range statistics: values as bounds are exclusive below
			// and inclusive above; percentages are ranks among the 151
			// samples, a sample straddling a boundary counting in part.
			"TC(100:)":  51,                        // 101..150 and 1000
			"TC(10:20)": 10,                        // 11..20
			"TS(140:)":  1455 + 1000,               // 141..150 and 1000
			"TM(10:20)": 15.5,                      // the mean of 11..20
			"PR(:100)":  100 * 100 / 151.0,         // 1..100 of 151
			"PR(150:)":  100 * 1 / 151.0,           // just the 1000
			"WM(:150)":  (150*151/2 + 150) / 151.0, // 1000 counts as 150
			"tc50":      75.5,                      // half of 151 samples
			"IQM":       76,                        // TM(25%:75%): symmetric around 76
			"TM(:50%)":  (75*76/2 + 0.5*76) / 75.5, // 1..75 and half of 76
			"TC(0.5%:)": 151 - 0.755,               // all but the lowest 0.5%
		}
		var qs []types.MetricDataQuery
		ids := map[string]string{}
		for stat := range stats {
			id := fmt.Sprintf("q%d", len(ids))
			ids[id] = stat
			qs = append(qs, types.MetricDataQuery{Id: aws.String(id), MetricStat: metricStat("Latency", stat, 60)})
		}
		out, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			MetricDataQueries: qs,
			StartTime:         aws.Time(cwT0.Add(-time.Hour)),
			EndTime:           aws.Time(cwT0),
		})
		if err != nil {
			t.Fatalf("GetMetricData: %v", err)
		}
		if len(out.MetricDataResults) != len(stats) {
			t.Fatalf("got %d results, want %d", len(out.MetricDataResults), len(stats))
		}
		for _, r := range out.MetricDataResults {
			stat := ids[aws.ToString(r.Id)]
			if len(r.Values) != 1 || len(r.Timestamps) != 1 {
				t.Fatalf("%s: got %d values %d timestamps, want 1", stat, len(r.Values), len(r.Timestamps))
			}
			if math.Abs(r.Values[0]-stats[stat]) > 1e-9 {
				t.Errorf("%s = %v, want %v", stat, r.Values[0], stats[stat])
			}
			if !r.Timestamps[0].Equal(cwT0.Add(-5 * time.Minute)) {
				t.Errorf("%s timestamp %v, want %v", stat, r.Timestamps[0], cwT0.Add(-5*time.Minute))
			}
			if r.StatusCode != types.StatusCodeComplete {
				t.Errorf("%s status %s", stat, r.StatusCode)
			}
			if aws.ToString(r.Label) != "Latency" {
				t.Errorf("%s label %q", stat, aws.ToString(r.Label))
			}
		}
	})
}

func TestCWPeriodAggregationAndScanOrder(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, env *cwEnv, c *cloudwatch.Client) {
		ctx := ctxT(t)
		// Ten one-minute datums, value i at minute i (from cwT0-10m).
		base := cwT0.Add(-10 * time.Minute)
		for i := 0; i < 10; i++ {
			env.store.Put(metrics.Datum{Namespace: "Perch/Test", MetricName: "Requests", Dimensions: []metrics.Dimension{
				{Name: "LoadBalancer", Value: "app/checkout/50dc6c495c0c9188"}, {Name: "TargetGroup", Value: "targetgroup/checkout-canary/73e2d6bc24d8a067"},
			}, Timestamp: base.Add(time.Duration(i) * time.Minute), Unit: "Count", SampleCount: 1, Sum: float64(i), Min: float64(i), Max: float64(i)})
		}
		out, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			MetricDataQueries: []types.MetricDataQuery{
				{Id: aws.String("sum5"), MetricStat: metricStat("Requests", "Sum", 300)},
				{Id: aws.String("max5"), MetricStat: metricStat("Requests", "Maximum", 300)},
				{Id: aws.String("p99"), MetricStat: metricStat("Requests", "p99", 300)},
				{Id: aws.String("wrongunit"), MetricStat: func() *types.MetricStat {
					m := metricStat("Requests", "Sum", 60)
					m.Unit = types.StandardUnitSeconds
					return m
				}()},
			},
			StartTime: aws.Time(cwT0.Add(-time.Hour)),
			EndTime:   aws.Time(cwT0),
			ScanBy:    types.ScanByTimestampAscending,
		})
		if err != nil {
			t.Fatalf("GetMetricData: %v", err)
		}
		byID := map[string]types.MetricDataResult{}
		for _, r := range out.MetricDataResults {
			byID[aws.ToString(r.Id)] = r
		}
		sum := byID["sum5"]
		if got, want := sum.Values, []float64{0 + 1 + 2 + 3 + 4, 5 + 6 + 7 + 8 + 9}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("5-minute sums %v, want %v", got, want)
		}
		if len(sum.Timestamps) != 2 || !sum.Timestamps[0].Equal(base) || !sum.Timestamps[1].Equal(base.Add(5*time.Minute)) {
			t.Errorf("ascending timestamps %v", sum.Timestamps)
		}
		if got := byID["max5"].Values; fmt.Sprint(got) != "[4 9]" {
			t.Errorf("5-minute max %v", got)
		}
		if n := len(byID["p99"].Values); n != 0 {
			t.Errorf("percentile over statistic sets returned %d values, want none", n)
		}
		if n := len(byID["wrongunit"].Values); n != 0 {
			t.Errorf("unit filter returned %d values, want none", n)
		}

		desc, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m"), MetricStat: metricStat("Requests", "Sum", 60)}},
			StartTime:         aws.Time(base.Add(3 * time.Minute)),
			EndTime:           aws.Time(base.Add(6 * time.Minute)),
		})
		if err != nil {
			t.Fatalf("GetMetricData: %v", err)
		}
		if got := desc.MetricDataResults[0].Values; fmt.Sprint(got) != "[5 4 3]" {
			t.Errorf("descending window values %v, want [5 4 3] (start inclusive, end exclusive)", got)
		}
	})
}

func TestCWMetricMath(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, env *cwEnv, c *cloudwatch.Client) {
		ctx := ctxT(t)
		base := cwT0.Add(-4 * time.Minute)
		dims := []metrics.Dimension{{Name: "LoadBalancer", Value: "app/checkout/50dc6c495c0c9188"}, {Name: "TargetGroup", Value: "targetgroup/checkout-canary/73e2d6bc24d8a067"}}
		for i := 0; i < 4; i++ {
			ts := base.Add(time.Duration(i) * time.Minute)
			env.store.Put(metrics.Datum{Namespace: "Perch/Test", MetricName: "RequestCount", Dimensions: dims, Timestamp: ts, SampleCount: 1, Sum: 200})
			if i%2 == 1 {
				env.store.Put(metrics.Datum{Namespace: "Perch/Test", MetricName: "Errors", Dimensions: dims, Timestamp: ts, SampleCount: 1, Sum: 10})
			}
		}
		out, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			MetricDataQueries: []types.MetricDataQuery{
				{Id: aws.String("req"), MetricStat: metricStat("RequestCount", "Sum", 60), ReturnData: aws.Bool(false)},
				{Id: aws.String("err"), MetricStat: metricStat("Errors", "Sum", 60), ReturnData: aws.Bool(false)},
				{Id: aws.String("rate"), Expression: aws.String("100*FILL(err,0)/FILL(req,1)"), Label: aws.String("error rate")},
				{Id: aws.String("raw"), Expression: aws.String("err / req * 100")},
				{Id: aws.String("both"), Expression: aws.String("SUM([req, err]) - (2 - -1)")},
			},
			StartTime: aws.Time(base),
			EndTime:   aws.Time(cwT0),
			ScanBy:    types.ScanByTimestampAscending,
		})
		if err != nil {
			t.Fatalf("GetMetricData: %v", err)
		}
		byID := map[string]types.MetricDataResult{}
		for _, r := range out.MetricDataResults {
			byID[aws.ToString(r.Id)] = r
		}
		if len(byID) != 3 {
			t.Fatalf("got results %v, want only the three ReturnData queries", byID)
		}
		if got := byID["rate"].Values; fmt.Sprint(got) != "[0 5 0 5]" {
			t.Errorf("rate %v, want [0 5 0 5]", got)
		}
		if aws.ToString(byID["rate"].Label) != "error rate" {
			t.Errorf("label %q", aws.ToString(byID["rate"].Label))
		}
		if got := byID["raw"].Values; fmt.Sprint(got) != "[5 5]" {
			t.Errorf("raw %v, want [5 5] (no FILL: missing points stay missing)", got)
		}
		if got := byID["both"].Values; fmt.Sprint(got) != "[197 207 197 207]" {
			t.Errorf("both %v", got)
		}

		for _, bad := range []string{"RATE(req)", "SELECT AVG(x) FROM y", "req +", "unknown * 2", "FILL(req, REPEAT)"} {
			_, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
				MetricDataQueries: []types.MetricDataQuery{
					{Id: aws.String("req"), MetricStat: metricStat("RequestCount", "Sum", 60), ReturnData: aws.Bool(false)},
					{Id: aws.String("x"), Expression: aws.String(bad)},
				},
				StartTime: aws.Time(base), EndTime: aws.Time(cwT0),
			})
			var ipv *types.InvalidParameterValueException
			if !errors.As(err, &ipv) {
				t.Errorf("expression %q: got %v, want InvalidParameterValueException", bad, err)
			}
		}
	})
}

func TestCWGetMetricDataLimitsAndPagination(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, env *cwEnv, c *cloudwatch.Client) {
		ctx := ctxT(t)
		qs := make([]types.MetricDataQuery, 501)
		for i := range qs {
			qs[i] = types.MetricDataQuery{Id: aws.String(fmt.Sprintf("m%d", i)), MetricStat: metricStat("Requests", "Sum", 60)}
		}
		_, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{MetricDataQueries: qs, StartTime: aws.Time(cwT0.Add(-time.Hour)), EndTime: aws.Time(cwT0)})
		var ve *types.ValidationException
		if !errors.As(err, &ve) {
			t.Fatalf("501 queries: got %v, want ValidationException", err)
		}
		if env.codesOverridden() && ve.ErrorCode() != "ValidationError" {
			t.Errorf("ErrorCode %q, want ValidationError", ve.ErrorCode())
		}
		if _, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{MetricDataQueries: qs[:500], StartTime: aws.Time(cwT0.Add(-time.Hour)), EndTime: aws.Time(cwT0)}); err != nil {
			t.Fatalf("500 queries: %v", err)
		}

		dims := []metrics.Dimension{{Name: "LoadBalancer", Value: "app/checkout/50dc6c495c0c9188"}, {Name: "TargetGroup", Value: "targetgroup/checkout-canary/73e2d6bc24d8a067"}}
		for i := 0; i < 25; i++ {
			env.store.Put(metrics.Datum{Namespace: "Perch/Test", MetricName: "Requests", Dimensions: dims, Timestamp: cwT0.Add(-time.Duration(i+1) * time.Minute), SampleCount: 1, Sum: float64(i), Min: float64(i), Max: float64(i)})
		}
		in := &cloudwatch.GetMetricDataInput{
			MetricDataQueries: []types.MetricDataQuery{
				{Id: aws.String("a"), MetricStat: metricStat("Requests", "Sum", 60)},
				{Id: aws.String("b"), MetricStat: metricStat("Requests", "Maximum", 60)},
			},
			StartTime: aws.Time(cwT0.Add(-time.Hour)), EndTime: aws.Time(cwT0), MaxDatapoints: aws.Int32(7),
		}
		got := map[string][]float64{}
		pages := 0
		sawPartial := false
		p := cloudwatch.NewGetMetricDataPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("page %d: %v", pages, err)
			}
			pages++
			n := 0
			for _, r := range out.MetricDataResults {
				got[aws.ToString(r.Id)] = append(got[aws.ToString(r.Id)], r.Values...)
				n += len(r.Values)
				if r.StatusCode == types.StatusCodePartialData {
					sawPartial = true
				}
			}
			if n > 7 {
				t.Fatalf("page %d holds %d datapoints, MaxDatapoints is 7", pages, n)
			}
			if pages > 20 {
				t.Fatal("paginator does not terminate")
			}
		}
		if pages != 8 { // 50 datapoints / 7
			t.Errorf("pages %d, want 8", pages)
		}
		if !sawPartial {
			t.Error("no result was marked PartialData")
		}
		for _, id := range []string{"a", "b"} {
			if len(got[id]) != 25 || got[id][0] != 0 || got[id][24] != 24 {
				t.Errorf("%s after paging: %v", id, got[id])
			}
		}

		in.NextToken = aws.String("bm90LWEtdG9rZW4")
		_, err = c.GetMetricData(ctx, in)
		var bad *types.InvalidNextToken
		if !errors.As(err, &bad) {
			t.Errorf("bad token: got %v, want InvalidNextToken", err)
		}
	})
}

func TestCWListMetrics(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, env *cwEnv, c *cloudwatch.Client) {
		ctx := ctxT(t)
		for i := 0; i < 3; i++ {
			env.store.Put(metrics.Datum{Namespace: "AWS/ApplicationELB", MetricName: "RequestCount", Dimensions: []metrics.Dimension{
				{Name: "LoadBalancer", Value: "app/a/1"}, {Name: "TargetGroup", Value: fmt.Sprintf("targetgroup/tg%d/1", i)},
			}, Timestamp: cwT0, SampleCount: 1, Sum: 1})
		}
		env.store.Put(metrics.Datum{Namespace: "AWS/Lambda", MetricName: "Errors", Timestamp: cwT0, SampleCount: 1, Sum: 1})
		out, err := c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{
			Namespace:  aws.String("AWS/ApplicationELB"),
			Dimensions: []types.DimensionFilter{{Name: aws.String("TargetGroup"), Value: aws.String("targetgroup/tg1/1")}},
		})
		if err != nil {
			t.Fatalf("ListMetrics: %v", err)
		}
		if len(out.Metrics) != 1 || aws.ToString(out.Metrics[0].MetricName) != "RequestCount" || len(out.Metrics[0].Dimensions) != 2 {
			t.Fatalf("ListMetrics filtered: %+v", out.Metrics)
		}
		all, err := c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
		if err != nil {
			t.Fatalf("ListMetrics: %v", err)
		}
		if len(all.Metrics) != 4 {
			t.Fatalf("ListMetrics all: %d metrics", len(all.Metrics))
		}
	})
}

func TestCWAlarmsRoundTrip(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, env *cwEnv, c *cloudwatch.Client) {
		ctx := ctxT(t)
		for _, name := range []string{"checkout-canary-5xx", "checkout-canary-p99", "orders-errors"} {
			_, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
				AlarmName:          aws.String(name),
				Namespace:          aws.String("Perch/Test"),
				MetricName:         aws.String("Errors"),
				Dimensions:         albDims,
				Statistic:          types.StatisticSum,
				Period:             aws.Int32(60),
				EvaluationPeriods:  aws.Int32(3),
				DatapointsToAlarm:  aws.Int32(2),
				Threshold:          aws.Float64(5),
				ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
				TreatMissingData:   aws.String("notBreaching"),
				AlarmActions:       []string{"arn:aws:sns:us-east-1:123456789012:pager"},
			})
			if err != nil {
				t.Fatalf("PutMetricAlarm %s: %v", name, err)
			}
		}
		out, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("checkout-")})
		if err != nil {
			t.Fatalf("DescribeAlarms: %v", err)
		}
		if len(out.MetricAlarms) != 2 {
			t.Fatalf("prefix filter returned %d alarms", len(out.MetricAlarms))
		}
		a := out.MetricAlarms[0]
		if aws.ToString(a.AlarmName) != "checkout-canary-5xx" ||
			aws.ToString(a.AlarmArn) != "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-canary-5xx" ||
			a.StateValue != types.StateValueOk || // notBreaching with no data
			aws.ToInt32(a.EvaluationPeriods) != 3 || aws.ToInt32(a.DatapointsToAlarm) != 2 ||
			aws.ToFloat64(a.Threshold) != 5 || a.Statistic != types.StatisticSum || aws.ToInt32(a.Period) != 60 ||
			a.ComparisonOperator != types.ComparisonOperatorGreaterThanThreshold ||
			aws.ToString(a.TreatMissingData) != "notBreaching" || !aws.ToBool(a.ActionsEnabled) ||
			len(a.Dimensions) != 2 || len(a.AlarmActions) != 1 || a.StateUpdatedTimestamp == nil {
			t.Errorf("described alarm: %+v", a)
		}

		_, err = c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
			AlarmName: aws.String("orders-errors"), StateValue: types.StateValueAlarm, StateReason: aws.String("testing the abort path"),
		})
		if err != nil {
			t.Fatalf("SetAlarmState: %v", err)
		}
		st, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{StateValue: types.StateValueAlarm})
		if err != nil {
			t.Fatalf("DescribeAlarms: %v", err)
		}
		if len(st.MetricAlarms) != 1 || aws.ToString(st.MetricAlarms[0].StateReason) != "testing the abort path" {
			t.Fatalf("state filter: %+v", st.MetricAlarms)
		}

		// Paging with MaxRecords through the SDK paginator.
		var names []string
		p := cloudwatch.NewDescribeAlarmsPaginator(c, &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(2)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("DescribeAlarms page: %v", err)
			}
			for _, a := range page.MetricAlarms {
				names = append(names, aws.ToString(a.AlarmName))
			}
			if len(names) > 10 {
				t.Fatal("paginator does not terminate")
			}
		}
		if !sort.StringsAreSorted(names) || len(names) != 3 {
			t.Errorf("paged names %v", names)
		}

		_, err = c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
			AlarmName: aws.String("nope"), StateValue: types.StateValueAlarm, StateReason: aws.String("x"),
		})
		var nf *types.ResourceNotFound
		if !errors.As(err, &nf) {
			t.Fatalf("SetAlarmState unknown: got %v, want *types.ResourceNotFound", err)
		}
		if nf.ErrorCode() != "ResourceNotFound" { // shape name and query code agree here
			t.Errorf("ErrorCode %q", nf.ErrorCode())
		}

		_, err = c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"orders-errors", "nope"}})
		if !errors.As(err, &nf) {
			t.Fatalf("DeleteAlarms with an unknown name: got %v, want ResourceNotFound", err)
		}
		if _, err := c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"orders-errors"}}); err != nil {
			t.Fatalf("DeleteAlarms: %v", err)
		}
		left, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
		if err != nil {
			t.Fatalf("DescribeAlarms: %v", err)
		}
		if len(left.MetricAlarms) != 2 {
			t.Errorf("after delete: %d alarms", len(left.MetricAlarms))
		}
	})
}

func TestCWTypedErrors(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, env *cwEnv, c *cloudwatch.Client) {
		ctx := ctxT(t)
		env.cw.alarmLimit = 1
		put := func(name string) error {
			_, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
				AlarmName: aws.String(name), Namespace: aws.String("Perch/Test"), MetricName: aws.String("Errors"),
				Statistic: types.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
				Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
			})
			return err
		}
		if err := put("one"); err != nil {
			t.Fatalf("first alarm: %v", err)
		}
		var lim *types.LimitExceededFault
		if err := put("two"); !errors.As(err, &lim) || (env.codesOverridden() && lim.ErrorCode() != "LimitExceeded") {
			t.Errorf("over the limit: got %v, want LimitExceededFault with code LimitExceeded", err)
		}

		_, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m"), MetricStat: metricStat("Errors", "TC(50%:0.3)", 60)}},
			StartTime:         aws.Time(cwT0.Add(-time.Hour)), EndTime: aws.Time(cwT0),
		})
		var ipv *types.InvalidParameterValueException
		if !errors.As(err, &ipv) || (env.codesOverridden() && ipv.ErrorCode() != "InvalidParameterValue") {
			t.Errorf("a range statistic mixing a percentage and a value: got %v, want InvalidParameterValueException/InvalidParameterValue", err)
		}

		// The SDK checks modelled required members itself, so use one the
		// model cannot express: a datum without any value.
		_, err = c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
			Namespace:  aws.String("Perch/Test"),
			MetricData: []types.MetricDatum{{MetricName: aws.String("X")}},
		})
		var miss *types.MissingRequiredParameterException
		if !errors.As(err, &miss) || (env.codesOverridden() && miss.ErrorCode() != "MissingParameter") {
			t.Errorf("datum without a value: got %v, want MissingRequiredParameterException/MissingParameter", err)
		}

		_, err = c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
			Namespace:  aws.String("Perch/Test"),
			MetricData: []types.MetricDatum{{MetricName: aws.String("X"), Value: aws.Float64(1), StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(1), Sum: aws.Float64(1), Minimum: aws.Float64(1), Maximum: aws.Float64(1)}}},
		})
		var comb *types.InvalidParameterCombinationException
		if !errors.As(err, &comb) {
			t.Errorf("Value and StatisticValues: got %v, want InvalidParameterCombinationException", err)
		}
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorFault() != smithy.FaultClient {
			t.Errorf("fault of %v is not client", err)
		}
	})
}

func TestCWMetricMathAlarmRoundTrip(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, env *cwEnv, c *cloudwatch.Client) {
		ctx := ctxT(t)
		_, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName:        aws.String("canary-error-rate"),
			AlarmDescription: aws.String("5xx rate of the canary"),
			Metrics: []types.MetricDataQuery{
				{Id: aws.String("err"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("Perch/Test"), MetricName: aws.String("Errors"), Dimensions: albDims}, Period: aws.Int32(60), Stat: aws.String("Sum"), Unit: types.StandardUnitCount}, ReturnData: aws.Bool(false)},
				{Id: aws.String("req"), MetricStat: metricStat("Requests", "Sum", 60), ReturnData: aws.Bool(false)},
				{Id: aws.String("rate"), Expression: aws.String("100*FILL(err,0)/req"), Label: aws.String("rate"), ReturnData: aws.Bool(true)},
			},
			EvaluationPeriods:  aws.Int32(2),
			Threshold:          aws.Float64(5),
			ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold,
			OKActions:          []string{"arn:aws:sns:us-east-1:123456789012:ok"},
		})
		if err != nil {
			t.Fatalf("PutMetricAlarm: %v", err)
		}
		dims := []metrics.Dimension{{Name: "LoadBalancer", Value: "app/checkout/50dc6c495c0c9188"}, {Name: "TargetGroup", Value: "targetgroup/checkout-canary/73e2d6bc24d8a067"}}
		for i := 1; i <= 2; i++ {
			ts := cwT0.Add(-time.Duration(i) * time.Minute)
			env.store.Put(metrics.Datum{Namespace: "Perch/Test", MetricName: "Requests", Dimensions: dims, Timestamp: ts, Unit: "Count", SampleCount: 1, Sum: 100})
			env.store.Put(metrics.Datum{Namespace: "Perch/Test", MetricName: "Errors", Dimensions: dims, Timestamp: ts, Unit: "Count", SampleCount: 1, Sum: 9})
		}
		out, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{ActionPrefix: aws.String("arn:aws:sns:us-east-1:123456789012:ok")})
		if err != nil {
			t.Fatalf("DescribeAlarms: %v", err)
		}
		if len(out.MetricAlarms) != 1 {
			t.Fatalf("ActionPrefix filter: %d alarms", len(out.MetricAlarms))
		}
		a := out.MetricAlarms[0]
		if a.StateValue != types.StateValueAlarm || !strings.Contains(aws.ToString(a.StateReason), "[9.0 (26/11/26 06:59:00), 9.0 (26/11/26 06:58:00)]") {
			t.Errorf("state %s: %s", a.StateValue, aws.ToString(a.StateReason))
		}
		if aws.ToString(a.AlarmDescription) != "5xx rate of the canary" || a.MetricName != nil || len(a.Metrics) != 3 {
			t.Fatalf("math alarm: %+v", a)
		}
		m0, m2 := a.Metrics[0], a.Metrics[2]
		if aws.ToString(m0.Id) != "err" || aws.ToBool(m0.ReturnData) || m0.MetricStat == nil ||
			aws.ToString(m0.MetricStat.Metric.MetricName) != "Errors" || len(m0.MetricStat.Metric.Dimensions) != 2 ||
			aws.ToInt32(m0.MetricStat.Period) != 60 || m0.MetricStat.Unit != types.StandardUnitCount {
			t.Errorf("metrics[0]: %+v", m0)
		}
		if aws.ToString(m2.Expression) != "100*FILL(err,0)/req" || !aws.ToBool(m2.ReturnData) || aws.ToString(m2.Label) != "rate" {
			t.Errorf("metrics[2]: %+v", m2)
		}
		if none, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm}}); err != nil || len(none.MetricAlarms) != 0 {
			t.Errorf("AlarmTypes=CompositeAlarm: %v, %+v", err, none)
		}
	})
}
