package cli

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

func TestEvaluateJSONHasExactlyTheSummaryKeys(t *testing.T) {
	c := &cliEnv{}
	code, out, errOut := c.run(t, "evaluate", "--scenario", "eval-10x", "--runs", "4", "--seed", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &top); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	keys := func(m map[string]json.RawMessage) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return strings.Join(ks, ",")
	}
	if got := keys(top); got != "alarm_baseline,detection_ratio,judge,oracle,oracle_ratio,runs" {
		t.Fatalf("top-level keys %s", got)
	}
	var judge, alarms map[string]json.RawMessage
	json.Unmarshal(top["judge"], &judge)
	json.Unmarshal(top["alarm_baseline"], &alarms)
	if got := keys(judge); got != "false_rollback_rate,insufficient_runs,median_detection_seconds,median_detection_seconds_by_signal,pass_after_onset_runs" {
		t.Errorf("judge keys %s", got)
	}
	if got := keys(alarms); got != "false_rollback_rate,median_detection_seconds" {
		t.Errorf("alarm_baseline keys %s", got)
	}
	var s struct {
		Runs  int `json:"runs"`
		Judge struct {
			Median *float64 `json:"median_detection_seconds"`
		} `json:"judge"`
		Ratio *float64 `json:"detection_ratio"`
	}
	json.Unmarshal([]byte(out), &s)
	if s.Runs != 4 || s.Judge.Median == nil || *s.Judge.Median < 90 || s.Ratio == nil {
		t.Fatalf("summary %s", out)
	}
}

func TestEvaluateHealthyTextAndNulls(t *testing.T) {
	c := &cliEnv{}
	code, out, errOut := c.run(t, "evaluate", "--scenario", "eval-healthy", "--runs", "2", "--duration", "10m", "--per-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"eval-healthy", "judge (perch)", "alarms (fixed threshold)", "every detection is a false rollback", "each 10m", "seed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = c.run(t, "evaluate", "--scenario", "eval-healthy", "--runs", "1", "--duration", "5m", "--json")
	if !strings.Contains(out, `"median_detection_seconds": null`) || !strings.Contains(out, `"detection_ratio": null`) {
		t.Errorf("healthy summary should have null medians:\n%s", out)
	}
}

func TestEvaluateBadInput(t *testing.T) {
	c := &cliEnv{}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"evaluate"}, "scenario"},
		{[]string{"evaluate", "--scenario", "nope"}, "not a built-in scenario"},
		{[]string{"evaluate", "--scenario", "lambda-healthy"}, "ALB"},
		{[]string{"evaluate", "--scenario", "eval-healthy", "--runs", "0"}, "--runs"},
		{[]string{"evaluate", "--scenario", "eval-healthy", "--seed", "0"}, "--seed"},
		{[]string{"evaluate", "--scenario", "eval-healthy", "--duration", "1s"}, "--duration"},
	} {
		code, _, errOut := c.run(t, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q (want %q)", tc.args, code, errOut, tc.want)
		}
	}
}
