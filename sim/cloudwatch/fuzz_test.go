package cloudwatch

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim/cloudwatch/wire"
	"github.com/perch-dev/perch/sim/metrics"
)

// fuzzCW is a simulator with a little data and one alarm, so that fuzzed
// requests reach the statistics, expression and alarm code, not only the
// decoders.
func fuzzCW() *Service {
	store := metrics.NewStore(6 * time.Hour)
	for i := 0; i < 5; i++ {
		store.Put(metrics.Datum{Namespace: "N", MetricName: "M", Dimensions: []metrics.Dimension{{Name: "D", Value: "v"}},
			Timestamp: cwT0.Add(-time.Duration(i) * time.Minute), Values: []float64{1, 2, 3}, Counts: []float64{1, 1, float64(i)}})
	}
	cw := New(clock.NewManual(cwT0), store)
	if err := cw.PutAlarm(AlarmDef{Name: "a", Namespace: "N", MetricName: "M", Dimensions: []metrics.Dimension{{Name: "D", Value: "v"}},
		Statistic: "Sum", Period: 60, EvaluationPeriods: 2, Threshold: 1, ComparisonOperator: "GreaterThanThreshold"}); err != nil {
		panic(err)
	}
	return cw
}

// checkCWResponse asserts the simulator answered with a well-formed success
// or a well-formed modelled error in the request's protocol.
func checkCWResponse(t *testing.T, proto wire.Protocol, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusOK && (rec.Code < 400 || rec.Code > 404) {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	if rec.Header().Get("X-Amzn-Requestid") == "" {
		t.Fatal("no request id")
	}
	body := rec.Body.Bytes()
	switch proto {
	case wire.CBOR:
		if rec.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" {
			t.Fatal("CBOR response without Smithy-Protocol header")
		}
		v, err := cbor.Decode(body)
		if err != nil {
			t.Fatalf("response is not CBOR: %v", err)
		}
		if _, ok := v.(cbor.Map); !ok {
			t.Fatalf("response is %T, not a map", v)
		}
	case wire.JSON:
		if !json.Valid(body) {
			t.Fatalf("response is not JSON: %s", body)
		}
	default:
		d := xml.NewDecoder(bytes.NewReader(body))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("response is not XML: %v\n%s", err, body)
				}
				break
			}
		}
	}
	if rec.Code != http.StatusOK && rec.Header().Get("X-Amzn-Query-Error") == "" {
		t.Fatal("error without X-Amzn-Query-Error")
	}
}

var cwFuzzOps = []string{"GetMetricData", "ListMetrics", "PutMetricData", "DescribeAlarms", "PutMetricAlarm", "SetAlarmState", "DeleteAlarms", "Nope"}

func FuzzCBORRequest(f *testing.F) {
	p := wire.Pairs
	metric := p("Namespace", "N", "MetricName", "M", "Dimensions", []wire.Obj{p("Name", "D", "Value", "v")})
	gmd := p(
		"MetricDataQueries", []wire.Obj{
			p("Id", "m", "MetricStat", p("Metric", metric, "Period", 60, "Stat", "p99.9"), "ReturnData", false),
			p("Id", "e", "Expression", "FILL(m, 0) * 2 + SUM([m, m])"),
		},
		"StartTime", cwT0.Add(-time.Hour), "EndTime", cwT0, "MaxDatapoints", 3,
	)
	f.Add(uint8(0), wire.EncodeCBOR(gmd))
	f.Add(uint8(2), wire.EncodeCBOR(p("Namespace", "N", "MetricData", []wire.Obj{p("MetricName", "M", "Values", []float64{1, 2}, "Counts", []float64{3, 4})})))
	f.Add(uint8(3), wire.EncodeCBOR(p("AlarmNamePrefix", "a", "MaxRecords", 1)))
	f.Add(uint8(4), wire.EncodeCBOR(p("AlarmName", "b", "Metrics", []wire.Obj{p("Id", "x", "Expression", "1", "Period", 60)}, "EvaluationPeriods", 1, "Threshold", 1.5, "ComparisonOperator", "LessThanThreshold")))
	f.Add(uint8(5), wire.EncodeCBOR(p("AlarmName", "a", "StateValue", "ALARM", "StateReason", "r", "StateReasonData", "{}")))
	f.Add(uint8(6), []byte{0xbf, 0x61, 0x41, 0x9f, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		cw := fuzzCW()
		r := httptest.NewRequest(http.MethodPost, wire.CBORPrefix+cwFuzzOps[int(op)%len(cwFuzzOps)], bytes.NewReader(body))
		r.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		rec := httptest.NewRecorder()
		cw.Operation(r, body)
		cw.Serve(rec, r, body)
		checkCWResponse(t, wire.CBOR, rec)
	})
}

func FuzzJSONRequest(f *testing.F) {
	f.Add(uint8(0), []byte(`{"MetricDataQueries":[{"Id":"m","MetricStat":{"Metric":{"Namespace":"N","MetricName":"M","Dimensions":[{"Name":"D","Value":"v"}]},"Period":300,"Stat":"Average"}},{"Id":"r","Expression":"m/(m-2)"}],"StartTime":1795672800,"EndTime":1795676400.5,"ScanBy":"TimestampAscending"}`))
	f.Add(uint8(1), []byte(`{"Dimensions":[{"Name":"D"}]}`))
	f.Add(uint8(2), []byte(`{"Namespace":"N","MetricData":[{"MetricName":"M","StatisticValues":{"SampleCount":1,"Sum":2,"Minimum":2,"Maximum":2},"Timestamp":1795676000}]}`))
	f.Add(uint8(4), []byte(`{"AlarmName":"c","Namespace":"N","MetricName":"M","ExtendedStatistic":"p50","Period":10,"EvaluationPeriods":3,"DatapointsToAlarm":2,"Threshold":0,"ComparisonOperator":"GreaterThanOrEqualToThreshold","TreatMissingData":"breaching"}`))
	f.Add(uint8(6), []byte(`{"AlarmNames":["a","zz"]}`))
	f.Add(uint8(7), []byte(`[]`))
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		cw := fuzzCW()
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("X-Amz-Target", wire.ServiceName+"."+cwFuzzOps[int(op)%len(cwFuzzOps)])
		r.Header.Set("Content-Type", "application/x-amz-json-1.0")
		rec := httptest.NewRecorder()
		cw.Operation(r, body)
		cw.Serve(rec, r, body)
		checkCWResponse(t, wire.JSON, rec)
	})
}

func FuzzQueryRequest(f *testing.F) {
	f.Add([]byte("Action=GetMetricData&Version=2010-08-01&MetricDataQueries.member.1.Id=m&MetricDataQueries.member.1.MetricStat.Metric.Namespace=N&MetricDataQueries.member.1.MetricStat.Metric.MetricName=M&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=D&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=v&MetricDataQueries.member.1.MetricStat.Period=60&MetricDataQueries.member.1.MetricStat.Stat=Sum&StartTime=2026-11-26T06%3A00%3A00Z&EndTime=2026-11-26T07%3A00%3A00Z"))
	f.Add([]byte("Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=a&StateValue=OK"))
	f.Add([]byte("Action=PutMetricData&Version=2010-08-01&Namespace=N&MetricData.member.1.MetricName=M&MetricData.member.1.Value=1.5&MetricData.member.1.Unit=Seconds"))
	f.Add([]byte("Action=SetAlarmState&Version=2010-08-01&AlarmName=a&StateValue=ALARM&StateReason=x"))
	f.Add([]byte("Action=ListMetrics&Dimensions=&Dimensions.member.1.Name=D"))
	f.Add([]byte("Action=DeleteAlarms&AlarmNames.member.999999999=a"))
	f.Add([]byte("member.1")) // once decoded the root itself as a list
	f.Fuzz(func(t *testing.T, body []byte) {
		cw := fuzzCW()
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		cw.Operation(r, body)
		cw.Serve(rec, r, body)
		checkCWResponse(t, wire.Query, rec)
	})
}
