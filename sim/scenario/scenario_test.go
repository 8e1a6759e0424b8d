package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltinScenariosParse(t *testing.T) {
	names := Builtin()
	for _, want := range []string{"bad-targets", "drift", "error-spike", "healthy", "latency-regression", "low-traffic"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("built-in %s missing from %v", want, names)
		}
	}
	for _, n := range names {
		sc, err := Load(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if sc.Name != n || sc.Description == "" || len(sc.ALBs)+len(sc.Lambdas) == 0 {
			t.Errorf("%s: name %q, description %q, %d albs, %d lambdas", n, sc.Name, sc.Description, len(sc.ALBs), len(sc.Lambdas))
		}
	}
}

func TestScenarioErrorsNameTheLine(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown field", "name: x\nalbs:\n  - name: a\n    requests_per_minute: 5\n    colour: red\n", "line 5"},
		{"unknown side field", "albs:\n  - name: a\n    stable: {error_rate: 0.1, eror_4xx: 2}\n", "line 3"},
		{"rate out of range", "albs:\n  - name: a\n    stable:\n      error_rate: 1.5\n", "line 4: albs[0].stable.error_rate"},
		{"weight out of range", "albs:\n  - name: a\n    canary_weight: 101\n", "line 3: albs[0].canary_weight"},
		{"bad duration", "history: soon\nalbs: []\n", "line 1"},
		{"short history", "history: 10m\n", "line 1: history"},
		{"bad name", "albs:\n  - name: a_b\n", "line 2: albs[0].name"},
		{"duplicate name", "albs:\n  - name: a\n  - name: a\n", "line 3: albs[1].name"},
		{"p99 below p50", "albs:\n  - name: a\n    canary: {latency_p50_ms: 100, latency_p99_ms: 50}\n", "line 3: albs[0].canary.latency_p99_ms"},
		{"event p50 above p99", "albs:\n  - name: a\n    events:\n      - at: 1m\n        canary: {latency_p50_ms: 900}\n", "line 4: albs[0].events[0]"},
		{"empty event", "albs:\n  - name: a\n    events:\n      - at: 1m\n", "line 4: albs[0].events[0]"},
		{"unknown extra", "albs:\n  - name: a\n    extras: [single-tg-rule, wat]\n", "albs[0].extras[1]"},
		{"unhealthy > targets", "albs:\n  - name: a\n    targets_per_side: 2\n    stable: {unhealthy_targets: 3}\n", "line 4: albs[0].stable.unhealthy_targets"},
		{"two documents", "name: a\n---\nname: b\n", "one YAML document"},
		{"wrong type", "albs:\n  - name: a\n    requests_per_minute: lots\n", "line 3"},
		{"alarm side", "albs:\n  - name: a\n    alarms:\n      - {side: middle, metric: RequestCount}\n", "line 4: albs[0].alarms[0].side"},
		{"alarm metric", "albs:\n  - name: a\n    alarms:\n      - side: canary\n        metric: Errors\n", "line 5: albs[0].alarms[0].metric"},
		{"alarm period", "albs:\n  - name: a\n    alarms:\n      - {side: canary, metric: RequestCount, period: 90s}\n", "albs[0].alarms[0].period"},
		{"alarm stat", "albs:\n  - name: a\n    alarms:\n      - {side: canary, metric: RequestCount, statistic: median}\n", "albs[0].alarms[0].statistic"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml), "t")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestScenarioDefaultsAndFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(p, []byte("albs:\n  - name: shop\n    requests_per_minute: 10\n    events:\n      - at: 3m\n        both: {error_rate: 0.2}\n      - at: 1m\n        requests_per_minute: 20\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	a := sc.ALBs[0]
	if sc.Name != "mine" || sc.History.D().Minutes() != 60 || sc.PublishDelay.D().Seconds() != 30 ||
		*a.TargetsPerSide != 3 || *a.Stable.ErrorRate != defaultErrorRate || *a.Canary.LatencyP99Ms != defaultP99Ms || a.PathPattern != "/*" {
		t.Errorf("defaults not applied: %+v", sc)
	}
	if a.Events[0].At.D().Minutes() != 1 {
		t.Errorf("events not sorted by time: %+v", a.Events)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "healthy") {
		t.Errorf("missing file error should list the built-ins: %v", err)
	}
}

func FuzzParseScenario(f *testing.F) {
	for _, n := range Builtin() {
		data, err := builtinFS.ReadFile("scenarios/" + n + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("albs:\n  - name: a\n    events:\n      - at: -5m\n        canary_weight: 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse(data, "fuzz")
		if err != nil {
			return
		}
		// Whatever parses must be usable: a simulator can be built on it.
		for _, a := range sc.ALBs {
			if a.TargetsPerSide == nil || a.Stable.ErrorRate == nil || a.Canary.LatencyP99Ms == nil {
				t.Fatalf("parsed scenario with unset defaults: %+v", a)
			}
		}
		if sc.ECS != nil {
			for _, s := range sc.ECS.Services {
				if s.ScaleUp == nil || s.Advanced == nil || s.Cluster == "" || s.Strategy == "" {
					t.Fatalf("parsed ECS service with unset defaults: %+v", s)
				}
			}
		}
	})
}
