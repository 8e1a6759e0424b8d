package cli

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/perch-dev/perch/model"
)

var goldenNow = time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)

// statusSnapshot is a fixed ALB snapshot: five minutes of both sides'
// signals, one alarm in ALARM and a metrics error.
func statusSnapshot() model.Snapshot {
	tg := "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/"
	s := model.Snapshot{
		Now: goldenNow,
		Target: model.Target{
			Kind: model.KindALB, Name: "checkout rule 10", Region: "us-east-1",
			RuleARN:    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/checkout/e2d879c509135a7b/10362df8682e6129/62788b93b9e77c3c",
			StableName: "checkout-stable", CanaryName: "checkout-canary",
			StableARN: tg + "checkout-stable/38005a6f6177a0b6", CanaryARN: tg + "checkout-canary/94b4e4d27e5d0907",
			CanarySource: model.CanaryFromMarker,
		},
		Identity:   model.Identity{ARN: "arn:aws:sts::123456789012:assumed-role/perch-demo/operator", Account: "123456789012"},
		Split:      model.Split{StableID: tg + "checkout-stable/38005a6f6177a0b6", CanaryID: tg + "checkout-canary/94b4e4d27e5d0907", StableWeight: 75, CanaryWeight: 25},
		SplitKnown: true,
		Health:     [2]model.Health{{Healthy: 3}, {Healthy: 2, Unhealthy: 1}},
		Alarms:     []model.Alarm{{Name: "checkout-canary-5xx", State: model.AlarmAlarm, Reason: "Threshold Crossed"}},
		MetricsErr: "GetMetricData: throttled (retrying)",
	}
	s.Signals = model.Signals{model.SideSignals{}, model.SideSignals{}}
	for i := range 5 {
		at := goldenNow.Add(time.Duration(i-5) * time.Minute)
		s.Signals[model.Stable][model.Requests] = append(s.Signals[model.Stable][model.Requests], model.Point{T: at, V: 750})
		s.Signals[model.Canary][model.Requests] = append(s.Signals[model.Canary][model.Requests], model.Point{T: at, V: 250})
		s.Signals[model.Stable][model.Errors5xx] = append(s.Signals[model.Stable][model.Errors5xx], model.Point{T: at, V: 3})
		s.Signals[model.Canary][model.Errors5xx] = append(s.Signals[model.Canary][model.Errors5xx], model.Point{T: at, V: float64(i)})
		s.Signals[model.Stable][model.LatencyP99] = append(s.Signals[model.Stable][model.LatencyP99], model.Point{T: at, V: 180})
		s.Signals[model.Canary][model.LatencyP99] = append(s.Signals[model.Canary][model.LatencyP99], model.Point{T: at, V: 240})
	}
	return s
}

// perch status, text and JSON, whole: the JSON is a contract scripts read.
func TestStatusOutput(t *testing.T) {
	st := newStatus(statusSnapshot(), 5*time.Minute)
	t.Run("text", func(t *testing.T) {
		var b bytes.Buffer
		printStatus(&b, st)
		golden.RequireEqual(t, b.Bytes())
	})
	t.Run("json", func(t *testing.T) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			t.Fatal(err)
		}
		golden.RequireEqual(t, b.Bytes())
	})
	t.Run("guess", func(t *testing.T) {
		s := statusSnapshot()
		s.Target.CanarySource = model.CanaryGuessed
		s.Target.CanaryUnconfirmed = "which side is the canary is a guess (no --canary-target-group, no rollout marker on AWS, no rollout under way in this machine's audit log): checkout-canary has the lower weight"
		var b bytes.Buffer
		printStatus(&b, newStatus(s, 5*time.Minute))
		golden.RequireEqual(t, b.Bytes())
	})
}

// perch drill's report, text and JSON, for a drill that rolled back and
// one that did not.
func TestDrillReportOutput(t *testing.T) {
	set, seen, restored := goldenNow, goldenNow.Add(1500*time.Millisecond), goldenNow.Add(2*time.Second)
	elapsed := 1.5
	ok := &drillReport{
		Target: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/checkout/e2d879c509135a7b/10362df8682e6129/62788b93b9e77c3c",
		Alarm:  "checkout-canary-5xx", Plan: "drill of 10%:5m,25%:5m,100%", StartPercent: 25,
		AlarmSetAt: &set, RolledBack: true, RollbackAt: &seen, Elapsed: &elapsed,
		By: "autopilot", Reason: "alarm checkout-canary-5xx in ALARM: rolling back", AlarmSets: 2,
		FinalSplit: drillSplit{Known: true, StablePercent: 100}, AlarmRestored: true, RestoredAt: &restored,
		Verdict: "PASS no 2x error rate",
	}
	failed := &drillReport{
		Target: ok.Target, Alarm: ok.Alarm, Plan: "drill", StartPercent: 10, AlarmSetAt: &set, AlarmSets: 1,
		FinalSplit: drillSplit{Known: true, StablePercent: 90, CanaryPercent: 10},
		Error:      "no rollback within 5m0s: canary still at 10% (rollback did not go through: write failed)",
	}
	for name, r := range map[string]*drillReport{"rolled-back": ok, "timed-out": failed} {
		for _, asJSON := range []bool{false, true} {
			sub := name + "-text"
			if asJSON {
				sub = name + "-json"
			}
			t.Run(sub, func(t *testing.T) {
				var b bytes.Buffer
				if err := printDrill(&b, r, asJSON); err != nil {
					t.Fatal(err)
				}
				golden.RequireEqual(t, b.Bytes())
			})
		}
	}
}
