package ui

import (
	"math"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/perch-dev/perch/model"
)

// lambdaThrottlesSnapshot is a weighted alias whose canary (version 8)
// throttles about 40% of its invocations while stable (version 7) never
// does, as in the simulator's lambda-throttles scenario.
func lambdaThrottlesSnapshot() model.Snapshot {
	s := healthySnapshot()
	s.Target = model.Target{Kind: model.KindLambda, Name: "orders:live", Region: "us-east-1",
		Function: "orders", Alias: "live", AliasARN: "arn:aws:lambda:us-east-1:123456789012:function:orders:live",
		StableName: "version 7", CanaryName: "version 8"}
	s.Split = model.Split{StableID: "7", CanaryID: "8", StableWeight: 900, CanaryWeight: 100, Revision: "2b5c45f4"}
	s.Health = [2]model.Health{{Healthy: 1}, {Healthy: 1}}
	s.Alarms = nil
	s.Signals = signals(func(float64) float64 { return 1.2 }, func(float64) float64 { return 8800 })
	throttles := func(req []model.Point, ratio float64) []model.Point {
		out := make([]model.Point, len(req))
		for i, p := range req {
			out[i] = model.Point{T: p.T, V: math.Round(p.V * ratio)}
		}
		return out
	}
	s.Signals[model.Canary][model.Throttles] = throttles(s.Signals[model.Canary][model.Requests], 0.67)
	s.Signals[model.Stable][model.Throttles] = throttles(s.Signals[model.Stable][model.Requests], 0)
	s.Verdict = &model.Verdict{Overall: model.VerdictFail, Summary: "FAIL: p99 canary 8800 ms vs stable 120 ms"}
	return s
}

func TestLambdaCockpitChartsInLambdasWords(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {200, 50}, {120, 40}, {100, 40}, {100, 44}} {
		m, _ := newTestModel(lambdaThrottlesSnapshot(), Options{})
		got := screen(t, m, sz.w, sz.h)
		for _, want := range []string{"error rate %", "p99 duration ms", "throttles /min", "invocations /min", "canary version 8", "stable version 7"} {
			// The compact form at 80x24 keeps the short names only.
			if sz.w == 80 && strings.Contains(want, " ") && !strings.Contains(want, "version") {
				want = strings.Fields(want)[0]
			}
			if !strings.Contains(got, want) {
				t.Errorf("%dx%d: no %q on screen:\n%s", sz.w, sz.h, want, got)
			}
		}
		for _, alb := range []string{"5xx", "requests /min", "p99 latency"} {
			if strings.Contains(got, alb) {
				t.Errorf("%dx%d: ALB word %q on a Lambda screen:\n%s", sz.w, sz.h, alb, got)
			}
		}
		if sz.w == 80 || sz.w == 200 {
			t.Run("lambda-throttles-"+itoa(sz.w)+"x"+itoa(sz.h), func(t *testing.T) { golden.RequireEqual(t, []byte(got)) })
		}
	}
}

func TestChartSetsByKind(t *testing.T) {
	titles := func(k model.TargetKind) string {
		var out []string
		for _, m := range metricsFor(k) {
			out = append(out, m.title)
		}
		return strings.Join(out, ", ")
	}
	if got := titles(model.KindALB); got != "5xx rate %, p99 latency ms, requests /min" {
		t.Errorf("ALB charts: %s", got)
	}
	if got := titles(model.KindLambda); got != "error rate %, p99 duration ms, throttles /min, invocations /min" {
		t.Errorf("Lambda charts: %s", got)
	}
	// The canary's throttles, per minute, are what the throttles chart draws.
	s := lambdaThrottlesSnapshot()
	th := metricsFor(model.KindLambda)[2]
	canary, stable := th.series(s, model.Canary, period(s)), th.series(s, model.Stable, period(s))
	if len(canary) == 0 || model.Sum(canary, s.Now.Add(-10*60e9)) == 0 || model.Sum(stable, s.Now.Add(-10*60e9)) != 0 {
		t.Fatalf("throttles: canary %v, stable %v", canary, stable)
	}
}
