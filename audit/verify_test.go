package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifyRealLog(t *testing.T) {
	path, _ := writeLog(t, 7)
	rep := mustVerify(t, path, 7)
	all, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if rep.LastHash != all[6].Hash {
		t.Fatalf("last hash %q, want %q", rep.LastHash, all[6].Hash)
	}
}

func TestVerifyEmptyAndMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(path)
	if err != nil || rep.Entries != 0 || rep.LastHash != GenesisHash {
		t.Fatalf("empty log: %+v, %v", rep, err)
	}
	_, err = Verify(filepath.Join(t.TempDir(), "missing.jsonl"))
	var ce *ChainError
	if err == nil || !errors.Is(err, os.ErrNotExist) || errors.As(err, &ce) {
		t.Fatalf("missing log: %v", err)
	}
}

// Every single-bit flip and the complement of every byte of a 5-entry log,
// including the newlines, must fail Verify naming the entry on that line or
// the next. (Any other substitution is caught for the same reason: a line
// must be the exact encoding of its entry, so a changed line is a changed
// entry, and its stored hash then no longer matches short of a SHA-256
// collision.)
func TestVerifyDetectsEveryByteFlip(t *testing.T) {
	path, good := writeLog(t, 5)
	if _, err := verifyFrom(bytes.NewReader(good), ""); err != nil {
		t.Fatal(err)
	}
	masks := []byte{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff}
	buf := make([]byte, len(good))
	line := 1
	for pos := range good {
		for _, m := range masks {
			copy(buf, good)
			buf[pos] ^= m
			_, err := verifyFrom(bytes.NewReader(buf), "")
			var ce *ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("byte %d (line %d) ^ %#02x: verify returned %v", pos, line, m, err)
			}
			if ce.Entry != line && ce.Entry != line+1 {
				t.Fatalf("byte %d (line %d) ^ %#02x: error names entry %d: %v", pos, line, m, ce.Entry, err)
			}
		}
		if good[pos] == '\n' {
			line++
		}
	}
	// The same through the file, for one flip per line.
	for i, off := 1, 0; i <= 5; i++ {
		copy(buf, good)
		buf[off+10] ^= 0x01
		if err := os.WriteFile(path, buf, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(path); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("entry %d (line %d)", i, i)) {
			t.Fatalf("flip in line %d: %v", i, err)
		}
		off += bytes.IndexByte(good[off:], '\n') + 1
	}
}

// rewrite re-seals entries after edit so that each line is self-consistent,
// the way a careful forger would, and returns the file.
func rewrite(t *testing.T, good []byte, edit func(lines [][]byte) [][]byte) []byte {
	t.Helper()
	lines := bytes.SplitAfter(bytes.TrimSuffix(good, []byte{'\n'}), []byte{'\n'})
	for i := range lines {
		lines[i] = bytes.TrimSuffix(lines[i], []byte{'\n'})
	}
	var out []byte
	for _, l := range edit(lines) {
		out = append(append(out, l...), '\n')
	}
	return out
}

func reseal(t *testing.T, line []byte, change func(m map[string]any)) []byte {
	t.Helper()
	e, err := decodeLine(line)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(e)
	var m map[string]any
	json.Unmarshal(b, &m)
	change(m)
	b, _ = json.Marshal(m)
	e, err = decodeLine(b)
	if err != nil {
		t.Fatal(err)
	}
	if e.Hash, err = hashOf(e); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(e)
	return out
}

func TestVerifyMessages(t *testing.T) {
	_, good := writeLog(t, 5)
	cases := []struct {
		name string
		edit func(lines [][]byte) [][]byte
		want string
	}{
		{"edited field", func(l [][]byte) [][]byte {
			l[2] = bytes.Replace(l[2], []byte(`"step 2"`), []byte(`"step 9"`), 1)
			return l
		}, "entry 3 (line 3): hash mismatch: the entry was modified"},
		{"resealed entry", func(l [][]byte) [][]byte {
			l[3] = reseal(t, l[3], func(m map[string]any) { m["reason"] = "forged" })
			return l
		}, "entry 5 (line 5): prev does not match entry 4's hash: the chain is broken"},
		{"resealed with new prev", func(l [][]byte) [][]byte {
			l[3] = reseal(t, l[3], func(m map[string]any) { m["prev"] = GenesisHash })
			return l
		}, "entry 4 (line 4): prev does not match entry 3's hash: the chain is broken"},
		{"deleted entry", func(l [][]byte) [][]byte {
			return append(l[:1], l[2:]...)
		}, "entry 2 (line 2): seq is 3, want 2"},
		{"swapped entries", func(l [][]byte) [][]byte {
			l[1], l[2] = l[2], l[1]
			return l
		}, "entry 2 (line 2): seq is 3, want 2"},
		{"head cut off", func(l [][]byte) [][]byte {
			return l[1:]
		}, "entry 1 (line 1): seq is 2, want 1"},
		{"head cut and renumbered", func(l [][]byte) [][]byte {
			l[1] = reseal(t, l[1], func(m map[string]any) { m["seq"] = 1 })
			return l[1:]
		}, "entry 1 (line 1): prev is not the genesis hash"},
		{"key case changed", func(l [][]byte) [][]byte {
			l[0] = bytes.Replace(l[0], []byte(`"seq"`), []byte(`"SEQ"`), 1)
			return l
		}, "entry 1 (line 1): not byte-for-byte what perch writes"},
		{"extra key", func(l [][]byte) [][]byte {
			l[1] = bytes.Replace(l[1], []byte(`{`), []byte(`{"token":"secret",`), 1)
			return l
		}, "entry 2 (line 2): not byte-for-byte what perch writes"},
		{"blank line", func(l [][]byte) [][]byte {
			return append(l[:2], append([][]byte{nil}, l[2:]...)...)
		}, "entry 3 (line 3): not a JSON audit entry"},
		{"huge line", func(l [][]byte) [][]byte {
			l[4] = bytes.Repeat([]byte{' '}, maxLine+5)
			return l
		}, "entry 5 (line 5): line longer than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := rewrite(t, good, tc.edit)
			rep, err := verifyFrom(bytes.NewReader(bad), "")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
			var ce *ChainError
			if !errors.As(err, &ce) || rep.Entries != ce.Entry-1 {
				t.Fatalf("report %+v before error %v", rep, err)
			}
		})
	}
}

func TestReadAll(t *testing.T) {
	path, good := writeLog(t, 3)
	os.WriteFile(path, append(good, `{"seq":4,"ti`...), 0o600)
	all, err := ReadAll(path)
	if err != nil || len(all) != 3 {
		t.Fatalf("torn last line: %d entries, %v", len(all), err)
	}
	os.WriteFile(path, append(good, "oops\n"...), 0o600)
	all, err = ReadAll(path)
	if err == nil || !strings.Contains(err.Error(), "line 4") || len(all) != 3 {
		t.Fatalf("bad line: %d entries, %v", len(all), err)
	}
	if _, err := ReadAll(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}

func TestHeadFollowsEveryWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	a, b := openT(t, path), openT(t, path)
	if seq, hash, err := a.Head(); err != nil || seq != 0 || hash != GenesisHash {
		t.Fatalf("empty log's head: %d %q %v", seq, hash, err)
	}
	appendN(t, a, 0, 2)
	last := appendN(t, b, 2, 1)[0]
	seq, hash, err := a.Head()
	if err != nil || seq != 3 || hash != last.Hash {
		t.Fatalf("a's head after b appended: %d %.12s %v, want 3 %.12s", seq, hash, err, last.Hash)
	}
}

// A log whose newest entries were cut off still verifies on its own;
// given the head the cockpit showed, verify names the cut.
func TestVerifyHeadCatchesACutTail(t *testing.T) {
	path, good := writeLog(t, 6)
	l := openT(t, path)
	_, head, err := l.Head()
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	short := head[:MinHeadLen]
	for _, h := range []string{head, short, strings.ToUpper(short)} {
		if rep, err := VerifyHead(path, h); err != nil || rep.HeadSeq != 6 {
			t.Fatalf("intact log against its own head %s: %+v %v", h, rep, err)
		}
	}
	lines := bytes.SplitAfter(good, []byte{'\n'})
	cut := bytes.Join(lines[:4], nil)
	if err := os.WriteFile(path, cut, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(path); err != nil {
		t.Fatalf("test setup: the cut log should verify on its own: %v", err)
	}
	_, err = VerifyHead(path, short)
	var he *HeadError
	if !errors.As(err, &he) || he.Entries != 4 || !strings.Contains(err.Error(), "cut off") {
		t.Fatalf("cut log against the old head: %v", err)
	}

	// Grown since the head was seen: fine, and it says where the head is.
	path2, _ := writeLog(t, 3)
	l2 := openT(t, path2)
	_, h3, _ := l2.Head()
	appendN(t, l2, 3, 2)
	if rep, err := VerifyHead(path2, h3[:20]); err != nil || rep.HeadSeq != 3 || rep.Entries != 5 {
		t.Fatalf("grown log: %+v %v", rep, err)
	}
	for _, bad := range []string{"abc", "zzzzzzzzzzzzzzzz", strings.Repeat("a", 65)} {
		if _, err := VerifyHead(path2, bad); err == nil || errors.As(err, &he) {
			t.Errorf("head %q: %v, want a usage error", bad, err)
		}
	}
}
