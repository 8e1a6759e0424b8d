package aws

import (
	"fmt"
	"sync"

	"sort"
	"strings"
	"testing"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"

	"github.com/perch-dev/perch/model"
)

// A scan of the discovery scenario lists exactly its canaries, with their
// splits, and none of its decoys.
func TestSimScanFindsExactlyTheCanaries(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", "")
	t.Setenv("AWS_ENDPOINT_URL_CODEDEPLOY", "")
	env, cfg := simEnv(t, "discovery")
	env.Sim.ResetStats()
	var mu sync.Mutex
	var stages []string
	// Progress comes from the scanner's goroutines at once.
	found, err := NewScanner(cfg, 4, func(p model.ScanProgress) {
		mu.Lock()
		defer mu.Unlock()
		stages = append(stages, p.Stage)
	}).Scan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		marked := ""
		if f.Marked {
			marked = " marked"
		}
		canary := "?"
		if f.CanaryPercent != nil {
			canary = model.FormatPercent(*f.CanaryPercent)
		}
		got = append(got, string(f.Kind)+" "+f.Name+" "+f.SplitText()+" canary "+canary+marked)
	}
	want := []string{
		"alb cart rule 10 70%/30% canary ?",
		"alb checkout rule 10 90%/10% canary 10% marked",
		"alb edge default rule 75%/25% canary 25% marked",
		"alb ledger rule 30 80%/10%/10% canary ?",
		"alb search rule 10 50%/50% canary 50% marked",
		"codedeploy web-app/web-bg 90%/10% canary 10%",
		"lambda orders:live 90%/10% canary 10%",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("scan found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range found {
		if f.Name == "ledger rule 30" && !strings.Contains(f.Note, "3 target groups") {
			t.Errorf("three-group rule note: %q", f.Note)
		}
	}
	// Calls: ELBv2 1 + LBs + listeners + ceil(candidates/20); Lambda
	// ceil(functions/50) + functions; CodeDeploy 1 + ceil(active/25) + 2 per
	// active traffic-shifting deployment; ECS 1 + per cluster (none here).
	st := env.Sim.Stats()
	calls := map[string]int{}
	for op, n := range st {
		calls[op] = n
	}
	wantCalls := map[string]int{
		"elbv2:DescribeLoadBalancers": 1, "elbv2:DescribeListeners": 6, "elbv2:DescribeRules": 6, "elbv2:DescribeTags": 1,
		"lambda:ListFunctions": 1, "lambda:ListAliases": 2,
		"codedeploy:ListDeployments": 1, "codedeploy:BatchGetDeployments": 1,
		"codedeploy:ListDeploymentTargets": 1, "codedeploy:BatchGetDeploymentTargets": 1,
		"ecs:ListClusters": 1,
	}
	for op, n := range wantCalls {
		if calls[op] != n {
			t.Errorf("%s: %d calls, want %d", op, calls[op], n)
		}
		delete(calls, op)
	}
	if len(calls) != 0 {
		t.Errorf("unexpected calls: %v", calls)
	}
	sort.Strings(stages)
	if len(stages) == 0 {
		t.Error("no progress reported")
	}
}

// BenchmarkScan50x5x10 scans 50 load balancers of 5 listeners with 10
// weighted rules each (2,500 rules). Calls, by the formula in
// TestSimScanFindsExactlyTheCanaries: 1 DescribeLoadBalancers + 50
// DescribeListeners + 250 DescribeRules + ceil(2500/20) = 125
// DescribeTags, and one list each for Lambda, CodeDeploy and ECS (none
// to follow up): 429.
func BenchmarkScan50x5x10(b *testing.B) {
	b.Setenv("AWS_ENDPOINT_URL_LAMBDA", "")
	b.Setenv("AWS_ENDPOINT_URL_CODEDEPLOY", "")
	yaml := "name: scan-bench\nhistory: 30m\npublish_delay: 30s\nalbs:\n"
	for i := range 50 {
		yaml += fmt.Sprintf("  - {name: lb%02d, requests_per_minute: 60, canary_weight: 10, listeners: 5, rules_per_listener: 10}\n", i)
	}
	sc, err := sim.ParseScenario([]byte(yaml), "scan-bench")
	if err != nil {
		b.Fatal(err)
	}
	env := simtest.Start(b, simtest.Options{Options: sim.Options{Scenario: sc}})
	cfg := testConfig(b, env.URL)
	b.ResetTimer()
	var calls int
	for range b.N {
		env.Sim.ResetStats()
		found, err := NewScanner(cfg, DefaultScanParallel, nil).Scan(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if len(found) != 2500 {
			b.Fatalf("found %d canaries, want 2500", len(found))
		}
		calls = 0
		for _, n := range env.Sim.Stats() {
			calls += n
		}
	}
	b.ReportMetric(float64(calls), "calls/scan")
}
