package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --audit-log naming someone's file, or a link to one, is refused with one
// line, and the file is left byte for byte and mode for mode as it was:
// even perch status used to drop its last line and chmod it 0600.
func TestAuditLogFlagLeavesOtherFilesAlone(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	rule := c.sim.Manifest.Targets[0].RuleARN
	dir := t.TempDir()
	victim := filepath.Join(dir, "bashrc")
	body := []byte("# ~/.bashrc\nexport EDITOR=vi\nalias ll='ls -l'")
	if err := os.WriteFile(victim, body, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "audit.jsonl")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{victim, link} {
		code, _, errOut := c.perch(t, "status", "--rule-arn", rule, "--audit-log", path)
		if code != ExitFailure || strings.Count(errOut, "\n") != 1 {
			t.Errorf("status --audit-log %s: exit %d, stderr %q", filepath.Base(path), code, errOut)
		}
		after, _ := os.ReadFile(victim)
		st, _ := os.Stat(victim)
		if !bytes.Equal(after, body) || st.Mode().Perm() != 0o644 {
			t.Fatalf("status --audit-log %s changed the file: %q, mode %04o", filepath.Base(path), after, st.Mode().Perm())
		}
	}
}

// The cockpit shows the log's head; a copy whose newest entries were cut
// off still verifies on its own, but not against that head.
func TestAuditVerifyHeadCatchesACutTail(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	rule := c.sim.Manifest.Targets[0].RuleARN
	log := filepath.Join(c.state, "perch", "audit.jsonl")
	for _, to := range []string{"25", "50"} {
		if code, out, errOut := c.perch(t, "shift", "--to", to, "--rule-arn", rule); code != 0 {
			t.Fatalf("shift: exit %d\n%s%s", code, out, errOut)
		}
	}
	code, out, errOut := c.run(t, "audit", "verify", log)
	if code != 0 {
		t.Fatalf("verify: exit %d %s", code, errOut)
	}
	i := strings.Index(out, "last hash ")
	if i < 0 {
		t.Fatalf("verify prints no hash: %q", out)
	}
	head := out[i+len("last hash ") : i+len("last hash ")+12]
	if code, out, errOut := c.run(t, "audit", "verify", log, "--head", head); code != 0 || !strings.Contains(out, "head "+head+" is entry 4") {
		t.Fatalf("verify --head on the intact log: exit %d %q %q", code, out, errOut)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if err := os.WriteFile(log, bytes.Join(lines[:2], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := c.run(t, "audit", "verify", log); code != 0 {
		t.Fatalf("test setup: the cut log should verify on its own: %s", errOut)
	}
	code, _, errOut = c.run(t, "audit", "verify", log, "--head", head)
	if code != ExitFailure || !strings.Contains(errOut, "not in the log") || !strings.Contains(errOut, "cut off") {
		t.Fatalf("verify --head on the cut log: exit %d %q", code, errOut)
	}
	if code, _, errOut := c.run(t, "audit", "verify", log, "--head", "xyz"); code != ExitUsage {
		t.Fatalf("verify --head xyz: exit %d %q", code, errOut)
	}
}

// Altering the newest entry breaks verify; perch status afterwards must
// not make it pass again.
func TestTamperedLastEntrySurvivesAStatus(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	rule := c.sim.Manifest.Targets[0].RuleARN
	log := filepath.Join(c.state, "perch", "audit.jsonl")
	if code, _, errOut := c.perch(t, "shift", "--to", "25", "--rule-arn", rule, "--reason", "bake looks good"); code != 0 {
		t.Fatalf("shift: %s", errOut)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	// Break the outcome's JSON: the old recovery took it for a torn write.
	tampered := bytes.Replace(data, []byte(`"verified":true,`), []byte(`"verified":tru,`), 1)
	if bytes.Equal(tampered, data) {
		t.Fatal("test setup: nothing to tamper with")
	}
	if err := os.WriteFile(log, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := c.run(t, "audit", "verify", log); code == 0 {
		t.Fatal("verify accepts the altered entry")
	}
	for range 2 {
		c.perch(t, "status", "--rule-arn", rule)
		if code, _, _ := c.run(t, "audit", "verify", log); code == 0 {
			t.Fatal("after perch status, verify says ok: the evidence was repaired away")
		}
	}
	if after, _ := os.ReadFile(log); !bytes.HasPrefix(after, tampered) {
		t.Fatal("the altered entry was rewritten")
	}
}
