package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim/simtest"
)

// statusOf runs perch status --json and decodes it.
func statusOf(t *testing.T, c *cliEnv, args ...string) status {
	t.Helper()
	code, out, errOut := c.perch(t, append([]string{"status", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
	}
	var st status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	return st
}

// ruleTags reads the rule's tags from the simulator through the SDK.
func ruleTags(t *testing.T, c *cliEnv, rule string) map[string]string {
	t.Helper()
	out, err := elbv2.NewFromConfig(simtest.Config(c.sim.URL)).DescribeTags(t.Context(), &elbv2.DescribeTagsInput{ResourceArns: []string{rule}})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, d := range out.TagDescriptions {
		for _, tg := range d.Tags {
			tags[awssdk.ToString(tg.Key)] = awssdk.ToString(tg.Value)
		}
	}
	return tags
}

func (c *cliEnv) weightsOf(t *testing.T, rule string) map[string]int {
	t.Helper()
	out, err := elbv2.NewFromConfig(simtest.Config(c.sim.URL)).DescribeRules(t.Context(), &elbv2.DescribeRulesInput{RuleArns: []string{rule}})
	if err != nil {
		t.Fatal(err)
	}
	w := map[string]int{}
	for _, tg := range out.Rules[0].Actions[0].ForwardConfig.TargetGroups {
		w[awssdk.ToString(tg.TargetGroupArn)] = int(awssdk.ToInt32(tg.Weight))
	}
	return w
}

// A rollout that perch begins marks the rule; every later perch, on this
// machine or another, reads which side is the canary from the marker, so a
// rollback past 50% still sends all traffic to the side that was stable
// when the rollout began. Before the marker, a fresh perch read the lower
// weight as the canary and that rollback promoted it.
func TestRollbackKeepsItsMeaningPastHalf(t *testing.T) {
	for _, to := range []string{"75", "50"} {
		t.Run("at "+to, func(t *testing.T) {
			c := newCLIEnv(t, "healthy")
			mt := c.sim.Manifest.Targets[0]
			rule, stable, canary := mt.RuleARN, mt.StableTargetGroupARN, mt.CanaryTargetGroupARN
			// End the scenario's rollout, so this test's rollout is perch's own.
			if code, out, errOut := c.perch(t, "rollback", "--rule-arn", rule); code != 0 {
				t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
			}
			if tags := ruleTags(t, c, rule); len(tags) != 0 {
				t.Fatalf("marker after the rollout ended: %v", tags)
			}
			if code, out, errOut := c.perch(t, "shift", "--to", to, "--rule-arn", rule); code != 0 {
				t.Fatalf("shift --to %s: exit %d\n%s%s", to, code, out, errOut)
			}
			if tags := ruleTags(t, c, rule); tags[perchaws.MarkerCanaryKey] != canary || tags[perchaws.MarkerStableKey] != stable {
				t.Fatalf("marker after shift --to %s: %v", to, tags)
			}
			st := statusOf(t, c, "--rule-arn", rule)
			if st.Target.CanaryARN != canary || st.Target.CanarySource != model.CanaryFromMarker || st.Target.CanaryUnconfirmed != "" {
				t.Fatalf("status after shift --to %s: canary %s (%s) %q", to, st.Target.CanaryName, st.Target.CanarySource, st.Target.CanaryUnconfirmed)
			}
			// Another machine: its own state directory and audit log.
			t.Setenv("XDG_STATE_HOME", t.TempDir())
			other := filepath.Join(t.TempDir(), "other-audit.jsonl")
			if st := statusOf(t, c, "--rule-arn", rule, "--audit-log", other); st.Target.CanaryARN != canary {
				t.Fatalf("another machine names %s the canary", st.Target.CanaryName)
			}
			if code, out, errOut := c.perch(t, "rollback", "--rule-arn", rule, "--audit-log", other); code != 0 {
				t.Fatalf("rollback from another machine: exit %d\n%s%s", code, out, errOut)
			}
			if w := c.weightsOf(t, rule); w[stable] != 100 || w[canary] != 0 {
				t.Fatalf("after rollback at %s%%: weights %v, want all traffic on the original stable %s", to, w, stable)
			}
			if tags := ruleTags(t, c, rule); len(tags) != 0 {
				t.Fatalf("marker after the rollback: %v", tags)
			}
		})
	}
}

// After a promote the rollout has ended: a fresh perch sees the side at 0%
// (the old stable) as the next rollout's canary, so rollback has nothing
// to do and says why, and it never silently flips traffic back.
func TestRollbackAfterPromoteIsExplained(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	mt := c.sim.Manifest.Targets[0]
	rule, stable, canary := mt.RuleARN, mt.StableTargetGroupARN, mt.CanaryTargetGroupARN
	if code, out, errOut := c.perch(t, "promote", "--rule-arn", rule); code != 0 {
		t.Fatalf("promote: exit %d\n%s%s", code, out, errOut)
	}
	st := statusOf(t, c, "--rule-arn", rule)
	if st.Target.CanaryARN != stable || st.Target.CanarySource != model.CanaryAtRest {
		t.Fatalf("status after promote: canary %s (%s)", st.Target.CanaryName, st.Target.CanarySource)
	}
	resetSimStats(t, c.sim.URL)
	code, out, errOut := c.perch(t, "rollback", "--rule-arn", rule)
	if code != 0 || !strings.Contains(out, "nothing to do") || !strings.Contains(out, "next rollout's canary") {
		t.Fatalf("rollback after promote: exit %d\n%s%s", code, out, errOut)
	}
	if n := simWrites(t, c.sim.URL); n != 0 {
		t.Fatalf("rollback after promote made %d writes", n)
	}
	if w := c.weightsOf(t, rule); w[canary] != 100 || w[stable] != 0 {
		t.Fatalf("weights %v, want the promoted canary kept at 100%%", w)
	}
}

// No flag, no marker, no audit history, a 70/30 rule: status shows the
// guess as one; every write exits 3 with one line and writes nothing.
func TestGuessedCanaryRefusesEveryWrite(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	mt := c.sim.Manifest.Targets[0]
	rule := mt.RuleARN
	api := elbv2.NewFromConfig(simtest.Config(c.sim.URL))
	if _, err := api.RemoveTags(t.Context(), &elbv2.RemoveTagsInput{ResourceArns: []string{rule},
		TagKeys: []string{perchaws.MarkerCanaryKey, perchaws.MarkerStableKey, perchaws.MarkerStartedKey, perchaws.MarkerByKey}}); err != nil {
		t.Fatal(err)
	}
	if err := c.sim.Sim.SetWeights(rule, map[string]int{mt.StableTargetGroupARN: 70, mt.CanaryTargetGroupARN: 30}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := c.perch(t, "status", "--rule-arn", rule)
	if code != 0 || !strings.Contains(out, "GUESS") || !strings.Contains(out, "WARNING") {
		t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
	}
	if st := statusOf(t, c, "--rule-arn", rule); st.Target.CanarySource != model.CanaryGuessed || st.Target.CanaryUnconfirmed == "" {
		t.Fatalf("status --json: %+v", st.Target)
	}
	resetSimStats(t, c.sim.URL)
	for _, args := range [][]string{{"shift", "--to", "50"}, {"promote"}, {"rollback"}} {
		code, out, errOut := c.perch(t, append(args, "--rule-arn", rule)...)
		if code != ExitRefused || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "guess") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want exit 3 and one line", args, code, out, errOut)
		}
	}
	if n := simWrites(t, c.sim.URL); n != 0 {
		t.Fatalf("%d writes with a guessed canary", n)
	}
	// Naming it settles it: the write goes through and marks the rule.
	if code, out, errOut := c.perch(t, "shift", "--to", "50", "--rule-arn", rule, "--canary-target-group", mt.CanaryTargetGroupARN); code != 0 {
		t.Fatalf("shift with the flag: exit %d\n%s%s", code, out, errOut)
	}
	if tags := ruleTags(t, c, rule); tags[perchaws.MarkerCanaryKey] != mt.CanaryTargetGroupARN {
		t.Fatalf("marker after a named write mid-rollout: %v", tags)
	}
}

// --to takes a whole percentage, as written on a ladder.
func TestShiftToTakesWholePercents(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	rule := c.sim.Manifest.Targets[0].RuleARN
	resetSimStats(t, c.sim.URL)
	for _, bad := range []string{"5.5", "1e2", "050", "-0", " 25x", "101", "NaN"} {
		code, _, errOut := c.perch(t, "shift", "--to", bad, "--rule-arn", rule)
		if code != ExitUsage || !strings.Contains(errOut, "whole percentage") {
			t.Errorf("--to %q: exit %d, %s", bad, code, errOut)
		}
	}
	if n := simWrites(t, c.sim.URL); n != 0 {
		t.Fatalf("%d writes from bad --to values", n)
	}
	if code, _, errOut := c.perch(t, "shift", "--to", "25%", "--rule-arn", rule); code != 0 {
		t.Fatalf("--to 25%%: exit %d %s", code, errOut)
	}
}
