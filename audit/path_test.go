package audit

import (
	"path/filepath"
	"testing"
)

func TestDefaultPath(t *testing.T) {
	t.Setenv("HOME", "/home/op")
	t.Setenv("XDG_STATE_HOME", "/var/state")
	if p, err := DefaultPath(); err != nil || p != filepath.FromSlash("/var/state/perch/audit.jsonl") {
		t.Fatalf("with XDG_STATE_HOME: %q, %v", p, err)
	}
	for _, v := range []string{"", "relative/state"} {
		t.Setenv("XDG_STATE_HOME", v)
		if p, err := DefaultPath(); err != nil || p != filepath.FromSlash("/home/op/.local/state/perch/audit.jsonl") {
			t.Fatalf("XDG_STATE_HOME=%q: %q, %v", v, p, err)
		}
	}
	t.Setenv("HOME", "")
	if _, err := DefaultPath(); err == nil {
		t.Fatal("no home and no XDG_STATE_HOME gave a path")
	}
}
