package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVerify feeds arbitrary file contents to Verify and ReadAll (which must
// never panic), and checks that Open always leaves a log that takes an Append
// and that a log that verified still verifies after one.
func FuzzVerify(f *testing.F) {
	_, good := writeLog(f, 3)
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add([]byte{})
	f.Add([]byte("\n"))
	f.Add([]byte("{}\n"))
	f.Add(bytes.Replace(good, []byte(`"seq"`), []byte(`"Seq"`), 1))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, verr := Verify(path)
		if verr == nil && rep.Entries > 0 && rep.LastSeq != int64(rep.Entries) {
			t.Fatalf("report %+v inconsistent", rep)
		}
		ReadAll(path)

		l, err := Open(path)
		if err != nil {
			return // only for very long unterminated tails, which Open refuses to drop
		}
		defer l.Close()
		e, err := l.Append(sample(0))
		if err != nil {
			t.Fatalf("append after open: %v", err)
		}
		if verr == nil {
			if e.Seq != rep.LastSeq+1 || e.Prev != rep.LastHash {
				t.Fatalf("appended seq %d prev %q after %+v", e.Seq, e.Prev, rep)
			}
			mustVerify(t, path, rep.Entries+1)
		}
	})
}
