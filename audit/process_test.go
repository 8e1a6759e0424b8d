package audit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

const childEnv = "PERCH_AUDIT_TEST_CHILD"

// TestChildAppender is the body of the child processes started by
// TestTwoProcessesAppend; run directly it does nothing.
func TestChildAppender(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("only runs as a child of TestTwoProcessesAppend")
	}
	n, _ := strconv.Atoi(os.Getenv(childEnv + "_N"))
	l := openT(t, path)
	appendN(t, l, 0, n)
}

// Two perch processes (a cockpit and a headless shift) appending to one log:
// the flock, not the in-process mutex, is what keeps the chain whole.
func TestTwoProcessesAppend(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	path := filepath.Join(t.TempDir(), "a.jsonl")
	const each = 100
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildAppender$", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"="+path, childEnv+"_N="+strconv.Itoa(each))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("child: %v\n%s", err, out)
			}
		}()
	}
	l := openT(t, path)
	appendN(t, l, 0, each)
	wg.Wait()
	mustVerify(t, path, 3*each)
}
