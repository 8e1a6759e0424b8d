package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/perch-dev/perch/audit"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

const drillAlarm = "checkout-canary-5xx" // declared by the healthy scenario

func alarmState(t *testing.T, c *cliEnv, name string) (string, string) {
	t.Helper()
	out, err := cloudwatch.NewFromConfig(simtest.Config(c.sim.URL)).DescribeAlarms(t.Context(),
		&cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil || len(out.MetricAlarms) != 1 {
		t.Fatalf("describe alarm %s: %v (%d alarms)", name, err, len(out.MetricAlarms))
	}
	a := out.MetricAlarms[0]
	return string(a.StateValue), *a.StateReason
}

func TestDrillRollsBackAndRestoresTheAlarm(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	target := c.sim.Manifest.Targets[0]
	if state, _ := alarmState(t, c, drillAlarm); state == "ALARM" {
		t.Fatalf("test setup: the alarm is in ALARM before the drill")
	}
	code, out, errOut := c.perch(t, "drill", "--alarm", drillAlarm, "--rule-arn", target.RuleARN, "--poll", "200ms", "--timeout", "30s", "--json")
	if code != 0 {
		t.Fatalf("drill: exit %d\n%s%s", code, out, errOut)
	}
	var rep drillReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if !rep.RolledBack || rep.By != "autopilot" || rep.Elapsed == nil || *rep.Elapsed < 0 || *rep.Elapsed > 30 ||
		rep.StartPercent != 10 || rep.FinalSplit.CanaryPercent != 0 || !rep.FinalSplit.Known || !rep.AlarmRestored {
		t.Fatalf("report %s", out)
	}
	if !strings.Contains(rep.Reason, "alarm") {
		t.Errorf("the rollback's reason does not name the alarm: %q", rep.Reason)
	}
	// Traffic is on stable at the simulator, and the alarm is back to OK.
	w, err := c.sim.Sim.Weights(target.RuleARN)
	if err != nil || w[target.CanaryTargetGroupARN] != 0 {
		t.Fatalf("weights after the drill: %v %v", w, err)
	}
	if state, reason := alarmState(t, c, drillAlarm); state != "OK" || !strings.Contains(reason, "perch drill") {
		t.Fatalf("alarm after the drill: %s (%s)", state, reason)
	}
	stats := c.sim.Sim.Stats()
	if stats["cloudwatch:SetAlarmState"] < 2 || stats["elbv2:ModifyRule"] != 1 {
		t.Errorf("calls: %v", stats)
	}

	// The audit log verifies and tells the story: the alarm write, the
	// autopilot's rollback citing the alarm, the alarm restored.
	log := filepath.Join(c.state, "perch", "audit.jsonl")
	if _, err := audit.Verify(log); err != nil {
		t.Fatal(err)
	}
	entries, err := audit.ReadAll(log)
	if err != nil {
		t.Fatal(err)
	}
	if p := audit.PendingIntents(entries); len(p) != 0 {
		t.Errorf("open intents after the drill: %+v", p)
	}
	var story []string
	for _, e := range entries {
		switch {
		case e.Action == "set-alarm-state" && e.Phase == model.PhaseOutcome:
			story = append(story, e.Detail)
		case e.Action == "rollback" && e.Phase == model.PhaseOutcome && e.Verified:
			if !strings.Contains(e.Reason, "alarm "+drillAlarm+" in ALARM") || e.Actor.Via != "autopilot" {
				t.Errorf("rollback entry: %+v", e)
			}
			story = append(story, "rollback")
		case e.Action == "drill":
			story = append(story, "drill: "+e.Detail)
		}
	}
	got := strings.Join(story, " | ")
	if !strings.HasPrefix(got, "alarm "+drillAlarm+" → ALARM | rollback | alarm "+drillAlarm+" → OK | drill: traffic back on stable") {
		t.Errorf("audit story: %s", got)
	}

	// The text report. The split is set behind perch's back, with no
	// rollout marker: until the canary is named, the drill refuses at once.
	c.sim.Sim.SetWeights(target.RuleARN, map[string]int{target.StableTargetGroupARN: 75, target.CanaryTargetGroupARN: 25})
	code, _, errOut = c.perch(t, "drill", "--alarm", drillAlarm, "--rule-arn", target.RuleARN, "--poll", "200ms", "--plan", "5%:1m,25%:1m,100%")
	if code != ExitRefused || !strings.Contains(errOut, "--canary-target-group") {
		t.Fatalf("drill with an unconfirmed canary: exit %d, %s", code, errOut)
	}
	code, out, errOut = c.perch(t, "drill", "--alarm", drillAlarm, "--rule-arn", target.RuleARN, "--canary-target-group", target.CanaryTargetGroupARN,
		"--poll", "200ms", "--plan", "5%:1m,25%:1m,100%")
	if code != 0 {
		t.Fatalf("second drill: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"alarm set  ALARM at", "rollback   seen at", "by the autopilot", "elapsed", "final      stable 100% / canary 0%", "alarm      back to OK", "plan 5%:1m,25%:1h"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}

func TestDrillRefusesWithoutWriting(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	target := c.sim.Manifest.Targets[0]
	rule := target.RuleARN
	planFile := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(planFile, []byte("rollback_on_alarm: false\nsteps:\n  - {percent: 10, bake: 5m}\n  - {percent: 100}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		setup func()
		args  []string
		code  int
		want  string
	}{
		{"canary at 0%", func() {
			c.sim.Sim.SetWeights(rule, map[string]int{target.StableTargetGroupARN: 100, target.CanaryTargetGroupARN: 0})
		}, []string{"--alarm", drillAlarm}, ExitUsage, "not mid-canary (canary at 0%)"},
		{"canary at 100%", func() {
			c.sim.Sim.SetWeights(rule, map[string]int{target.StableTargetGroupARN: 0, target.CanaryTargetGroupARN: 100})
		}, []string{"--alarm", drillAlarm, "--canary-target-group", target.CanaryTargetGroupARN}, ExitUsage, "not mid-canary (canary at 100%)"},
		{"unknown alarm", nil, []string{"--alarm", "no-such-alarm"}, ExitUsage, "not found"},
		{"no alarm", nil, nil, ExitUsage, "exactly one --alarm"},
		{"two alarms", nil, []string{"--alarm", "a", "--alarm", "b"}, ExitUsage, "exactly one --alarm"},
		{"not a step of the plan", nil, []string{"--alarm", drillAlarm, "--plan", "5%:1m,50%:1m,100%"}, ExitUsage, "not a step of --plan"},
		{"plan without alarm rollback", nil, []string{"--alarm", drillAlarm, "--plan", planFile}, ExitUsage, "rollback_on_alarm: false"},
		{"read-only", nil, []string{"--alarm", drillAlarm, "--read-only"}, ExitRefused, "read-only"},
		{"bad timeout", nil, []string{"--alarm", drillAlarm, "--timeout", "0s"}, ExitUsage, "--timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.sim.Sim.SetWeights(rule, map[string]int{target.StableTargetGroupARN: 90, target.CanaryTargetGroupARN: 10})
			if tc.setup != nil {
				tc.setup()
			}
			c.sim.Sim.ResetStats()
			code, out, errOut := c.perch(t, append([]string{"drill", "--rule-arn", rule}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q should mention %q\n%s", code, tc.code, errOut, tc.want, out)
			}
			if n := c.writes(); n != 0 {
				t.Fatalf("refused drill made %d writes: %v", n, c.sim.Sim.Stats())
			}
		})
	}
	if state, _ := alarmState(t, c, drillAlarm); state == "ALARM" {
		t.Fatal("a refused drill left the alarm in ALARM")
	}
}

// When the rollback cannot happen (ModifyRule denied), the drill gives up
// at its timeout, says so, and still sets the alarm back to OK.
func TestDrillTimesOutAndStillRestoresTheAlarm(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	target := c.sim.Manifest.Targets[0]
	if err := c.sim.Sim.InjectFault(sim.Fault{Service: "elbv2", Operation: "ModifyRule", Code: "AccessDenied", Times: -1}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := c.perch(t, "drill", "--alarm", drillAlarm, "--rule-arn", target.RuleARN, "--poll", "200ms", "--timeout", "2s", "--json")
	if code != ExitFailed || !strings.Contains(errOut, "no rollback within 2s") {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	var rep drillReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.RolledBack || rep.RollbackAt != nil || rep.Elapsed != nil || !rep.AlarmRestored || rep.FinalSplit.CanaryPercent != 10 ||
		!strings.Contains(rep.Error, "AccessDenied") {
		t.Fatalf("report %s", out)
	}
	if state, _ := alarmState(t, c, drillAlarm); state != "OK" {
		t.Fatalf("alarm after a failed drill: %s", state)
	}
	if _, err := audit.Verify(filepath.Join(c.state, "perch", "audit.jsonl")); err != nil {
		t.Fatal(err)
	}
}
