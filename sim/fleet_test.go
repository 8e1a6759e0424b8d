package sim

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/clock"
)

func TestFleetScenarioSeedsEveryCanary(t *testing.T) {
	base, err := LoadScenario("healthy")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := FleetScenario(base, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.ALBs) != 100 || len(sc.Lambdas) != 0 {
		t.Fatalf("%d albs, %d lambdas", len(sc.ALBs), len(sc.Lambdas))
	}
	again, _ := FleetScenario(base, 100)
	if !reflect.DeepEqual(sc, again) {
		t.Fatal("FleetScenario is not deterministic")
	}
	if base.ALBs[0].Name != "checkout" || len(base.ALBs) != 1 {
		t.Fatal("FleetScenario changed its base")
	}
	s, err := New(Options{Clock: clock.NewManual(time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)), Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	m := s.Manifest("http://127.0.0.1:1")
	names := map[string]bool{}
	spikes, slow := 0, 0
	for i, tg := range m.Targets {
		if tg.Kind != "alb" || tg.RuleARN == "" || tg.Note != "" {
			t.Fatalf("target %d is not a drivable ALB canary: %+v", i, tg)
		}
		if names[tg.Name] {
			t.Fatalf("name %s twice", tg.Name)
		}
		names[tg.Name] = true
		if len(tg.Alarms) != 1 || !strings.HasPrefix(tg.Alarms[0], tg.Name+"-") {
			t.Errorf("%s alarms %v: want the template's alarm renamed for it", tg.Name, tg.Alarms)
		}
	}
	for _, a := range sc.ALBs {
		if len(a.Events) > 0 {
			spikes++
		}
		if *a.Canary.LatencyP99Ms > *a.Stable.LatencyP99Ms {
			slow++
		}
	}
	if len(m.Targets) != 100 || spikes != 10 || slow != 10 {
		t.Errorf("%d targets, %d with a 5xx spike, %d slow canaries; want 100, 10, 10", len(m.Targets), spikes, slow)
	}
}

func TestFleetScenarioBounds(t *testing.T) {
	base, _ := LoadScenario("healthy")
	for _, n := range []int{0, -1, MaxFleet + 1} {
		if _, err := FleetScenario(base, n); err == nil {
			t.Errorf("fleet of %d accepted", n)
		}
	}
	if _, err := FleetScenario(&Scenario{Name: "empty"}, 3); err == nil {
		t.Error("a base without ALBs accepted")
	}
}
