package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAuditExport(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	rule := c.sim.Manifest.Targets[0].RuleARN
	log := filepath.Join(c.state, "perch", "audit.jsonl")
	for _, to := range []string{"25", "0"} {
		if code, out, errOut := c.perch(t, "shift", "--to", to, "--rule-arn", rule, "--reason", "incident 42"); code != 0 {
			t.Fatalf("shift --to %s: exit %d\n%s%s", to, code, out, errOut)
		}
	}

	code, out, errOut := c.run(t, "audit", "export")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"## perch audit timeline",
		"- Log: `" + log + "`, 4 entries; hash chain verified",
		"- Target: `" + rule + "`",
		"- Canary: 10% → 25% → 0%",
		"| Time (UTC) | Who | Action | Canary | Outcome | Reason / detail |",
		"| shift | 10% → 25% | ✓ ok, verified | “incident 42” |",
		// The intent's detail follows the reason: this shift ended the rollout.
		"| shift | 25% → 0% | ✓ ok, verified | “incident 42” — the rollout ends: perch removes its marker |",
		"via headless",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown export lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = c.run(t, "audit", "export", log, "--format", "json", "--target", rule, "--since", "1h")
	if code != 0 {
		t.Fatalf("json export: exit %d", code)
	}
	var doc struct {
		Verified bool `json:"chain_verified"`
		Timeline []struct {
			Action  string   `json:"action"`
			To      *float64 `json:"to_percent"`
			Outcome string   `json:"outcome"`
			Seqs    []int64  `json:"seqs"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json export: %v\n%s", err, out)
	}
	if !doc.Verified || len(doc.Timeline) != 2 || *doc.Timeline[0].To != 25 || len(doc.Timeline[1].Seqs) != 2 {
		t.Errorf("json export: %+v", doc)
	}

	if _, out, _ := c.run(t, "audit", "export", "--target", "arn:aws:other"); !strings.Contains(out, "_No entries match._") {
		t.Errorf("another target:\n%s", out)
	}
	if _, out, _ := c.run(t, "audit", "export", "--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); !strings.Contains(out, "_No entries match._") {
		t.Errorf("since the future:\n%s", out)
	}

	// A tampered log still exports, and says loudly that it does not verify.
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(log, []byte(strings.Replace(string(data), "incident 42", "incident 43", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = c.run(t, "audit", "export")
	if code != 0 || !strings.Contains(out, "**hash chain NOT verified: ") || !strings.Contains(errOut, "warning") {
		t.Errorf("tampered log: exit %d\n%s\n%s", code, out, errOut)
	}

	for _, args := range [][]string{
		{"audit", "export", "--format", "csv"},
		{"audit", "export", "--since", "yesterday"},
		{"audit", "export", "--since", "-2h"},
		{"audit", "export", "a", "b"},
	} {
		if code, _, _ := c.run(t, args...); code != ExitUsage {
			t.Errorf("perch %s: exit %d, want %d", strings.Join(args, " "), code, ExitUsage)
		}
	}
	if code, _, _ := c.run(t, "audit", "export", filepath.Join(c.state, "missing.jsonl")); code != ExitFailure {
		t.Errorf("missing log: exit %d, want %d", code, ExitFailure)
	}
}
