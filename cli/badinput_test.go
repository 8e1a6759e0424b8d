package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// badInput is one thing an operator can get wrong, the words the one-line
// error must contain, and, when sim is set, whether the simulator's
// endpoint and region are added (so the command gets as far as AWS if it
// wrongly accepts the input).
type badInput struct {
	name string
	args []string
	want string
	sim  bool
}

// TestBadInputSuite runs every bad input through Execute, as main does,
// and wants exit code 2, one short line on stderr naming the problem,
// nothing on stdout, and not one write call at the simulator (read from
// its /_sim/stats endpoint, as any client would).
func TestBadInputSuite(t *testing.T) {
	c := newCLIEnv(t, "bad-targets")
	good := c.target(t, "odd").RuleARN
	listener := c.target(t, "odd").ListenerARN
	unknownRule := good[:len(good)-16] + "0123456789abcdef"
	otherRegion := strings.Replace(good, ":us-east-1:", ":eu-west-1:", 1)
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badYAMLScenario := file("broken.yaml", "albs: [{name: shop\n")
	unknownFieldScenario := file("unknown-field.yaml", "albs: [{name: shop, requests_per_minute: 10, colour: red}]\n")
	badFaultScenario := file("bad-fault.yaml", "albs: [{name: shop}]\nfaults:\n  - {at: 1m, spec: \"throttle:s3:1\"}\n")
	negativeScenario := file("negative.yaml", "albs: [{name: shop, requests_per_minute: -5}]\n")
	badYAMLPlan := file("plan-broken.yaml", "steps: [{percent: 10\n")
	unknownFieldPlan := file("plan-unknown.yaml", "steps:\n  - {percent: 10, bake: 5m, colour: red}\n")
	notARecording := file("not-a-recording.gz", "plain text\n")
	badYAMLConfig := file("perch-broken.yaml", "targets: [{name: shop\n")
	unknownKeyConfig := file("perch-unknown.yaml", "targets:\n  - {name: shop, alb: {rule_arn: "+good+"}, colour: red}\n")

	cases := []badInput{
		// Commands, arguments and flags.
		{"unknown subcommand", []string{"nosuch"}, "unknown command", false},
		{"unknown flag", []string{"status", "--nope", "--rule-arn", good}, "unknown flag", true},
		{"stray argument", []string{"status", "extra", "--rule-arn", good}, "unknown command", true},
		{"argument to version", []string{"version", "now"}, "unknown command", false},
		{"negative poll", []string{"status", "--poll", "-1s", "--rule-arn", good}, "--poll", true},
		{"zero poll", []string{"status", "--poll", "0s", "--rule-arn", good}, "--poll", true},
		{"poll not a duration", []string{"status", "--poll", "often", "--rule-arn", good}, "--poll", true},
		{"zero window", []string{"status", "--window", "0s", "--rule-arn", good}, "--window", true},
		{"window not a duration", []string{"status", "--window", "long", "--rule-arn", good}, "--window", true},
		{"percent not a number", []string{"shift", "--to", "abc", "--rule-arn", good}, "0-100", true},
		{"percent above 100", []string{"shift", "--to", "150", "--rule-arn", good}, "0-100", true},
		{"percent below 0", []string{"shift", "--to", "-5", "--rule-arn", good}, "0-100", true},
		{"shift without --to", []string{"shift", "--rule-arn", good}, `"to" not set`, true},
		{"expect above 100", []string{"promote", "--expect", "200", "--rule-arn", good}, "--expect", true},
		{"expect not a number", []string{"rollback", "--expect", "ten", "--rule-arn", good}, "--expect", true},
		{"endpoint not http", []string{"status", "--rule-arn", good, "--endpoint-url", "ftp://x", "--region", "us-east-1"}, "endpoint URL", false},
		{"endpoint without host", []string{"status", "--rule-arn", good, "--endpoint-url", "http://", "--region", "us-east-1"}, "endpoint URL", false},
		{"endpoint with a bad port", []string{"status", "--rule-arn", good, "--endpoint-url", "http://127.0.0.1:x", "--region", "us-east-1"}, "endpoint URL", false},

		// Targets and ARNs.
		{"malformed ARN", []string{"status", "--rule-arn", "arn:aws:nope"}, "malformed", true},
		{"not an ARN", []string{"shift", "--to", "5", "--rule-arn", "checkout"}, "checkout", true},
		{"listener ARN as a rule", []string{"status", "--rule-arn", listener}, "listener", true},
		{"rule ARN as a listener", []string{"status", "--listener-arn", good}, "rule", true},
		{"unknown rule", []string{"status", "--rule-arn", unknownRule}, "not found", true},
		{"rule in another region", []string{"status", "--rule-arn", otherRegion}, "eu-west-1", true},
		{"both rule and listener", []string{"status", "--rule-arn", good, "--listener-arn", listener}, "exactly one", true},
		{"no target", []string{"rollback"}, "exactly one", true},
		{"rule with one target group", []string{"shift", "--to", "5", "--rule-arn", c.target(t, "odd-single-tg").RuleARN}, "1 target group", true},
		{"rule with three target groups", []string{"shift", "--to", "5", "--rule-arn", c.target(t, "odd-three-tg").RuleARN}, "3 target groups", true},
		{"redirect rule", []string{"rollback", "--rule-arn", c.target(t, "odd-redirect").RuleARN}, "redirect", true},
		{"fixed-response listener", []string{"rollback", "--listener-arn", c.target(t, "odd-fixed-response").ListenerARN}, "fixed-response", true},
		{"unknown canary target group", []string{"shift", "--to", "5", "--rule-arn", good, "--canary-target-group", "nope"}, "nope", true},
		{"function without alias", []string{"status", "--function", "orders"}, "--alias", true},
		{"alias without function", []string{"status", "--alias", "live"}, "--function", true},
		{"lambda and ALB together", []string{"status", "--function", "orders", "--alias", "live", "--rule-arn", good}, "exactly one", true},
		{"canary group on a lambda", []string{"status", "--function", "orders", "--alias", "live", "--canary-target-group", "x"}, "--canary-version", true},
		{"unknown function", []string{"status", "--function", "nosuch", "--alias", "live"}, "not found", true},
		{"lambda cockpit without alias", []string{"lambda", "--function", "orders"}, "--alias", true},

		// Ladders.
		{"ladder not increasing", []string{"status", "--ladder", "0,50,10", "--rule-arn", good}, "increase", true},
		{"ladder not numbers", []string{"status", "--ladder", "0,abc", "--rule-arn", good}, "abc", true},
		{"ladder empty", []string{"status", "--ladder", "", "--rule-arn", good}, "ladder", true},
		{"ladder above 100", []string{"status", "--ladder", "0,150", "--rule-arn", good}, "150", true},

		// Plans.
		{"plan step not a duration", []string{"alb", "--plan", "5%:x", "--rule-arn", good}, "--plan", true},
		{"plan step above 100", []string{"alb", "--plan", "150%:1m,100%", "--rule-arn", good}, "--plan", true},
		{"plan unknown CodeDeploy name", []string{"alb", "--plan", "Canary99Percent0Minutes", "--rule-arn", good}, "--plan", true},
		{"plan YAML malformed", []string{"alb", "--plan", badYAMLPlan, "--rule-arn", good}, "--plan", true},
		{"plan YAML unknown field", []string{"alb", "--plan", unknownFieldPlan, "--rule-arn", good}, "colour", true},
		{"plan on the lambda cockpit", []string{"lambda", "--function", "orders", "--alias", "live", "--plan", "10%:x"}, "--plan", true},
		{"demo plan", []string{"demo", "--plan", "5%:x"}, "--plan", false},

		// Saturation and log flags.
		{"judge an unknown saturation signal", []string{"alb", "--rule-arn", good, "--judge-saturation", "disk:higher"}, "--judge-saturation", true},
		{"one ECS service", []string{"alb", "--rule-arn", good, "--stable-ecs-service", "blue"}, "--canary-ecs-service", true},
		{"log queries too often", []string{"alb", "--rule-arn", good, "--log-group", "/g", "--log-every", "10s"}, "--log-every", true},
		{"ALB logs without a group", []string{"alb", "--rule-arn", good, "--logs"}, "log group", true},
		{"log error regex", []string{"alb", "--rule-arn", good, "--log-group", "/g", "--log-error-regex", "("}, "regex", true},

		// Scenarios, simulator flags and fault specs.
		{"unknown scenario", []string{"demo", "--scenario", "nosuch"}, "not a built-in scenario", false},
		{"scenario YAML malformed", []string{"demo", "--scenario", badYAMLScenario}, "scenario", false},
		{"scenario unknown field", []string{"sim", "--listen", "127.0.0.1:0", "--scenario", unknownFieldScenario}, "colour", false},
		{"scenario value out of range", []string{"sim", "--listen", "127.0.0.1:0", "--scenario", negativeScenario}, "requests_per_minute", false},
		{"scenario fault spec", []string{"sim", "--listen", "127.0.0.1:0", "--scenario", badFaultScenario}, "faults[0].spec", false},
		{"speed zero", []string{"demo", "--speed", "0"}, "--speed", false},
		{"speed negative", []string{"sim", "--listen", "127.0.0.1:0", "--speed", "-1"}, "--speed", false},
		{"speed too high", []string{"sim", "--listen", "127.0.0.1:0", "--speed", "20000"}, "--speed", false},
		{"fault bogus", []string{"sim", "--listen", "127.0.0.1:0", "--fault", "bogus"}, "--fault", false},
		{"fault unknown service", []string{"sim", "--listen", "127.0.0.1:0", "--fault", "throttle:s3:0.5"}, "unknown service", false},
		{"fault fraction above 1", []string{"sim", "--listen", "127.0.0.1:0", "--fault", "error:elbv2:2"}, "fraction", false},
		{"fault negative latency", []string{"demo", "--fault", "latency:elbv2:-1s"}, "out of range", false},
		{"fault drift on no such target", []string{"sim", "--listen", "127.0.0.1:0", "--fault", "drift:nosuch:1m"}, "nosuch", false},
		{"sim on a public address", []string{"sim", "--listen", "0.0.0.0:4566"}, "loopback", false},
		{"sim listen not an address", []string{"sim", "--listen", "nonsense"}, "--listen", false},
		{"sim stray argument", []string{"sim", "now"}, "unknown command", false},

		// Config files.
		{"config file missing", []string{"--config", filepath.Join(dir, "nosuch.yaml")}, "nosuch.yaml", false},
		{"config YAML malformed", []string{"--config", badYAMLConfig}, "perch-broken.yaml", false},
		{"config unknown key", []string{"--config", unknownKeyConfig}, "colour", false},

		// Other commands.
		{"replay without a file", []string{"replay"}, "arg", false},
		{"replay of a missing file", []string{"replay", filepath.Join(dir, "nosuch.gz")}, "nosuch.gz", false},
		{"replay of a non-recording", []string{"replay", notARecording}, "not-a-recording", false},
		{"replay speed zero", []string{"replay", "--speed", "0", notARecording}, "--speed", false},
		{"audit export format", []string{"audit", "export", "--format", "pdf"}, "--format", false},
		{"audit export since", []string{"audit", "export", "--since", "yesterday"}, "--since", false},
		{"audit verify two files", []string{"audit", "verify", "a", "b"}, "arg", false},
		{"serve without authorized keys", []string{"serve", "--rule-arn", good}, "--authorized-keys", true},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d bad inputs", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.sim {
				args = append(append([]string(nil), args...), "--endpoint-url", c.sim.URL, "--region", "us-east-1")
			}
			code, out, errOut := runBounded(t, args)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr %q", code, ExitUsage, errOut)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q should mention %q", errOut, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(errOut), "\n") + 1; lines != 1 || len(errOut) > 300 {
				t.Errorf("error is %d lines, %d bytes, want one short line: %q", lines, len(errOut), errOut)
			}
			if out != "" {
				t.Errorf("stdout should be empty on bad input: %q", out)
			}
		})
	}
	if n := simWrites(t, c.sim.URL); n != 0 {
		t.Fatalf("bad input caused %d write calls at the simulator", n)
	}
}

// runBounded runs perch in-process with a deadline: a bad input that is
// wrongly accepted by `perch sim` would otherwise serve until killed.
func runBounded(t *testing.T, args []string) (int, string, string) {
	t.Helper()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		var out, errOut bytes.Buffer
		code := Execute(args, &out, &errOut)
		done <- result{code, out.String(), errOut.String()}
	}()
	select {
	case r := <-done:
		return r.code, r.out, r.err
	case <-time.After(60 * time.Second):
		t.Fatalf("perch %v still running after a minute: the bad input was accepted", args)
		return 0, "", ""
	}
}
