package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim/simtest"
)

// A perch.yaml target with saturation and logs: its fleet engine charts
// the ECS services' memory and judges it, and watches both sides' logs.
func TestFleetFromConfigWithSignals(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "memory-leak"})
	mt := env.Manifest.Targets[0]
	cfgText := `
targets:
  - name: checkout
    alb: {rule_arn: "` + mt.RuleARN + `", canary_target_group: "` + mt.CanaryTargetGroupARN + `"}
    saturation:
      ecs: {cluster: shop, stable_service: checkout-blue, canary_service: checkout-green}
      judge:
        - {signal: memory_utilization, direction: higher_is_worse, tolerance: 0.05}
    logs:
      group: /ecs/checkout
      stable: {stream_prefix: checkout-stable/}
      canary: {stream_prefix: checkout-canary/}
      every: 1m
`
	path := filepath.Join(t.TempDir(), "perch.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	g := &globalFlags{endpointURL: env.URL, region: "us-east-1", poll: 10 * time.Second, reconcileAfter: time.Minute,
		auditLog: filepath.Join(t.TempDir(), "audit.jsonl")}
	s, err := openFleet(context.Background(), g, f, fleetOptions{clock: env.Clock, credentials: staticCredentials(), via: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.fleet.PollOnce(context.Background())
	env.Clock.Advance(10 * time.Second)
	s.fleet.PollOnce(context.Background())
	snap := s.engines[0].Snapshot()
	for _, side := range model.Sides {
		if len(snap.Signals[side][model.MemoryUtilization]) == 0 {
			t.Fatalf("%s memory not fetched: %v", side, snap.Signals[side])
		}
	}
	if _, ok := snap.Verdict.Metric(model.MemoryUtilization); !ok {
		t.Errorf("the judge does not weigh memory: %+v", snap.Verdict.Metrics)
	}
	if snap.Logs == nil || snap.Logs.Queries != 2 || snap.Logs.At[model.Canary].IsZero() || len(snap.Logs.Rows) == 0 {
		t.Fatalf("logs not watched: %+v", snap.Logs)
	}
}
