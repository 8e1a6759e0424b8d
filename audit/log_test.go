package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perch-dev/perch/model"
)

func TestAppendReopenAppendChains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "perch", "audit.jsonl")
	l := openT(t, path)
	first := appendN(t, l, 0, 3)
	if first[0].Seq != 1 || first[0].Prev != GenesisHash {
		t.Fatalf("first entry: seq %d prev %q", first[0].Seq, first[0].Prev)
	}
	for i := 1; i < len(first); i++ {
		if first[i].Seq != int64(i+1) || first[i].Prev != first[i-1].Hash {
			t.Fatalf("entry %d: seq %d prev %q, want prev %q", i+1, first[i].Seq, first[i].Prev, first[i-1].Hash)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l2 := openT(t, path)
	if l2.RecoveredPartial() {
		t.Fatal("clean log reported a recovered partial line")
	}
	if got := l2.Tail(10); len(got) != 3 || got[2].Hash != first[2].Hash {
		t.Fatalf("tail after reopen: %+v", got)
	}
	more := appendN(t, l2, 3, 2)
	if more[0].Seq != 4 || more[0].Prev != first[2].Hash {
		t.Fatalf("after reopen: seq %d prev %q, want 4 and %q", more[0].Seq, more[0].Prev, first[2].Hash)
	}
	rep := mustVerify(t, path, 5)
	if rep.LastHash != more[1].Hash {
		t.Fatalf("report last hash %q, want %q", rep.LastHash, more[1].Hash)
	}

	all, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	want := append(first, more...)
	if len(all) != len(want) {
		t.Fatalf("read %d entries, want %d", len(all), len(want))
	}
	for i := range want {
		a, _ := json.Marshal(all[i])
		b, _ := json.Marshal(want[i])
		if !bytes.Equal(a, b) {
			t.Fatalf("entry %d read back as\n%s\nwant\n%s", i+1, a, b)
		}
	}
}

func TestAppendKeepsTimeAndFillsZero(t *testing.T) {
	l := openT(t, filepath.Join(t.TempDir(), "a.jsonl"))
	zone := time.FixedZone("CET", 3600)
	given := time.Date(2024, 1, 2, 3, 4, 5, 6, zone)
	e, err := l.Append(model.AuditEntry{Time: given, Action: "shift", Phase: model.PhaseIntent})
	if err != nil {
		t.Fatal(err)
	}
	if !e.Time.Equal(given) {
		t.Fatalf("time %v, want %v", e.Time, given)
	}
	before := time.Now().UTC()
	e, err = l.Append(model.AuditEntry{Action: "drift", Phase: model.PhaseEvent})
	if err != nil {
		t.Fatal(err)
	}
	if e.Time.Location() != time.UTC || e.Time.Before(before.Add(-time.Second)) || e.Time.After(time.Now().Add(time.Second)) {
		t.Fatalf("zero time became %v, want about now in UTC", e.Time)
	}
	// Caller-supplied chain fields are ignored.
	e, err = l.Append(model.AuditEntry{Seq: 99, Prev: "x", Hash: "y", Time: given})
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 3 || e.Prev == "x" || e.Hash == "y" {
		t.Fatalf("caller chain fields survived: %+v", e)
	}
	mustVerify(t, l.Path(), 3)
}

func TestAppendReturnsWhatIsRead(t *testing.T) {
	// Invalid UTF-8 and a sub-minute zone offset change in a JSON round
	// trip; the returned entry must already be the changed one.
	l := openT(t, filepath.Join(t.TempDir(), "a.jsonl"))
	odd := time.FixedZone("LMT", 561)
	e, err := l.Append(model.AuditEntry{Time: time.Date(1900, 1, 1, 0, 0, 0, 0, odd), Detail: "bad \xff byte <&>"})
	if err != nil {
		t.Fatal(err)
	}
	all, err := ReadAll(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(all[0])
	b, _ := json.Marshal(e)
	if !bytes.Equal(a, b) || all[0].Detail != e.Detail {
		t.Fatalf("returned %s, file has %s", b, a)
	}
	mustVerify(t, l.Path(), 1)
}

func TestAppendRefusesUnencodableAndHuge(t *testing.T) {
	l := openT(t, filepath.Join(t.TempDir(), "a.jsonl"))
	if _, err := l.Append(model.AuditEntry{Time: t0, From: model.Pct(nanf())}); err == nil {
		t.Fatal("NaN percent was written")
	}
	if _, err := l.Append(model.AuditEntry{Time: t0, Detail: strings.Repeat("x", maxLine)}); err == nil {
		t.Fatal("oversized entry was written")
	}
	e, err := l.Append(sample(0))
	if err != nil || e.Seq != 1 {
		t.Fatalf("after refusals: seq %d, err %v", e.Seq, err)
	}
	mustVerify(t, l.Path(), 1)
}

func nanf() float64 { z := 0.0; return z / z }

func TestFileMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "perch")
	path := filepath.Join(dir, "audit.jsonl")
	openT(t, path)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("new file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("new dir mode %v (%v), want 0700", st.Mode().Perm(), err)
	}

	wide := filepath.Join(t.TempDir(), "wide.jsonl")
	if err := os.WriteFile(wide, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(wide, 0o666); err != nil {
		t.Fatal(err)
	}
	openT(t, wide)
	if st, _ := os.Stat(wide); st.Mode().Perm() != 0o600 {
		t.Fatalf("existing 0666 file left at %v, want 0600", st.Mode().Perm())
	}
}

func TestOpenRefusesNonRegular(t *testing.T) {
	if _, err := Open(t.TempDir()); err == nil {
		t.Fatal("opened a directory as an audit log")
	}
}

func TestOpenTruncatesPartialLastLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		tail string
	}{
		{"no newline", `{"seq":4,"time":"2025-03-14T09:2`},
		{"zero fill", "\x00\x00\x00\x00\x00\x00"},
		{"torn then zero fill", `{"seq":4,"ti` + "\x00\x00\x00"},
		{"a few bytes", `{"se`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, good := writeLog(t, 3)
			if err := os.WriteFile(path, append(append([]byte(nil), good...), tc.tail...), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(path); err == nil {
				t.Fatal("verify accepted a torn last line")
			}
			l := openT(t, path)
			if !l.RecoveredPartial() {
				t.Fatal("RecoveredPartial is false after dropping a torn line")
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, good) {
				t.Fatalf("after open the file is\n%q\nwant\n%q", b, good)
			}
			e, err := l.Append(sample(3))
			if err != nil || e.Seq != 4 {
				t.Fatalf("append after recovery: seq %d, err %v", e.Seq, err)
			}
			mustVerify(t, path, 4)
		})
	}
}

// Only a fragment without a newline is a torn write. A complete last line
// that is not an entry, or a fragment that is not the start of one, is
// damage or tampering: open leaves it byte for byte, appends after it, and
// verify keeps failing at it.
func TestBadLastLineIsNeverDropped(t *testing.T) {
	for _, tc := range []struct {
		name, tail string
		opens      bool
	}{
		{"unparsable with newline", "\x00\x00\x00{\"seq\":4}\n", true},
		{"bare newline", "\n", true},
		{"json null", "null\n", true},
		{"text with newline", "hello\n", true},
		{"text without newline", "hello", false},
		{"zeros then text", "\x00\x00hello", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, good := writeLog(t, 3)
			damaged := append(append([]byte(nil), good...), tc.tail...)
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := Open(path)
			if b, _ := os.ReadFile(path); !bytes.Equal(b, damaged) {
				t.Fatalf("open changed the file to\n%q\nwant\n%q", b, damaged)
			}
			if !tc.opens {
				if err == nil {
					l.Close()
					t.Fatal("opened a log ending in bytes that are no torn entry")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if l.RecoveredPartial() {
				t.Fatal("a complete line counted as a torn write")
			}
			if e, err := l.Append(sample(3)); err != nil || e.Seq != 4 {
				t.Fatalf("append after damage: seq %d, err %v", e.Seq, err)
			}
			if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, damaged) {
				t.Fatal("append rewrote the damaged line")
			}
			if _, err := Verify(path); err == nil || !strings.Contains(err.Error(), "line 4") {
				t.Fatalf("verify after append: %v, want the damaged line 4 named", err)
			}
		})
	}
}

// A last entry whose newline is all that did not land is a whole,
// verifiable entry: open keeps it and completes the line.
func TestLastEntryWithoutNewlineIsKept(t *testing.T) {
	path, good := writeLog(t, 3)
	if err := os.WriteFile(path, good[:len(good)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	l := openT(t, path)
	if b, _ := os.ReadFile(path); !bytes.Equal(b, good) {
		t.Fatalf("after open the file is\n%q\nwant\n%q", b, good)
	}
	if e, err := l.Append(sample(3)); err != nil || e.Seq != 4 {
		t.Fatalf("append: seq %d, err %v", e.Seq, err)
	}
	mustVerify(t, path, 4)
}

// Altering the last entry, so that it still parses or so that it does
// not, must stay visible to verify however often perch opens and appends
// to the log afterwards.
func TestTamperedLastEntryStaysDetected(t *testing.T) {
	for _, tc := range []struct{ name, from, to string }{
		{"still JSON", `"reason":"step 3"`, `"reason":"step 9"`},
		{"broken JSON", `"reason":"step 3"`, `"reason":"step 3`},
		{"newline removed", "}\n", "}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, good := writeLog(t, 4)
			lines := bytes.SplitAfter(good, []byte{'\n'})
			last := len(lines) - 2 // SplitAfter leaves an empty final element
			altered := bytes.Replace(lines[last], []byte(tc.from), []byte(tc.to), 1)
			if bytes.Equal(altered, lines[last]) {
				t.Fatal("test setup: nothing altered")
			}
			if tc.name == "newline removed" {
				// And the reason changed: a complete object that is not
				// the entry perch wrote, so not a torn write either.
				altered = bytes.Replace(altered, []byte(`"reason":"step 3"`), []byte(`"reason":"step 9"`), 1)
			}
			lines[last] = altered
			tampered := bytes.Join(lines, nil)
			if err := os.WriteFile(path, tampered, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(path); err == nil {
				t.Fatal("verify accepted the altered entry")
			}
			for range 2 { // two perch runs: each opens, one appends
				if l, err := Open(path); err == nil {
					l.Append(sample(4))
					l.Close()
				}
				if _, err := Verify(path); err == nil {
					t.Fatal("opening the log repaired the evidence away: verify says ok")
				}
			}
			if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, tampered) {
				t.Fatalf("the altered entry was rewritten:\n%s", b)
			}
		})
	}
}

func TestOpenRefusesToDropMuchGarbage(t *testing.T) {
	path, good := writeLog(t, 2)
	junk := bytes.Repeat([]byte{'x'}, 3*maxLine)
	if err := os.WriteFile(path, append(good, junk...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil {
		t.Fatal("open silently dropped a large unterminated tail")
	}
	if st, _ := os.Stat(path); st.Size() != int64(len(good)+len(junk)) {
		t.Fatalf("file size %d changed", st.Size())
	}
}

// A crash between write and fsync, simulated by writing half a line by hand.
func TestCrashMidWriteThenAppend(t *testing.T) {
	path, _ := writeLog(t, 4)
	all, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	next := sample(4)
	next.Seq, next.Prev = 5, all[3].Hash
	_, line, err := seal(next)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(line[:len(line)/2]); err != nil {
		t.Fatal(err)
	}
	f.Close()

	l := openT(t, path)
	if !l.RecoveredPartial() {
		t.Fatal("partial line not reported")
	}
	appendN(t, l, 4, 2)
	mustVerify(t, path, 6)
}

func TestCorruptEarlierLineIsNotRepaired(t *testing.T) {
	path, b := writeLog(t, 4)
	lines := bytes.SplitAfter(b, []byte{'\n'})
	lines[1] = []byte("{not json}\n")
	damaged := bytes.Join(lines, nil)
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	l := openT(t, path)
	if l.RecoveredPartial() {
		t.Fatal("an earlier corrupt line counted as a torn tail")
	}
	e, err := l.Append(sample(4))
	if err != nil || e.Seq != 5 {
		t.Fatalf("append past damage: seq %d, err %v", e.Seq, err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.HasPrefix(after, damaged) {
		t.Fatal("open or append rewrote earlier lines")
	}
	_, err = Verify(path)
	if err == nil || !strings.Contains(err.Error(), ": entry 2 (line 2): not a JSON audit entry") {
		t.Fatalf("verify: %v, want entry 2 named", err)
	}
}

func TestTailIsBoundedNewestLast(t *testing.T) {
	l := openT(t, filepath.Join(t.TempDir(), "a.jsonl"))
	if got := l.Tail(5); len(got) != 0 {
		t.Fatalf("tail of empty log: %v", got)
	}
	n := tailKeep*2 + 7
	for i := 0; i < n; i++ {
		if _, err := l.Append(model.AuditEntry{Time: t0, Action: "shift"}); err != nil {
			t.Fatal(err)
		}
	}
	got := l.Tail(3)
	if len(got) != 3 || got[0].Seq != int64(n-2) || got[2].Seq != int64(n) {
		t.Fatalf("tail(3) seqs %d..%d, want %d..%d", got[0].Seq, got[len(got)-1].Seq, n-2, n)
	}
	if got := l.Tail(n); len(got) != tailKeep || got[len(got)-1].Seq != int64(n) {
		t.Fatalf("tail(all) kept %d, want %d", len(got), tailKeep)
	}
	if len(l.tail) >= 2*tailKeep {
		t.Fatalf("memory kept %d entries", len(l.tail))
	}
	if l.Tail(0) != nil || l.Tail(-1) != nil {
		t.Fatal("tail of n<=0 not empty")
	}
	l.Close()
	// Reopening reads only the end of the file but still the newest tailKeep.
	l2 := openT(t, l.Path())
	got = l2.Tail(n)
	if len(got) != tailKeep || got[0].Seq != int64(n-tailKeep+1) {
		t.Fatalf("after reopen kept %d from seq %d", len(got), got[0].Seq)
	}
	mustVerify(t, l.Path(), n)
}

func TestHandlesSeeEachOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	a, b := openT(t, path), openT(t, path)
	e1, _ := a.Append(sample(0))
	e2, err := b.Append(sample(1))
	if err != nil || e2.Seq != 2 || e2.Prev != e1.Hash {
		t.Fatalf("b after a: seq %d prev %q err %v", e2.Seq, e2.Prev, err)
	}
	e3, err := a.Append(sample(2))
	if err != nil || e3.Seq != 3 || e3.Prev != e2.Hash {
		t.Fatalf("a after b: seq %d prev %q err %v", e3.Seq, e3.Prev, err)
	}
	if got := a.Tail(3); len(got) != 3 || got[1].Hash != e2.Hash {
		t.Fatalf("a's tail misses b's entry: %+v", got)
	}
	mustVerify(t, path, 3)
}

func TestAppendDropsAnotherWritersTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	l := openT(t, path)
	appendN(t, l, 0, 2)
	// Another process died mid-write after l last looked.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":3,"ti`)
	f.Close()
	e, err := l.Append(sample(2))
	if err != nil || e.Seq != 3 {
		t.Fatalf("seq %d err %v", e.Seq, err)
	}
	if !l.RecoveredPartial() {
		t.Fatal("dropped line not reported")
	}
	mustVerify(t, path, 3)
}

func TestAppendAfterExternalTruncationReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	l := openT(t, path)
	appendN(t, l, 0, 2)
	os.Truncate(path, 0)
	e, err := l.Append(sample(0))
	if err != nil || e.Seq != 1 || e.Prev != GenesisHash {
		t.Fatalf("after truncation: seq %d prev %q err %v", e.Seq, e.Prev, err)
	}
}

func TestConcurrentHandlesAndGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	logs := []*Log{openT(t, path), openT(t, path)}
	const each = 200
	var wg sync.WaitGroup
	errs := make(chan error, len(logs))
	for g, l := range logs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				e := sample(i)
				e.Detail = "writer " + string(rune('A'+g))
				if _, err := l.Append(e); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mustVerify(t, path, 2*each)
}

func TestConcurrentGoroutinesOneHandle(t *testing.T) {
	l := openT(t, filepath.Join(t.TempDir(), "a.jsonl"))
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := l.Append(sample(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	mustVerify(t, l.Path(), 100)
	if got := l.Tail(1); len(got) != 1 || got[0].Seq != 100 {
		t.Fatalf("tail: %+v", got)
	}
}

func TestClosed(t *testing.T) {
	l := openT(t, filepath.Join(t.TempDir(), "a.jsonl"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := l.Append(sample(0)); err == nil {
		t.Fatal("append after close succeeded")
	}
}

// --audit-log pointed at someone's file, or at a link to one, must leave
// it exactly as it was: same bytes, same mode.
func TestOpenLeavesOtherFilesAlone(t *testing.T) {
	dir := t.TempDir()
	victims := map[string][]byte{
		"notes.txt":   []byte("line one\nline two\nlast line\n"),
		"no-newline":  []byte("export PATH=$HOME/bin:$PATH"),
		"json-lines":  []byte("{\"a\":1}\n{\"b\":2}\n"),
		"shell-rc":    []byte("# .bashrc\nalias ll='ls -l'\n\n"),
		"binary-ish":  {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, '\n', 0, 0},
		"a-seq-field": []byte("{\"seq\":1}\n"),
	}
	for name, body := range victims {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, body, 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, name+".link")
			if err := os.Symlink(p, link); err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{p, link} {
				l, err := Open(path)
				if err == nil {
					l.Close()
					t.Errorf("%s opened as an audit log", path)
				} else if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				after, _ := os.ReadFile(p)
				st, _ := os.Stat(p)
				if !bytes.Equal(after, body) || st.Mode().Perm() != 0o644 {
					t.Fatalf("opening %s changed %s: %q mode %04o", path, name, after, st.Mode().Perm())
				}
			}
		})
	}
	// A link to a real audit log is refused too: perch writes the log only
	// where it is.
	real, good := writeLog(t, 2)
	link := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if l, err := Open(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		if l != nil {
			l.Close()
		}
		t.Errorf("a link to an audit log: %v", err)
	}
	if b, _ := os.ReadFile(real); !bytes.Equal(b, good) {
		t.Fatal("the linked log changed")
	}
}

func TestOpenRefusesADirectoryOthersCanWrite(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o1777, 0o770, 0o722} {
		dir := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		if l, err := Open(filepath.Join(dir, "audit.jsonl")); err == nil {
			l.Close()
			t.Errorf("opened a log in a directory of mode %04o", mode)
		} else if !strings.Contains(err.Error(), "can be written by other users") {
			t.Errorf("mode %04o: %v", mode, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("mode %04o: a file was created: %v", mode, entries)
		}
	}
}
