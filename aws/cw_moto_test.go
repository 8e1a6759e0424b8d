package aws

import (
	"fmt"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/perch-dev/perch/model"
)

// motoCloudWatch is a CloudWatch client for moto, which speaks Query and
// JSON but not the SDK's default CBOR. Only these contract tests switch
// protocol; perch itself never does (its simulator speaks CBOR).
func motoCloudWatch(t *testing.T) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(motoConfig(t), func(o *cloudwatch.Options) {
		o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
	})
}

func TestMotoAlarms(t *testing.T) {
	cw := motoCloudWatch(t)
	n := fixtureSeq.Add(1)
	names := make([]string, 0, 130)
	for i := range 130 { // more than one DescribeAlarms batch
		names = append(names, fmt.Sprintf("a%d-%03d", n, i))
	}
	for _, name := range names[:120] {
		_, err := cw.PutMetricAlarm(t.Context(), &cloudwatch.PutMetricAlarmInput{
			AlarmName: awssdk.String(name), Namespace: awssdk.String("AWS/ApplicationELB"), MetricName: awssdk.String("RequestCount"),
			Statistic: cwtypes.StatisticSum, Period: awssdk.Int32(60), EvaluationPeriods: awssdk.Int32(1),
			Threshold: awssdk.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cw.SetAlarmState(t.Context(), &cloudwatch.SetAlarmStateInput{AlarmName: awssdk.String(names[110]),
		StateValue: cwtypes.StateValueAlarm, StateReason: awssdk.String("test says so")}); err != nil {
		t.Fatal(err)
	}
	// AWS starts a new alarm in INSUFFICIENT_DATA; moto 5.2.1 starts it in
	// OK. Set the state explicitly so the test holds for both.
	if _, err := cw.SetAlarmState(t.Context(), &cloudwatch.SetAlarmStateInput{AlarmName: awssdk.String(names[0]),
		StateValue: cwtypes.StateValueInsufficientData, StateReason: awssdk.String("fresh")}); err != nil {
		t.Fatal(err)
	}
	a := &Alarms{api: cw}
	// Ask in reverse with a duplicate and a name that does not exist.
	ask := []string{names[129], names[110], names[0], "no-such-alarm", names[0]}
	got, err := a.Alarms(t.Context(), append(append([]string{}, ask...), names[1:109]...))
	if err != nil {
		t.Fatal(err)
	}
	want := []model.AlarmState{model.AlarmMissing, model.AlarmAlarm, model.AlarmInsufficientData, model.AlarmMissing, model.AlarmInsufficientData}
	for i, w := range want {
		if got[i].Name != ask[i] || got[i].State != w {
			t.Errorf("alarm %d = %+v, want %s %s", i, got[i], ask[i], w)
		}
	}
	if got[1].Reason != "test says so" {
		t.Errorf("reason = %q", got[1].Reason)
	}
	if len(got) != len(ask)+108 {
		t.Fatalf("%d results for %d names", len(got), len(ask)+108)
	}
}

func TestMotoMetricsFetch(t *testing.T) {
	cw := motoCloudWatch(t)
	n := fixtureSeq.Add(1)
	target := model.Target{
		LoadBalancerARN: fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/m%d/50dc6c495c0c9188", n),
		StableARN:       fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/m%d-stable/1111", n),
		CanaryARN:       fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/m%d-canary/2222", n),
	}
	t0 := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	put := func(tg, metric string, at time.Time, v float64) {
		t.Helper()
		_, err := cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{
			Namespace: awssdk.String("AWS/ApplicationELB"),
			MetricData: []cwtypes.MetricDatum{{MetricName: awssdk.String(metric), Timestamp: awssdk.Time(at), Value: awssdk.Float64(v),
				Dimensions: []cwtypes.Dimension{
					{Name: awssdk.String("LoadBalancer"), Value: awssdk.String(lbDimension(target.LoadBalancerARN))},
					{Name: awssdk.String("TargetGroup"), Value: awssdk.String(tgDimension(tg))}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		// On the minute: moto 5.2.1 returns raw datapoint timestamps
		// where AWS returns period starts.
		at := t0.Add(time.Duration(i) * time.Minute)
		put(target.StableARN, "RequestCount", at, 100)
		put(target.CanaryARN, "RequestCount", at, 10)
	}
	put(target.CanaryARN, "HTTPCode_Target_5XX_Count", t0.Add(time.Minute), 3)

	// moto 5.2.1 fails (HTTP 500) on percentile statistics, so only the
	// counters go to moto; latency is covered against perch's simulator.
	var queries []MetricQuery
	for _, q := range ALBQueries(target, "m_") {
		if q.Signal != model.LatencyP50 && q.Signal != model.LatencyP99 {
			queries = append(queries, q)
		}
	}
	raw, err := (&Batcher{api: cw}).Fetch(t.Context(), queries, t0.Add(30*time.Second), t0.Add(4*time.Minute+time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := SeriesFrom(queries, raw)
	series := map[[2]string][]model.Point{}
	for _, s := range got {
		series[[2]string{s.Side.String(), string(s.Signal)}] = s.Points
	}
	if len(got) != 6 || len(series) != 6 {
		t.Fatalf("got %d series", len(got))
	}
	check := func(side, sig string, want ...float64) {
		t.Helper()
		pts := series[[2]string{side, sig}]
		if len(pts) != len(want) {
			t.Fatalf("%s %s = %+v, want values %v", side, sig, pts, want)
		}
		for i, p := range pts {
			if !p.T.Equal(t0.Add(time.Duration(i)*time.Minute)) || p.V < want[i]-1e-9 || p.V > want[i]+1e-9 {
				t.Fatalf("%s %s[%d] = %+v, want %v at %s", side, sig, i, p, want[i], t0.Add(time.Duration(i)*time.Minute))
			}
		}
	}
	check("stable", "requests", 100, 100, 100)
	check("canary", "requests", 10, 10, 10)
	check("canary", "errors_5xx", 0, 3, 0) // zeros filled where requests exist
	check("stable", "errors_5xx", 0, 0, 0)
	check("stable", "errors_4xx", 0, 0, 0)
}
