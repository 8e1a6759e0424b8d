package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplayRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	notRec := filepath.Join(dir, "audit.jsonl")
	if err := os.WriteFile(notRec, []byte(`{"seq":1}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"replay"}, "accepts 1 arg"},
		{[]string{"replay", filepath.Join(dir, "missing.gz")}, "no such file"},
		{[]string{"replay", notRec}, "not a perch recording"},
		{[]string{"replay", notRec, "--speed", "0"}, "--speed 0"},
	} {
		code, _, errOut := (&cliEnv{}).run(t, c.args...)
		if code != ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("perch %s: exit %d, stderr %q; want %d and %q", strings.Join(c.args, " "), code, errOut, ExitUsage, c.want)
		}
	}
}
