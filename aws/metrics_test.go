package aws

import (
	"context"
	"fmt"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/perch-dev/perch/model"
)

func testTarget() model.Target {
	return model.Target{LoadBalancerARN: testLB, StableARN: testTG + "0", CanaryARN: testTG}
}

func TestALBQueries(t *testing.T) {
	qs := ALBQueries(testTarget(), "t0_")
	if len(qs) != 10 {
		t.Fatalf("%d queries", len(qs))
	}
	seen := map[string]bool{}
	for _, q := range qs {
		if !validQueryID(q.ID()) || seen[q.ID()] {
			t.Errorf("bad or duplicate id %q", q.ID())
		}
		seen[q.ID()] = true
		ms := q.Query.MetricStat
		if awssdk.ToString(ms.Metric.Namespace) != "AWS/ApplicationELB" || awssdk.ToInt32(ms.Period) != 60 || ms.Unit != "" {
			t.Errorf("%s: %+v", q.ID(), ms)
		}
		dims := map[string]string{}
		for _, d := range ms.Metric.Dimensions {
			dims[awssdk.ToString(d.Name)] = awssdk.ToString(d.Value)
		}
		wantTG := "targetgroup/checkout-canary/73e2d6bc24d8a067"
		if q.Side == model.Stable {
			wantTG += "0"
		}
		if len(dims) != 2 || dims["LoadBalancer"] != "app/checkout/50dc6c495c0c9188" || dims["TargetGroup"] != wantTG {
			t.Errorf("%s: dims %v", q.ID(), dims)
		}
		isLatency := q.Signal == model.LatencyP50 || q.Signal == model.LatencyP99
		if isLatency != (q.Scale == 1000) || awssdk.ToString(ms.Metric.MetricName) == "TargetResponseTime" != isLatency {
			t.Errorf("%s: scale %v metric %s", q.ID(), q.Scale, awssdk.ToString(ms.Metric.MetricName))
		}
	}
}

func TestValidQueryID(t *testing.T) {
	for id, ok := range map[string]bool{"a": true, "stable_requests": true, "aB9_": true, "": false, "A": false, "9a": false, "_a": false, "a-b": false, "a.b": false} {
		if validQueryID(id) != ok {
			t.Errorf("validQueryID(%q) != %v", id, ok)
		}
	}
	b := &Batcher{}
	if _, err := b.Fetch(t.Context(), []MetricQuery{{Query: cwtypes.MetricDataQuery{Id: awssdk.String("Bad")}}}, time.Time{}, time.Time{}); err == nil {
		t.Error("invalid id accepted")
	}
	dup := ALBQueries(testTarget(), "")
	if _, err := b.Fetch(t.Context(), append(dup, dup[0]), time.Time{}, time.Time{}); err == nil {
		t.Error("duplicate id accepted")
	}
}

func TestSeriesFromFillsErrorZeros(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	qs := ALBQueries(testTarget(), "")
	got := SeriesFrom(qs, map[string][]model.Point{
		"canary_requests":    {{T: at(0), V: 5}, {T: at(2), V: 7}},
		"canary_errors_5xx":  {{T: at(2), V: 1}},
		"stable_latency_p99": {{T: at(1), V: 12}},
	})
	if len(got) != 10 {
		t.Fatalf("%d series", len(got))
	}
	for _, s := range got {
		switch {
		case s.Side == model.Canary && s.Signal == model.Errors5xx:
			if len(s.Points) != 2 || s.Points[0] != (model.Point{T: at(0), V: 0}) || s.Points[1] != (model.Point{T: at(2), V: 1}) {
				t.Errorf("canary 5xx = %+v", s.Points)
			}
		case s.Side == model.Canary && s.Signal == model.Errors4xx:
			if len(s.Points) != 2 || s.Points[0].V != 0 || s.Points[1].V != 0 {
				t.Errorf("canary 4xx = %+v", s.Points)
			}
		case s.Side == model.Stable && s.Signal == model.Errors5xx:
			if s.Points == nil || len(s.Points) != 0 { // no requests: a gap, not a zero
				t.Errorf("stable 5xx = %#v", s.Points)
			}
		case s.Side == model.Canary && s.Signal == model.LatencyP99:
			if s.Points == nil || len(s.Points) != 0 {
				t.Errorf("canary p99 = %#v, want empty non-nil", s.Points)
			}
		}
	}
}

// pagingCW serves GetMetricData from a fixed answer per query id, split
// across pages, and records each call's size.
type pagingCW struct {
	pages int
	calls []int
}

func (p *pagingCW) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	page := 0
	if in.NextToken != nil {
		fmt.Sscanf(*in.NextToken, "p%d", &page)
	}
	p.calls = append(p.calls, len(in.MetricDataQueries))
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		out.MetricDataResults = append(out.MetricDataResults, cwtypes.MetricDataResult{
			Id: q.Id, StatusCode: cwtypes.StatusCodePartialData,
			// Newest page first and a repeated period, to exercise sorting
			// and de-duplication.
			Timestamps: []time.Time{in.StartTime.Add(time.Duration(p.pages-page) * time.Minute), *in.StartTime},
			Values:     []float64{float64(page), float64(page)},
		})
	}
	if page+1 < p.pages {
		out.NextToken = awssdk.String(fmt.Sprintf("p%d", page+1))
	}
	return out, nil
}

func (p *pagingCW) DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return nil, fmt.Errorf("unused")
}

func TestBatcherChunksAndPages(t *testing.T) {
	var qs []MetricQuery
	for i := range 51 { // 510 queries: two calls
		qs = append(qs, ALBQueries(testTarget(), fmt.Sprintf("t%d_", i))...)
	}
	if CallsFor(len(qs)) != 2 || CallsFor(500) != 1 || CallsFor(0) != 0 {
		t.Fatalf("CallsFor wrong")
	}
	api := &pagingCW{pages: 2}
	start := time.Date(2026, 1, 1, 12, 0, 30, 0, time.UTC)
	got, err := (&Batcher{api: api}).Fetch(t.Context(), qs, start, start.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(api.calls) != "[500 500 10 10]" {
		t.Fatalf("calls = %v, want two chunks of two pages", api.calls)
	}
	pts := got["t50_canary_latency_p99"]
	t0 := start.Truncate(time.Minute)
	want := []model.Point{{T: t0, V: 1000}, {T: t0.Add(time.Minute), V: 1000}, {T: t0.Add(2 * time.Minute), V: 0}}
	if fmt.Sprint(pts) != fmt.Sprint(want) {
		t.Fatalf("points = %v, want %v (sorted, later page wins, scaled to ms)", pts, want)
	}
}
