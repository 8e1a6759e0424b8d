package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/perch-dev/perch/model"
)

const ecsARN = "arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/tAq8vYOoorPH4EymD9Pg9h"

// ecsSnapshot is an ECS CANARY deployment (10% for 5m, bake 5m) 78
// seconds into its production traffic shift.
func ecsSnapshot() model.Snapshot {
	s := healthySnapshot()
	s.Target = model.Target{Kind: model.KindECS, Name: "default/web", Region: "us-east-1", DeploymentID: ecsARN,
		Cluster: "default", Service: "web", ComputePlatform: "ECS", StableName: "web-stable", CanaryName: "web-canary",
		CanarySource: model.CanaryFromRevision}
	s.Split = model.Split{StableID: "tg-stable", CanaryID: "tg-canary", StableWeight: 90, CanaryWeight: 10}
	s.Alarms = []model.Alarm{{Name: "web-green-5xx", State: model.AlarmOK}}
	s.Last = nil
	strat := model.ECSStrategy{Name: "CANARY", Percent: 10, Step: 5 * time.Minute, Bake: 5 * time.Minute}
	d := &model.DeploymentStatus{ID: ecsARN, Engine: model.EngineECS, ComputePlatform: "ECS", Application: "default", Group: "web",
		Config: strat.String(), Status: "IN_PROGRESS", CanaryPercent: 10, Alarms: []string{"web-green-5xx"}, AutoRollback: true, ReadAt: fixNow,
		ECS: &model.ECSDeployment{Cluster: "default", Service: "web", Strategy: strat, Stage: "PRODUCTION_TRAFFIC_SHIFT", StageSince: fixNow.Add(-78 * time.Second)}}
	d.Plan(fixNow)
	s.Deployment = d
	s.Audit = []model.AuditEntry{{Seq: 1, Time: fixNow.Add(-78 * time.Second), Actor: model.Actor{Via: "ecs"}, Action: "shift", Phase: model.PhaseEvent,
		From: model.Pct(0), To: model.Pct(10), Detail: "ECS shifted traffic: stable 100% / canary 0% → stable 90% / canary 10%"}}
	return s
}

// ecsHookSnapshot is a BLUE_GREEN deployment paused at a hook.
func ecsHookSnapshot() model.Snapshot {
	s := ecsSnapshot()
	s.Split = model.Split{StableID: "tg-stable", CanaryID: "tg-canary", StableWeight: 100}
	d := *s.Deployment
	e := *d.ECS
	e.Strategy = model.ECSStrategy{Name: "BLUE_GREEN", Bake: 5 * time.Minute}
	e.Stage = "POST_TEST_TRAFFIC_SHIFT"
	e.Hook = &model.HookWait{ID: "tAq8vYOo-hook-1", Stage: "POST_TEST_TRAFFIC_SHIFT", ExpiresAt: fixNow.Add(28 * time.Minute), TimeoutAction: "ROLLBACK"}
	d.ECS, d.CanaryPercent, d.Waiting, d.Config = &e, 0, model.WaitHook, e.Strategy.String()
	d.Plan(fixNow)
	s.Deployment = &d
	s.Audit = nil
	return s
}

// ecsRolledBackSnapshot: the alarm fired and ECS rolled back by itself.
func ecsRolledBackSnapshot() model.Snapshot {
	s := ecsSnapshot()
	s.Split = model.Split{StableID: "tg-stable", CanaryID: "tg-canary", StableWeight: 100}
	d := *s.Deployment
	e := *d.ECS
	e.TriggeredAlarms = []string{"web-green-5xx"}
	e.StatusReason = "Service deployment rolled back because the CloudWatch alarm(s) web-green-5xx went into ALARM state."
	d.ECS, d.Status, d.CanaryPercent, d.CompletedAt = &e, model.ECSRollbackSuccessful, 0, fixNow.Add(-20*time.Second)
	d.Plan(fixNow)
	s.Deployment = &d
	s.Audit = append(s.Audit, model.AuditEntry{Seq: 2, Time: fixNow.Add(-50 * time.Second), Actor: model.Actor{Via: "ecs"}, Action: "rollback",
		Phase: model.PhaseEvent, From: model.Pct(10), To: model.Pct(0),
		Detail: "ECS rolled back service deployment tAq8vYOoorPH4EymD9Pg9h, rolled back (alarm web-green-5xx)"})
	return s
}

func TestGoldenECSScreens(t *testing.T) {
	for _, c := range []struct {
		name string
		snap func() model.Snapshot
		opts Options
	}{
		{"ecs-canary", ecsSnapshot, Options{}},
		{"ecs-hook", ecsHookSnapshot, Options{}},
		{"ecs-rolled-back", ecsRolledBackSnapshot, Options{ReadOnly: true}},
	} {
		for _, sz := range []struct{ w, h int }{{80, 24}, {200, 50}} {
			t.Run(c.name+"-"+itoa(sz.w)+"x"+itoa(sz.h), func(t *testing.T) {
				m, _ := newTestModel(c.snap(), c.opts)
				golden.RequireEqual(t, []byte(screen(t, m, sz.w, sz.h)))
			})
		}
	}
}

func TestECSScreensSayWhatECSDoes(t *testing.T) {
	m, _ := sized(ecsSnapshot(), Options{})
	v := screen(t, m, 200, 50)
	for _, want := range []string{
		"deploy tAq8vYOoorPH4EymD9Pg9h · ⟳ IN_PROGRESS · next → 100% in 3m42s · stage PRODUCTION_TRAFFIC_SHIFT · ECS canary 10% for 5m, then 100%, bake 5m",
		"strategy 0 [10%] 100",
		"r roll back (ECS)",
		"P promote off (ECS)",
		"ECS shift 0% → 10%",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("screen lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "c continue") {
		t.Errorf("continue offered with no hook awaiting action:\n%s", v)
	}
	// A hook awaiting action is on screen at 80 columns too, with its
	// timeout and what happens then.
	h, _ := sized(ecsHookSnapshot(), Options{})
	for _, sz := range []struct{ w, h int }{{80, 24}, {200, 50}} {
		v = screen(t, h, sz.w, sz.h)
		for _, want := range []string{"AWAITS ACTION", "⏸ PAUSED at POST_TEST_TRAFFIC_SHIFT", "c continues, r rolls back", "ROLLBACK", "28m00s", "c continue"} {
			if !strings.Contains(v, want) {
				t.Errorf("%dx%d hook screen lacks %q:\n%s", sz.w, sz.h, want, v)
			}
		}
	}
	if v = screen(t, h, 200, 50); !strings.Contains(v, "times out in 28m00s (at 08:10:10) → ROLLBACK") {
		t.Errorf("hook timeout:\n%s", v)
	}
	rb, _ := sized(ecsRolledBackSnapshot(), Options{ReadOnly: true})
	v = screen(t, rb, 200, 50)
	for _, want := range []string{"ROLLBACK SUCCESSFUL by ECS", "rolled back (alarm web-green-5xx)", "ECS rollback 10% → 0%"} {
		if !strings.Contains(v, want) {
			t.Errorf("rolled-back screen lacks %q:\n%s", want, v)
		}
	}
}

func TestECSKeys(t *testing.T) {
	m, eng := sized(ecsSnapshot(), Options{})
	for _, k := range []string{"+", "-", "P"} {
		if cmd := press(m, k); cmd != nil {
			run(t, m, cmd)
		}
		if !strings.Contains(m.status, "owns its listener rule") || len(eng.intents()) != 0 {
			t.Fatalf("%s: status %q, intents %v", k, m.status, eng.intents())
		}
	}
	if cmd := press(m, "c"); cmd != nil || !strings.Contains(m.status, "no lifecycle hook awaiting action") {
		t.Fatalf("c without a hook: %q", m.status)
	}
	press(m, "r")
	if !m.confirm.open || !strings.Contains(m.status, "StopServiceDeployment tAq8vYOoorPH4EymD9Pg9h ROLLBACK") {
		t.Fatalf("r: open %v, status %q", m.confirm.open, m.status)
	}
	run(t, m, press(m, "y"))
	if in := eng.intents(); len(in) != 1 || in[0].Kind != model.Rollback {
		t.Fatalf("intents after y: %+v", in)
	}
	// At a hook: r names ContinueServiceDeployment ROLLBACK; c continues.
	m, eng = sized(ecsHookSnapshot(), Options{})
	press(m, "r")
	if !strings.Contains(m.status, "ContinueServiceDeployment tAq8vYOoorPH4EymD9Pg9h hook tAq8vYOo-hook-1 ROLLBACK") {
		t.Fatalf("r at a hook: %q", m.status)
	}
	press(m, "n")
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
}
