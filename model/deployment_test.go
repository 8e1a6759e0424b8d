package model

import (
	"testing"
	"time"
)

func TestTrafficRoutingShifts(t *testing.T) {
	for _, c := range []struct {
		r    TrafficRouting
		want []Shift
		text string
	}{
		{TrafficRouting{"TimeBasedCanary", 10, 5 * time.Minute}, []Shift{{0, 10}, {5 * time.Minute, 100}}, "canary 10% for 5m, then 100%"},
		{TrafficRouting{"TimeBasedLinear", 30, time.Minute}, []Shift{{0, 30}, {time.Minute, 60}, {2 * time.Minute, 90}, {3 * time.Minute, 100}}, "linear +30% every 1m"},
		{TrafficRouting{"AllAtOnce", 0, 0}, []Shift{{0, 100}}, "all at once"},
		{TrafficRouting{"Mystery", 0, 0}, []Shift{{0, 100}}, "Mystery"},
	} {
		got := c.r.Shifts()
		if len(got) != len(c.want) {
			t.Fatalf("%+v: %v, want %v", c.r, got, c.want)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%+v: shift %d is %v, want %v", c.r, i, got[i], c.want[i])
			}
		}
		if s := c.r.String(); s != c.text {
			t.Errorf("%+v: %q, want %q", c.r, s, c.text)
		}
	}
}

func TestDeploymentPlan(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	canary := TrafficRouting{"TimeBasedCanary", 10, 5 * time.Minute}
	linear := TrafficRouting{"TimeBasedLinear", 10, time.Minute}
	for _, c := range []struct {
		name   string
		d      DeploymentStatus
		now    time.Time
		step   string
		next   time.Time
		nextTo float64
	}{
		{"installing", DeploymentStatus{Status: "InProgress", Routing: canary,
			Hooks: []LifecycleHook{{Name: "BeforeInstall", Status: "Succeeded"}, {Name: "Install", Status: "InProgress"}}},
			t0, "installing the replacement (Install)", time.Time{}, 0},
		{"canary", DeploymentStatus{Status: "InProgress", Routing: canary, ShiftStartedAt: t0, CanaryPercent: 10},
			t0.Add(90 * time.Second), "canary 10% for 5m", t0.Add(5 * time.Minute), 100},
		{"linear", DeploymentStatus{Status: "InProgress", Routing: linear, ShiftStartedAt: t0, CanaryPercent: 30},
			t0.Add(150 * time.Second), "linear 30% (+10% every 1m)", t0.Add(3 * time.Minute), 40},
		{"local clock behind AWS's", DeploymentStatus{Status: "InProgress", Routing: canary, ShiftStartedAt: t0.Add(time.Minute), CanaryPercent: 10},
			t0, "canary 10% for 5m", t0.Add(6 * time.Minute), 100},
		{"shift overdue", DeploymentStatus{Status: "InProgress", Routing: linear, ShiftStartedAt: t0, CanaryPercent: 10},
			t0.Add(90 * time.Second), "linear 10% (+10% every 1m)", t0.Add(time.Minute), 20},
		{"shifted, hooks after", DeploymentStatus{Status: "InProgress", Routing: canary, ShiftStartedAt: t0, CanaryPercent: 100,
			Hooks: []LifecycleHook{{Name: "AfterAllowTraffic", Status: "InProgress"}}},
			t0.Add(6 * time.Minute), "shifted 100% (AfterAllowTraffic)", time.Time{}, 0},
		{"ready", DeploymentStatus{Status: "Ready", Waiting: WaitReady, Routing: canary}, t0, "ready: waiting for ContinueDeployment before shifting", time.Time{}, 0},
		{"termination wait", DeploymentStatus{Status: "InProgress", Waiting: WaitTermination, CanaryPercent: 100}, t0,
			"shifted; original kept until its termination wait ends", time.Time{}, 0},
		{"alarm rollback", DeploymentStatus{Status: "Stopped", Error: &DeploymentError{Code: "ALARM_ACTIVE",
			Message: "One or more alarms have been activated ... Activated alarms: <web-green-5xx>"}, Rollback: &DeploymentRollback{DeploymentID: "d-ROLLBACK1"}},
			t0, "rolled back (alarm web-green-5xx)", time.Time{}, 0},
		{"stopped, no rollback", DeploymentStatus{Status: "Stopped", Error: &DeploymentError{Code: "MANUAL_STOP"}}, t0, "stopped (a stop request)", time.Time{}, 0},
		{"succeeded", DeploymentStatus{Status: "Succeeded", CanaryPercent: 100}, t0, "done: 100% on the replacement", time.Time{}, 0},
	} {
		d := c.d
		d.NextShiftAt = t0.Add(time.Hour) // stale values must be cleared
		d.Plan(c.now)
		if d.Step != c.step || !d.NextShiftAt.Equal(c.next) || d.NextShiftTo != c.nextTo {
			t.Errorf("%s: step %q next %v → %v; want %q %v → %v", c.name, d.Step, d.NextShiftAt, d.NextShiftTo, c.step, c.next, c.nextTo)
		}
	}
}

func TestDeploymentTerminal(t *testing.T) {
	for s, want := range map[string]bool{"Created": false, "InProgress": false, "Ready": false, "Baking": false,
		"Succeeded": true, "Failed": true, "Stopped": true} {
		if got := (DeploymentStatus{Status: s}).Terminal(); got != want {
			t.Errorf("%s: terminal %v", s, got)
		}
	}
	if Continue.Action() != "continue" || Rollback.Action() != "rollback" {
		t.Errorf("actions: %s %s", Continue.Action(), Rollback.Action())
	}
}
