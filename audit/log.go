// Package audit is perch's append-only, hash-chained JSONL audit log. Each
// line is one model.AuditEntry whose Hash covers its own content and, through
// Prev, every entry before it, so an edit anywhere shows up in Verify. An
// entry is on disk (fsynced) before Append returns: the engine records an
// intent before it moves traffic and the outcome after.
package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/perch-dev/perch/internal/privfile"
	"github.com/perch-dev/perch/model"
)

// tailKeep is how many recent entries a Log keeps for Tail: enough for any
// audit pane, small enough to load quickly from the end of a years-old log.
const tailKeep = 512

// Log appends to one audit file. It is safe for concurrent use, and several
// Logs (in one process or several) may append to the same file: each append
// holds an exclusive flock and first catches up with whatever others wrote.
type Log struct {
	path string

	mu        sync.Mutex
	f         *os.File // nil once closed
	size      int64    // file size as of our last look; -1 forces a full reload
	lastSeq   int64
	lastHash  string
	tail      []model.AuditEntry // oldest first; trimmed to tailKeep lazily
	recovered bool
	broken    error // set when an fsync failed: the file's state is unknown
}

// Open opens (creating if needed) the log at path for appending. A final
// fragment without a newline, left by a crash mid-append, is dropped: it
// was never acknowledged. Nothing else is ever removed or rewritten: a
// complete line that is not an entry is damage (or tampering) for Verify
// to report. A file that holds no audit entries is refused untouched, as
// are a symbolic link and a directory that other users can write.
func Open(path string) (*Log, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create audit log directory %s: %w", dir, err)
	}
	if err := privfile.CheckDir(dir); err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	f, created, err := openFile(path)
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	if created {
		// The new file's directory entry must be durable too, or the first
		// acknowledged entry could vanish with it in a crash.
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, fmt.Errorf("sync audit log directory %s: %w", dir, err)
		}
	}

	l := &Log{path: path, f: f, size: -1, lastHash: GenesisHash}
	if err := lockFile(f, true); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock audit log %s: %w", path, err)
	}
	err = l.refresh()
	// Closing the file below would drop the lock anyway; on success the lock
	// must go now so other processes can append.
	_ = unlockFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	// Entries name who did what to which service; other local users have no
	// business reading them, let alone writing. Only now that the file is
	// known to be an audit log is its mode changed.
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat audit log %s: %w", path, err)
	}
	if st.Mode().Perm()&^0o600 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("tighten permissions of audit log %s to 0600: %w", path, err)
		}
	}
	return l, nil
}

func openFile(path string) (f *os.File, created bool, err error) {
	const flags = os.O_RDWR | os.O_APPEND
	f, err = privfile.Open(path, flags|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return nil, false, err
	}
	f, err = privfile.Open(path, flags, 0o600)
	return f, false, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Path is the file this log appends to.
func (l *Log) Path() string { return l.path }

// RecoveredPartial reports whether this Log has dropped an unacknowledged
// partial last line (left by a crash, its own or another process's).
func (l *Log) RecoveredPartial() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recovered
}

// Tail returns up to the newest n entries, oldest first, as of this Log's
// last look at the file (Open or Append). At most tailKeep are kept.
func (l *Log) Tail(n int) []model.AuditEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n <= 0 {
		return nil
	}
	kept := l.tail
	if len(kept) > tailKeep {
		kept = kept[len(kept)-tailKeep:]
	}
	if n > len(kept) {
		n = len(kept)
	}
	return append([]model.AuditEntry(nil), kept[len(kept)-n:]...)
}

// Head is the newest entry's sequence number and hash, after a fresh look
// at the file (other writers may have appended): what the cockpit shows so
// that a copy of the log can later be checked against it with verify
// --head, which catches entries cut off the end. An empty log's head is 0
// and GenesisHash.
func (l *Log) Head() (int64, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, "", fmt.Errorf("read the head of audit log %s: log is closed", l.path)
	}
	if err := lockFile(l.f, true); err != nil {
		return 0, "", fmt.Errorf("lock audit log %s: %w", l.path, err)
	}
	defer func() { _ = unlockFile(l.f) }()
	if err := l.refresh(); err != nil {
		return 0, "", fmt.Errorf("read the head of audit log %s: %w", l.path, err)
	}
	return l.lastSeq, l.lastHash, nil
}

// Close closes the file. Closing twice is harmless.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("close audit log %s: %w", l.path, err)
	}
	return nil
}

// Append stamps e with the next Seq, chains it to the last entry, hashes it,
// writes it as one line in one write and fsyncs. Time is kept as given (now,
// in UTC, if zero); Seq, Prev and Hash are overwritten. The returned entry is
// exactly what a reader of the file will decode. The entry is recorded only if
// the error is nil.
func (l *Log) Append(e model.AuditEntry) (model.AuditEntry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return model.AuditEntry{}, fmt.Errorf("append to audit log %s: log is closed", l.path)
	}
	if l.broken != nil {
		return model.AuditEntry{}, fmt.Errorf("append to audit log %s: %w", l.path, l.broken)
	}
	if err := lockFile(l.f, true); err != nil {
		return model.AuditEntry{}, fmt.Errorf("lock audit log %s: %w", l.path, err)
	}
	// An unlock can only fail on a bad descriptor, and closing the file
	// releases the lock regardless.
	defer func() { _ = unlockFile(l.f) }()

	if err := l.refresh(); err != nil {
		return model.AuditEntry{}, fmt.Errorf("append to audit log %s: %w", l.path, err)
	}
	e.Seq = l.lastSeq + 1
	e.Prev = l.lastHash
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	sealed, line, err := seal(e)
	if err != nil {
		return model.AuditEntry{}, fmt.Errorf("append %s entry to audit log %s: %w", e.Action, l.path, err)
	}
	if len(line) > maxLine {
		return model.AuditEntry{}, fmt.Errorf("append %s entry to audit log %s: entry is %d bytes, more than %d", e.Action, l.path, len(line), maxLine)
	}
	line = append(line, '\n')
	// One write call: a crash leaves at most one torn line at the end, which
	// the next Open (or any Append, under the lock) drops.
	if _, err := l.f.Write(line); err != nil {
		// Drop whatever part landed now; if that fails too, the next
		// refresh sees a partial line and drops it then.
		_ = l.f.Truncate(l.size)
		return model.AuditEntry{}, fmt.Errorf("write entry %d to audit log %s: %w", e.Seq, l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages
		// and cleared the error; a retry could "succeed" with the entry
		// lost. Take the line back and refuse further appends.
		_ = l.f.Truncate(l.size)
		l.broken = fmt.Errorf("an fsync failed (%v): reopen the log and check it with verify", err)
		return model.AuditEntry{}, fmt.Errorf("sync entry %d to audit log %s: %w", e.Seq, l.path, err)
	}
	l.size += int64(len(line))
	l.remember(sealed)
	return sealed, nil
}

// remember records e as the newest entry.
func (l *Log) remember(e model.AuditEntry) {
	l.lastSeq, l.lastHash = e.Seq, e.Hash
	l.tail = append(l.tail, e)
	if len(l.tail) >= 2*tailKeep {
		l.tail = append([]model.AuditEntry(nil), l.tail[len(l.tail)-tailKeep:]...)
	}
}

// refresh catches up with the file; the caller holds the flock. When the
// file only grew (another Log appended), just the new bytes are read;
// otherwise (or when it grew by a lot) the tail is read again from the end.
func (l *Log) refresh() error {
	st, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	size := st.Size()
	switch {
	case l.size >= 0 && size == l.size:
		return nil
	case l.size >= 0 && size > l.size && size-l.size <= window:
		buf := make([]byte, size-l.size)
		if _, err := l.f.ReadAt(buf, l.size); err != nil {
			return fmt.Errorf("read new entries: %w", err)
		}
		return l.ingest(l.size, buf, false)
	}
	return l.reload(size)
}

// window bounds how much of the end of the file Open reads: the last
// tailKeep entries, or less if they are huge.
const window = 4 << 20

// reload reads the last tailKeep lines (and any partial one after them).
func (l *Log) reload(size int64) error {
	l.lastSeq, l.lastHash, l.tail = 0, GenesisHash, nil
	start, newlines := size, 0
	var buf []byte
	for start > 0 && newlines <= tailKeep && len(buf) < window {
		n := min(int64(32<<10), start)
		start -= n
		chunk := make([]byte, n, n+int64(len(buf)))
		if _, err := l.f.ReadAt(chunk, start); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read the end of the log: %w", err)
		}
		newlines += bytes.Count(chunk, []byte{'\n'})
		buf = append(chunk, buf...)
	}
	if start > 0 {
		// buf starts inside an entry that lies outside the window.
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return fmt.Errorf("the last %d bytes hold no complete line: this is not an audit log", len(buf))
		}
		buf = buf[i+1:]
		start += int64(i + 1)
	}
	l.size = start
	return l.ingest(start, buf, true)
}

// ingest takes in buf, the bytes from file offset off (a line start) to the
// end of the file. whole says buf is the end of the file as Open first
// reads it, rather than what another writer appended since.
//
// Only a final fragment without a newline can be a torn write, and only
// if it looks like the start of an entry (or is the zeros some file
// systems leave after a crash): it is dropped. A fragment that is a whole
// entry lacking only its newline is kept and completed. Anything else,
// and any complete line, is left exactly as it is: a line that is not an
// entry is damage or tampering, and deleting it would hide it from Verify.
func (l *Log) ingest(off int64, buf []byte, whole bool) error {
	keep := bytes.LastIndexByte(buf, '\n') + 1 // bytes in complete lines
	lines := bytes.SplitAfter(buf[:keep], []byte{'\n'})
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	var entries []model.AuditEntry
	for _, line := range lines {
		if e, ok := entryOf(line); ok {
			entries = append(entries, e)
		}
	}
	if whole && len(lines) > 0 && len(entries) == 0 {
		return fmt.Errorf("not an audit log: none of its last %d lines is an audit entry; left as it is", len(lines))
	}
	frag := buf[keep:]
	nextSeq, prevHash := next(entries, l.lastSeq, l.lastHash)
	switch {
	case len(frag) == 0:
	case isEntry(frag):
		// Everything but the newline landed. The entry is whole and
		// verifiable: keep it rather than erase a record.
		if _, err := l.f.Write([]byte{'\n'}); err != nil {
			return fmt.Errorf("complete a last entry that lacks its newline: %w", err)
		}
		if err := l.f.Sync(); err != nil {
			return fmt.Errorf("sync after completing the last entry: %w", err)
		}
		e, _ := entryOf(frag)
		entries = append(entries, e)
		keep = len(buf) + 1
	case len(frag) > maxLine+1:
		return fmt.Errorf("the log ends in %d bytes without a newline: refusing to drop that much; left as it is", len(frag))
	case !tornEntry(frag, nextSeq, prevHash):
		if whole && len(entries) == 0 {
			return errors.New("not an audit log: it holds no audit entry; left as it is")
		}
		return fmt.Errorf("the log ends in %d bytes that are neither an entry nor a torn one: refusing to change it; check it with perch audit verify", len(frag))
	default:
		if err := l.f.Truncate(off + int64(keep)); err != nil {
			return fmt.Errorf("drop a partial last line: %w", err)
		}
		if err := l.f.Sync(); err != nil {
			return fmt.Errorf("sync after dropping a partial last line: %w", err)
		}
		l.recovered = true
	}
	for _, e := range entries {
		l.remember(e)
	}
	l.size = off + int64(keep)
	return nil
}

// tornEntry reports whether frag can be what is left of an append cut
// short: a proper prefix of the line perch would write next, which starts
// `{"seq":N,` with N the next sequence number and names prevHash as its
// prev, possibly followed or replaced by the zeros a file system may leave
// after a crash. A complete JSON value is never a proper prefix of an
// entry: that is an entry someone altered and cut the newline from.
func tornEntry(frag []byte, nextSeq int64, prevHash string) bool {
	data := bytes.TrimRight(frag, "\x00")
	if len(data) > 0 && json.Valid(data) {
		return false
	}
	start := fmt.Sprintf(`{"seq":%d,`, nextSeq)
	if len(data) <= len(start) {
		return strings.HasPrefix(start, string(data))
	}
	if !bytes.HasPrefix(data, []byte(start)) {
		return false
	}
	if _, rest, ok := bytes.Cut(data, []byte(`"prev":"`)); ok {
		n := min(len(rest), len(prevHash))
		return string(rest[:n]) == prevHash[:n]
	}
	return true
}

// next is the sequence number and prev hash of the entry after the
// newest of entries, or after seq and hash when there are none.
func next(entries []model.AuditEntry, seq int64, hash string) (int64, string) {
	if n := len(entries); n > 0 {
		return entries[n-1].Seq + 1, entries[n-1].Hash
	}
	return seq + 1, hash
}

// isEntry reports whether line (no newline) is an entry exactly as perch
// writes it.
func isEntry(line []byte) bool {
	_, err := checkLine(line)
	return err == nil
}

// entryOf decodes a line for chaining purposes. JSON such as null or {}
// decodes without error but is no entry to chain onto.
func entryOf(line []byte) (model.AuditEntry, bool) {
	e, err := decodeLine(bytes.TrimSuffix(line, []byte{'\n'}))
	return e, err == nil && e.Seq > 0 && len(e.Hash) == len(GenesisHash)
}
