package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perch-dev/perch/sim"
)

type cliAlias struct {
	FunctionVersion string
	RevisionId      string
	RoutingConfig   *struct {
		AdditionalVersionWeights map[string]float64
	}
}

func (a cliAlias) weight(v string) float64 {
	if a.RoutingConfig == nil {
		return 0
	}
	return a.RoutingConfig.AdditionalVersionWeights[v]
}

func TestLambdaHeadlessCommandsAndTheAWSCLISeeTheSameAlias(t *testing.T) {
	c := newCLIEnv(t, "lambda-healthy")
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", "")
	target := []string{"--function", "orders", "--alias", "live"}

	code, out, errOut := c.perch(t, append([]string{"status", "--json"}, target...)...)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	var st status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status is not JSON: %v\n%s", err, out)
	}
	if st.Target.Kind != "lambda" || st.Target.AliasARN == "" || st.Split.CanaryPercent != 10 || st.Split.CanaryWeight != 100 ||
		st.Metrics["canary"].Requests == 0 || st.Metrics["canary"].Throttles == nil || st.Health["canary"].Healthy != 1 {
		t.Fatalf("status %+v", st)
	}
	if code, out, _ := c.perch(t, append([]string{"status"}, target...)...); code != 0 || !strings.Contains(out, "invocations") ||
		!strings.Contains(out, "throttles") || !strings.Contains(out, "version 8") {
		t.Fatalf("status text: %d\n%s", code, out)
	}

	// A shift by perch is what the AWS CLI reads back from the simulator.
	if code, out, errOut := c.perch(t, append([]string{"shift", "--to", "25", "--reason", "bake ok"}, target...)...); code != 0 ||
		!strings.Contains(out, "canary 25% (verified)") {
		t.Fatalf("shift: exit %d\n%s%s", code, out, errOut)
	}
	var a cliAlias
	c.awsCLI(t, &a, "lambda", "get-alias", "--function-name", "orders", "--name", "live")
	if a.FunctionVersion != "7" || a.weight("8") != 0.25 || a.RevisionId == "" {
		t.Fatalf("aws lambda get-alias after the shift: %+v", a)
	}

	// A stale --expect is refused, and nothing is written.
	before := simWrites(t, c.sim.URL)
	if code, _, errOut := c.perch(t, append([]string{"promote", "--expect", "10"}, target...)...); code != ExitRefused ||
		!strings.Contains(errOut, "changed since you looked") || simWrites(t, c.sim.URL) != before {
		t.Fatalf("promote on a stale --expect: exit %d %q", code, errOut)
	}
	if code, out, errOut := c.perch(t, append([]string{"rollback"}, target...)...); code != 0 || !strings.Contains(out, "canary 0%") {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	a = cliAlias{} // decode afresh: json.Unmarshal would keep the old routing
	c.awsCLI(t, &a, "lambda", "get-alias", "--function-name", "orders", "--name", "live")
	if a.FunctionVersion != "7" || a.weight("8") != 0 {
		t.Fatalf("after rollback the alias should be on 7 with no routing: %+v", a)
	}
	// With the routing cleared, a new perch must be told which version is
	// the canary.
	if code, _, errOut := c.perch(t, append([]string{"promote"}, target...)...); code != ExitUsage || !strings.Contains(errOut, "--canary-version") {
		t.Fatalf("promote of an alias without routing and no --canary-version: exit %d %q", code, errOut)
	}
	withCanary := append(target, "--canary-version", "8")
	if code, out, errOut := c.perch(t, append([]string{"promote"}, withCanary...)...); code != 0 || !strings.Contains(out, "canary 100%") {
		t.Fatalf("promote: exit %d\n%s%s", code, out, errOut)
	}
	a = cliAlias{}
	c.awsCLI(t, &a, "lambda", "get-alias", "--function-name", "orders", "--name", "live")
	if a.FunctionVersion != "8" || a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) != 0 {
		t.Fatalf("after promote the alias should be on 8 with no routing: %+v", a)
	}
	log := filepath.Join(c.state, "perch", "audit.jsonl")
	if code, out, errOut := c.run(t, "audit", "verify", log); code != 0 || !strings.Contains(out, "ok, 7 entries") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
}

func TestLambdaBadInputIsRefusedWithAShortErrorAndNoWrite(t *testing.T) {
	c := newCLIEnv(t, "lambda-bad-targets")
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", "")
	rule := "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/x/0123456789abcdef/0123456789abcdef/0123456789abcdef"
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown function", []string{"status", "--function", "nope", "--alias", "live"}, "function not found: nope"},
		{"unknown alias", []string{"shift", "--to", "5", "--function", "billing", "--alias", "nope"}, "alias not found: billing:nope"},
		{"routing to a missing version", []string{"shift", "--to", "5", "--function", "billing", "--alias", "live-dangling"}, "version 5, which does not exist"},
		{"canary version = stable", []string{"promote", "--function", "billing", "--alias", "live", "--canary-version", "3"}, "stable version"},
		{"canary version $LATEST", []string{"shift", "--to", "5", "--function", "billing", "--alias", "live", "--canary-version", "$LATEST"}, "$LATEST"},
		{"unknown canary version", []string{"shift", "--to", "5", "--function", "billing", "--alias", "live", "--canary-version", "9"}, "version not found: billing:9"},
		{"no routing, no canary version", []string{"rollback", "--function", "billing", "--alias", "live"}, "--canary-version"},
		{"alias on $LATEST", []string{"status", "--function", "billing", "--alias", "live-latest", "--canary-version", "4"}, "$LATEST"},
		{"function without alias", []string{"status", "--function", "billing"}, "--alias"},
		{"alias without function", []string{"status", "--alias", "live"}, "--function"},
		{"ALB and Lambda at once", []string{"status", "--function", "billing", "--alias", "live", "--rule-arn", rule}, "exactly one"},
		{"target group flag on Lambda", []string{"status", "--function", "billing", "--alias", "live", "--canary-target-group", "x"}, "--canary-version"},
		{"cockpit without a target", []string{"lambda"}, "--function and --alias"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := c.perch(t, tc.args...)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want %d; stderr %q should mention %q", code, ExitUsage, errOut, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(errOut), "\n"); lines > 0 {
				t.Errorf("error is %d lines, want one: %q", lines+1, errOut)
			}
		})
	}
	if n := simWrites(t, c.sim.URL); n != 0 {
		t.Fatalf("bad input caused %d writes: %v", n, c.sim.Sim.Stats())
	}
	// Naming the canary opens the alias that has no routing yet.
	if code, out, errOut := c.perch(t, "shift", "--to", "5", "--function", "billing", "--alias", "live", "--canary-version", "4"); code != 0 ||
		!strings.Contains(out, "canary 5% (verified)") {
		t.Fatalf("first shift of an alias without routing: exit %d\n%s%s", code, out, errOut)
	}
}

func TestSimPrintsLambdaCommandsAndDemoPicksTheAlias(t *testing.T) {
	for _, name := range []string{"lambda-healthy", "lambda-errors", "lambda-throttles"} {
		sc, err := sim.LoadScenario(name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := sim.New(sim.Options{Scenario: sc})
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manifest("http://127.0.0.1:4566")
		var b bytes.Buffer
		printSimEnv(&b, m)
		// lambda-errors logs: its command also watches the versions' logs.
		if !strings.Contains(b.String(), "perch lambda --function orders --alias live --canary-version 8\n") &&
			!(name == "lambda-errors" && strings.Contains(b.String(), "perch lambda --function orders --alias live --canary-version 8 --logs\n")) {
			t.Fatalf("%s: perch sim prints\n%s", name, b.String())
		}
		tg, ok := firstDrivable(m)
		if !ok || tg.Kind != "lambda" || tg.Alias != "live" {
			t.Fatalf("%s: demo would open %+v", name, tg)
		}
		tf := &targetFlags{ruleARN: "leftover", ladder: "0,1,5,10,25,50,100"}
		useManifestTarget(tf, tg)
		if tf.ruleARN != "" || tf.function != "orders" || tf.alias != "live" || tf.canaryVersion != "8" {
			t.Fatalf("%s: flags %+v", name, tf)
		}
		if _, err := tf.validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	printSimEnv(&b, s.Manifest("http://127.0.0.1:4566"))
	if !strings.Contains(b.String(), "perch alb --rule-arn arn:") || strings.Contains(b.String(), "perch lambda") {
		t.Fatalf("healthy (ALB) scenario prints\n%s", b.String())
	}
}
