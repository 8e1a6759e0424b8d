package ui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/perch-dev/perch/model"
)

// codeDeploySnapshot is an ECS deployment one minute into a
// Canary10Percent5Minutes configuration.
func codeDeploySnapshot() model.Snapshot {
	s := healthySnapshot()
	s.Target = model.Target{Kind: model.KindCodeDeploy, Name: "web-app/web-bg", Region: "us-east-1",
		DeploymentID: "d-7A53QHY59", Application: "web-app", DeploymentGroup: "web-bg", ComputePlatform: "ECS",
		StableName: "web-stable", CanaryName: "web-canary"}
	s.Split = model.Split{StableID: "tg-stable", CanaryID: "tg-canary", StableWeight: 900, CanaryWeight: 100}
	s.Alarms = []model.Alarm{{Name: "web-green-5xx", State: model.AlarmOK}}
	s.Last = nil
	hooks := []model.LifecycleHook{}
	for _, n := range []string{"BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic", "BeforeAllowTraffic"} {
		hooks = append(hooks, model.LifecycleHook{Name: n, Status: "Succeeded"})
	}
	hooks = append(hooks, model.LifecycleHook{Name: "AllowTraffic", Status: "InProgress"}, model.LifecycleHook{Name: "AfterAllowTraffic", Status: "Pending"})
	d := &model.DeploymentStatus{ID: "d-7A53QHY59", Application: "web-app", Group: "web-bg", ComputePlatform: "ECS",
		Config: "CodeDeployDefault.ECSCanary10Percent5Minutes", Status: "InProgress", Creator: "user",
		Routing:        model.TrafficRouting{Type: "TimeBasedCanary", Percent: 10, Interval: 5 * time.Minute},
		ShiftStartedAt: fixNow.Add(-78 * time.Second), CanaryPercent: 10, Hooks: hooks, Alarms: []string{"web-green-5xx"},
		AutoRollback: true, ReadAt: fixNow}
	d.Plan(fixNow)
	s.Deployment = d
	s.Audit = []model.AuditEntry{
		{Seq: 1, Time: fixNow.Add(-78 * time.Second), Actor: model.Actor{Via: "codedeploy"}, Action: "shift", Phase: model.PhaseEvent,
			From: model.Pct(0), To: model.Pct(10), Detail: "CodeDeploy shifted traffic: stable 100% / canary 0% → stable 90% / canary 10%"},
	}
	return s
}

// rolledBackSnapshot is the bad ECS deployment after the alarm: CodeDeploy
// stopped it and rolled it back by itself.
func rolledBackSnapshot() model.Snapshot {
	s := codeDeploySnapshot()
	s.Split = model.Split{StableID: "tg-stable", CanaryID: "tg-canary", StableWeight: 1000}
	s.Alarms = []model.Alarm{{Name: "web-green-5xx", State: model.AlarmAlarm, Reason: "Threshold Crossed: 2 datapoints [12.0, 9.0] were greater than the threshold (5.0)."}}
	d := *s.Deployment
	d.Status, d.CanaryPercent, d.CompletedAt = "Stopped", 0, fixNow.Add(-20*time.Second)
	d.Error = &model.DeploymentError{Code: "ALARM_ACTIVE", Message: "One or more alarms have been activated ... Activated alarms: <web-green-5xx>"}
	d.Rollback = &model.DeploymentRollback{DeploymentID: "d-O08A4BWNV", Message: "rolled back because alarm web-green-5xx went to ALARM"}
	d.Hooks = append([]model.LifecycleHook(nil), d.Hooks...)
	d.Hooks[6].Status, d.Hooks[7].Status = "Failed", "Skipped"
	d.Plan(fixNow)
	s.Deployment = &d
	s.ReadOnly = false
	s.Audit = append(s.Audit, model.AuditEntry{Seq: 2, Time: fixNow.Add(-20 * time.Second), Actor: model.Actor{Via: "codedeploy"},
		Action: "rollback", Phase: model.PhaseEvent, From: model.Pct(40), To: model.Pct(0),
		Detail: "CodeDeploy stopped deployment d-7A53QHY59 (ALARM_ACTIVE: alarm web-green-5xx) and rolled it back (rollback deployment d-O08A4BWNV)"})
	return s
}

func TestGoldenCodeDeployScreens(t *testing.T) {
	for _, c := range []struct {
		name string
		snap func() model.Snapshot
		opts Options
	}{
		{"codedeploy", codeDeploySnapshot, Options{}},
		{"codedeploy-rolled-back", rolledBackSnapshot, Options{ReadOnly: true}},
	} {
		for _, sz := range []struct{ w, h int }{{80, 24}, {200, 50}} {
			name := c.name + "-" + itoa(sz.w) + "x" + itoa(sz.h)
			t.Run(name, func(t *testing.T) {
				m, _ := newTestModel(c.snap(), c.opts)
				golden.RequireEqual(t, []byte(screen(t, m, sz.w, sz.h)))
			})
		}
	}
}

func TestCodeDeployHeaderGaugeAndHelp(t *testing.T) {
	m, _ := sized(codeDeploySnapshot(), Options{})
	v := screen(t, m, 200, 50)
	for _, want := range []string{
		"deploy d-7A53QHY59 · ⟳ InProgress · next → 100% in 3m42s · canary 10% for 5m · ECSCanary10Percent5Minutes",
		"config 0 [10%] 100",
		"hooks 6/8 ⟳ AllowTraffic",
		"+/- step off",
		"r stop + roll back",
		"P promote off (CodeDeploy)",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("screen lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "c continue") {
		t.Errorf("continue offered while the deployment shifts:\n%s", v)
	}
	// Narrow: the countdown survives, the configuration's name goes.
	v = screen(t, m, 80, 24)
	if !strings.Contains(v, "next → 100% in 3m42s") {
		t.Errorf("80 columns lost the countdown:\n%s", v)
	}

	rb, _ := sized(rolledBackSnapshot(), Options{ReadOnly: true})
	v = screen(t, rb, 200, 50)
	for _, want := range []string{
		"ROLLED BACK by CodeDeploy at 07:41:50: alarm web-green-5xx fired · rollback deployment d-O08A4BWNV",
		"✗ Stopped",
		"CodeDeploy rollback 40% → 0% · ⚠ observed, not done by perch · CodeDeploy stopped deployment d-7A53QHY59 (ALARM_ACTIVE",
		"hooks 6/8 ✗ AllowTraffic",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("rolled-back screen lacks %q:\n%s", want, v)
		}
	}
}

func TestCodeDeployKeys(t *testing.T) {
	m, eng := sized(codeDeploySnapshot(), Options{})
	// + - P send nothing and say why.
	for _, k := range []string{"+", "-", "P"} {
		if cmd := press(m, k); cmd != nil {
			run(t, m, cmd)
		}
		if !strings.Contains(m.status, "CodeDeploy shifts traffic itself") || len(eng.intents()) != 0 {
			t.Fatalf("%s: status %q, intents %v", k, m.status, eng.intents())
		}
	}
	// c while shifting: nothing to continue.
	if cmd := press(m, "c"); cmd != nil || !strings.Contains(m.status, "not waiting") {
		t.Fatalf("c while shifting: %q", m.status)
	}
	// r opens the confirm dialog and says what it sends; y sends a rollback.
	press(m, "r")
	if !m.confirm.open || !strings.Contains(m.status, "StopDeployment d-7A53QHY59 with autoRollbackEnabled") {
		t.Fatalf("r: open %v, status %q", m.confirm.open, m.status)
	}
	run(t, m, press(m, "y"))
	if in := eng.intents(); len(in) != 1 || in[0].Kind != model.Rollback {
		t.Fatalf("intents after y: %+v", in)
	}

	// A deployment waiting in Ready: c sends Continue, and help offers it.
	s := codeDeploySnapshot()
	s.Deployment.Status, s.Deployment.Waiting, s.Deployment.ShiftStartedAt = "Ready", model.WaitReady, time.Time{}
	s.Deployment.Plan(fixNow)
	m, eng = sized(s, Options{})
	if v := screen(t, m, 200, 50); !strings.Contains(v, "c continue deployment") || !strings.Contains(v, "⏸ Ready: press c to continue") {
		t.Fatalf("ready screen:\n%s", v)
	}
	// c asks first: continuing lets the deployment move traffic by itself.
	if cmd := press(m, "c"); cmd != nil || len(eng.intents()) != 0 {
		t.Fatalf("c sent before y: %v", eng.intents())
	}
	if v := screen(t, m, 200, 50); !strings.Contains(v, "CONTINUE") {
		t.Fatalf("no continue dialog:\n%s", v)
	}
	run(t, m, press(m, "y"))
	if in := eng.intents(); len(in) != 1 || in[0].Kind != model.Continue {
		t.Fatalf("intents after c: %+v", in)
	}
	// Read-only (a finished deployment): c and r say so and send nothing.
	m, eng = sized(rolledBackSnapshot(), Options{ReadOnly: true})
	for _, k := range []string{"c", "r"} {
		if cmd := press(m, k); cmd != nil {
			run(t, m, cmd)
		}
		if !strings.Contains(m.status, "read-only") || len(eng.intents()) != 0 {
			t.Fatalf("%s read-only: %q %v", k, m.status, eng.intents())
		}
	}
	_ = tea.Quit
}
