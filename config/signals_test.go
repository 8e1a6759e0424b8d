package config

import (
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/model"
)

const signalsYAML = `targets:
  - name: checkout
    alb: {rule_arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"}
    saturation:
      ecs: {cluster: shop, stable_service: checkout-blue, canary_service: checkout-green}
      judge:
        - {signal: memory_utilization, direction: higher_is_worse, tolerance: 0.05}
    logs:
      group: /ecs/checkout
      stable: {stream_prefix: checkout-stable/}
      canary: {stream_prefix: checkout-canary/}
      every: 1m
  - name: payments
    lambda: {function: payments, alias: live}
    logs: {}
`

func TestParseSignals(t *testing.T) {
	f, err := Parse([]byte(signalsYAML))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Targets[0].Signals
	if s.ECS[model.Canary] != (ECSService{"shop", "checkout-green"}) || len(s.Judge) != 1 || s.Judge[0].Name != model.MemoryUtilization ||
		!s.Judge[0].HigherIsWorse || s.Judge[0].Tolerance != 0.05 {
		t.Fatalf("saturation %+v", s)
	}
	if s.Logs == nil || s.Logs.Groups[model.Canary][0] != "/ecs/checkout" || s.Logs.StreamPrefix[model.Canary] != "checkout-canary/" || s.Logs.Every != time.Minute {
		t.Fatalf("logs %+v", s.Logs)
	}
	if j := f.Targets[0].Judge(); len(j) != 1 || j[0].Name != model.MemoryUtilization {
		t.Fatalf("judge %+v: the declared saturation signal is judged", j)
	}
	if f.Targets[1].Signals.Logs == nil {
		t.Fatal("lambda logs: {} not read")
	}
}

func TestParseSignalsRefuses(t *testing.T) {
	for in, want := range map[string]string{
		"saturation: {judge: [{signal: memory_utilization}]}":               "needs direction",
		"saturation: {judge: [{signal: disk, direction: higher_is_worse}]}": "the signal is one of",
		"saturation: {ecs: {cluster: shop, stable_service: a}}":             "needs canary_service",
		"logs: {every: 1m}":                     "name the log group",
		"logs: {group: /g, error_regex: \"(\"}": "error_regex",
		"logs: {group: /g, every: 5s}":          "want 1m to 24h",
		"custom: [{name: cpu_utilization, direction: higher_is_worse, metric: {namespace: N, name: M, stat: Sum}}]": "perch's own signals",
	} {
		doc := "targets:\n  - name: a\n    alb: {rule_arn: \"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee\"}\n    " + in + "\n"
		_, err := Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

func TestParseSaturationJudgeFlag(t *testing.T) {
	cs, err := ParseSaturationJudge("cpu_utilization:higher:0.2")
	if err != nil || cs.Name != model.CPUUtilization || !cs.HigherIsWorse || cs.Tolerance != 0.2 {
		t.Fatalf("%+v %v", cs, err)
	}
	for _, bad := range []string{"cpu_utilization", "x:higher", "cpu_utilization:sideways", "cpu_utilization:higher:-1"} {
		if _, err := ParseSaturationJudge(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
