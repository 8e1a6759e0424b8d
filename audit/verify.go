package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/perch-dev/perch/model"
)

// VerifyReport summarises the entries that verified, up to the first problem.
type VerifyReport struct {
	Entries  int
	LastSeq  int64
	LastHash string
	// HeadSeq is the entry whose hash is the head VerifyHead was given
	// (0: not given, or the empty log's genesis head).
	HeadSeq int64
}

// HeadError says the head a log was checked against is not in it: the
// chain is intact, but entries were cut off the end (or the log is another
// one).
type HeadError struct {
	Head     string
	Entries  int
	LastHash string
}

func (e *HeadError) Error() string {
	return fmt.Sprintf("head %s is not in the log, which ends at entry %d (hash %.12s): entries after it were cut off, or this is another log",
		e.Head, e.Entries, e.LastHash)
}

// MinHeadLen is the shortest head prefix VerifyHead takes: what the
// cockpit shows.
const MinHeadLen = 12

// CheckHead reports whether head is a usable hash prefix.
func CheckHead(head string) error {
	if len(head) < MinHeadLen || len(head) > len(GenesisHash) || strings.Trim(strings.ToLower(head), "0123456789abcdef") != "" {
		return fmt.Errorf("head %q: want %d to %d hex digits of an entry's hash, as the cockpit shows it", head, MinHeadLen, len(GenesisHash))
	}
	return nil
}

// ChainError is what Verify finds wrong with a log, as opposed to failing
// to read it: callers tell the two apart with errors.As (a tampered log and a
// missing one deserve different exit codes).
type ChainError struct {
	Entry   int    // position of the bad entry, 1-based: the Seq it should have
	Line    int    // its line in the file
	Problem string // what is wrong, one line
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("entry %d (line %d): %s", e.Entry, e.Line, e.Problem)
}

// lineReader yields a file's lines one at a time, bounded by maxLine, and
// says whether each ended with a newline (the last may not: a torn write).
type lineReader struct {
	r   *bufio.Reader
	n   int // lines read so far
	buf []byte
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes: not an audit entry", maxLine)

// next returns io.EOF when nothing is left. On errLineTooLong the reader is
// not usable any more.
func (lr *lineReader) next() (line []byte, complete bool, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.buf = append(lr.buf, chunk...)
		if len(lr.buf) > maxLine+1 {
			lr.n++
			return nil, false, errLineTooLong
		}
		switch {
		case err == nil:
			lr.n++
			return lr.buf[:len(lr.buf)-1], true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(lr.buf) == 0 {
				return nil, false, io.EOF
			}
			lr.n++
			return lr.buf, false, nil
		default:
			return nil, false, err
		}
	}
}

// openShared opens path for reading under a shared lock, so a reader never
// sees an append that is half copied into the file.
func openShared(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f, false); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// Verify checks the whole chain in path: every line is an entry exactly as
// perch writes it, Seq counts up by one from 1, each Prev is the previous
// entry's Hash (the first's is GenesisHash), and each Hash is right. The
// error names the first bad entry by its position (which is also the Seq it
// should have) and its line. The report covers the entries before it.
func Verify(path string) (VerifyReport, error) { return VerifyHead(path, "") }

// VerifyHead is Verify that also checks the log reaches head, a hash (or
// its first MinHeadLen or more hex digits) seen earlier in the cockpit, an
// export or a pair's screen: a log whose newest entries were cut off
// still verifies on its own, but no longer holds that head. A log that
// grew since is fine: the head is found further up.
func VerifyHead(path, head string) (VerifyReport, error) {
	if head != "" {
		if err := CheckHead(head); err != nil {
			return VerifyReport{LastHash: GenesisHash}, fmt.Errorf("verify audit log %s: %w", path, err)
		}
	}
	f, err := openShared(path)
	if err != nil {
		return VerifyReport{LastHash: GenesisHash}, fmt.Errorf("verify audit log: %w", err)
	}
	defer f.Close()
	rep, err := verifyFrom(f, strings.ToLower(head))
	if err != nil {
		return rep, fmt.Errorf("verify audit log %s: %w", path, err)
	}
	return rep, nil
}

func verifyFrom(r io.Reader, head string) (VerifyReport, error) {
	rep, err := verifyChain(r, head)
	if err == nil && head != "" && rep.HeadSeq == 0 && !strings.HasPrefix(GenesisHash, head) {
		return rep, &HeadError{Head: head, Entries: rep.Entries, LastHash: rep.LastHash}
	}
	return rep, err
}

func verifyChain(r io.Reader, head string) (VerifyReport, error) {
	rep := VerifyReport{LastHash: GenesisHash}
	lr := &lineReader{r: bufio.NewReaderSize(r, 32<<10)}
	for {
		line, complete, err := lr.next()
		if errors.Is(err, io.EOF) {
			return rep, nil
		}
		n := lr.n
		bad := func(format string, args ...any) (VerifyReport, error) {
			return rep, &ChainError{Entry: n, Line: n, Problem: fmt.Sprintf(format, args...)}
		}
		switch {
		case errors.Is(err, errLineTooLong):
			return bad("%v", err)
		case err != nil:
			return rep, fmt.Errorf("read line %d: %w", n, err)
		case !complete:
			return bad("incomplete last line (no newline): a write was interrupted; opening the log drops it")
		}
		e, err := checkLine(line)
		if err != nil {
			return bad("%v", err)
		}
		if e.Seq != int64(n) {
			return bad("seq is %d, want %d: entries are missing, duplicated or out of order", e.Seq, n)
		}
		if e.Prev != rep.LastHash {
			if n == 1 {
				return bad("prev is not the genesis hash: the log does not start at its first entry")
			}
			return bad("prev does not match entry %d's hash: the chain is broken", n-1)
		}
		rep.Entries, rep.LastSeq, rep.LastHash = n, e.Seq, e.Hash
		if head != "" && strings.HasPrefix(e.Hash, head) {
			rep.HeadSeq = e.Seq
		}
	}
}

// ReadAll decodes every entry in path, oldest first, without checking the
// chain (that is Verify's job). An incomplete last line is skipped: it was
// never acknowledged. A complete line that does not decode is an error; the
// entries before it are returned with it.
func ReadAll(path string) ([]model.AuditEntry, error) {
	f, err := openShared(path)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer f.Close()

	var out []model.AuditEntry
	lr := &lineReader{r: bufio.NewReaderSize(f, 32<<10)}
	for {
		line, complete, err := lr.next()
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case err != nil:
			return out, fmt.Errorf("read audit log %s: line %d: %w", path, lr.n, err)
		case !complete:
			return out, nil
		}
		e, err := decodeLine(line)
		if err != nil {
			return out, fmt.Errorf("read audit log %s: line %d: %w", path, lr.n, err)
		}
		out = append(out, e)
	}
}
