package rollout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
	"github.com/perch-dev/perch/sim/simtest"
)

// perch demo --scenario latency-regression, as the demo wires it (its
// plan, the scenario's p99 alarm watched, a poll every 10 s), on the
// virtual clock: the canary's p99 triples two minutes in. The autopilot
// must never advance after that, and the judge, reading the canary's share
// of requests slower than stable's p99, must fail it and roll it back
// before the static alarm (p99 > 400 ms for three periods) could; the
// rollback's audit entry names the judge.
func TestLatencyRegressionDemoRollsBackOnTheJudge(t *testing.T) {
	plan, err := model.ParsePlan("10%:3m,25%:5m,50%:5m,100%") // cli's demoPlan
	if err != nil {
		t.Fatal(err)
	}
	const alarm = "checkout-canary-p99"
	r := newALBRig(t, "latency-regression", func(env *simtest.Env, c *rollout.Config) {
		c.Poll = 10 * time.Second
		c.Plan, c.AutopilotUser = &plan, "ana"
		c.Alarms, c.AlarmNames = perchaws.NewAlarms(env.AWS), []string{alarm}
	})
	ctx := context.Background()
	regression := simtest.Epoch.Add(2 * time.Minute)
	var snap model.Snapshot
	for r.env.Clock.Now().Before(simtest.Epoch.Add(30 * time.Minute)) {
		snap = r.engine.PollOnce(ctx)
		for _, a := range snap.Alarms {
			if a.State == model.AlarmAlarm {
				t.Fatalf("the static alarm fired at %s, before the judge rolled back (verdict: %s)",
					snap.Now.Sub(simtest.Epoch), snap.Verdict.Summary)
			}
		}
		if snap.Autopilot != nil && snap.Autopilot.State.Done {
			break
		}
		r.env.Advance(10 * time.Second)
	}
	if snap.Split.CanaryPercent() != 0 || snap.Autopilot == nil || !snap.Autopilot.State.Done {
		t.Fatalf("not rolled back in 30 minutes: split %v, autopilot %+v, verdict %+v", snap.Split, snap.Autopilot, snap.Verdict)
	}
	entries, err := audit.ReadAll(r.path)
	if err != nil {
		t.Fatal(err)
	}
	var rollback *model.AuditEntry
	for i, e := range entries {
		if e.Action == "shift" && e.Actor.Via == "autopilot" && !e.Time.Before(regression) {
			t.Fatalf("the autopilot advanced after the p99 tripled: %+v", e)
		}
		if e.Action == "rollback" && e.Phase == model.PhaseIntent {
			rollback = &entries[i]
		}
	}
	if rollback == nil || rollback.Actor.Via != "autopilot" || !strings.Contains(rollback.Reason, "judge: FAIL") ||
		!strings.Contains(rollback.Reason, "slow requests") || strings.Contains(rollback.Reason, "in ALARM") {
		t.Fatalf("the rollback's audit entry should name the judge's slow-request evidence, not the alarm: %+v", rollback)
	}
	// The static alarm needs three breaching periods, the first of which
	// ends a minute after the regression, each published 30 s late: it
	// cannot be in ALARM before 3m30s after the regression.
	took := rollback.Time.Sub(regression)
	if took >= 3*time.Minute+30*time.Second {
		t.Fatalf("the judge rolled back %s after the regression: no sooner than the alarm could", took)
	}
	t.Logf("rolled back %s after the p99 tripled: %s", took, rollback.Reason)
}
