package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/perch-dev/perch/model"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// sample builds the i-th entry of a test log, varied enough to exercise every
// field the engine fills in.
func sample(i int) model.AuditEntry {
	e := model.AuditEntry{
		Time:   t0.Add(time.Duration(i) * time.Second),
		Actor:  model.Actor{ARN: "arn:aws:iam::123456789012:user/alice", OSUser: "alice", Via: "cockpit"},
		Target: "alb:app/web/50dc6c495c0c9188",
		Action: "shift",
		Phase:  model.PhaseIntent,
		From:   model.Pct(float64(i)),
		To:     model.Pct(float64(i) + 5),
		Reason: fmt.Sprintf("step %d", i),
	}
	if i%2 == 1 {
		e.Phase, e.Outcome, e.Verified, e.IntentSeq = model.PhaseOutcome, model.OutcomeOK, true, int64(i)
	}
	return e
}

func openT(t testing.TB, path string) *Log {
	t.Helper()
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func appendN(t testing.TB, l *Log, from, n int) []model.AuditEntry {
	t.Helper()
	var out []model.AuditEntry
	for i := from; i < from+n; i++ {
		e, err := l.Append(sample(i))
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

// writeLog makes a closed log of n entries and returns its path and bytes.
func writeLog(t testing.TB, n int) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 0, n)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

func mustVerify(t testing.TB, path string, entries int) VerifyReport {
	t.Helper()
	rep, err := Verify(path)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if rep.Entries != entries || rep.LastSeq != int64(entries) {
		t.Fatalf("verify: %+v, want %d entries", rep, entries)
	}
	return rep
}
