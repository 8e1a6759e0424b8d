package audit

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultPath is where perch keeps its audit log: $XDG_STATE_HOME/perch/audit.jsonl,
// else ~/.local/state/perch/audit.jsonl. The log is state (it must survive, it
// is not a cache and not configuration), hence the XDG state directory.
func DefaultPath() (string, error) {
	// The XDG spec says a relative value is invalid and must be ignored.
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "perch", "audit.jsonl"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the audit log's default path: %w", err)
	}
	return filepath.Join(home, ".local", "state", "perch", "audit.jsonl"), nil
}
