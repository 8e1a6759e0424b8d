package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/perch-dev/perch/model"
)

// GenesisHash is the Prev of the first entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// maxLine bounds one entry's JSON line. Entries are a few hundred bytes; the
// bound keeps a damaged file (say, megabytes without a newline) from being
// read into memory whole, and caps what crash recovery may ever drop.
const maxLine = 64 << 10

var (
	errNotCanonical = errors.New("not byte-for-byte what perch writes: the entry was modified")
	errHash         = errors.New("hash mismatch: the entry was modified")
)

// hashOf is the hex SHA-256 of e's JSON encoding with Hash empty.
func hashOf(e model.AuditEntry) (string, error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// seal computes e's hash and returns the entry as it will read back, with its
// line (no newline). The entry is first passed through JSON once so that what
// is hashed and returned is exactly what a reader decodes: the monotonic clock
// reading, a sub-minute zone offset or invalid UTF-8 would otherwise make the
// in-memory entry differ from the stored one.
func seal(e model.AuditEntry) (model.AuditEntry, []byte, error) {
	e.Hash = ""
	raw, err := json.Marshal(e)
	if err != nil {
		return model.AuditEntry{}, nil, fmt.Errorf("encode entry: %w", err)
	}
	var norm model.AuditEntry
	if err := json.Unmarshal(raw, &norm); err != nil {
		return model.AuditEntry{}, nil, fmt.Errorf("decode entry back: %w", err)
	}
	if norm.Hash, err = hashOf(norm); err != nil {
		return model.AuditEntry{}, nil, fmt.Errorf("hash entry: %w", err)
	}
	line, err := json.Marshal(norm)
	if err != nil {
		return model.AuditEntry{}, nil, fmt.Errorf("encode entry: %w", err)
	}
	// Never write a line that Verify would reject.
	if _, err := checkLine(line); err != nil {
		return model.AuditEntry{}, nil, fmt.Errorf("entry does not survive a JSON round trip: %w", err)
	}
	return norm, line, nil
}

// decodeLine parses one line (no newline) without judging it.
func decodeLine(line []byte) (model.AuditEntry, error) {
	var e model.AuditEntry
	if err := json.Unmarshal(line, &e); err != nil {
		return model.AuditEntry{}, err
	}
	return e, nil
}

// checkLine parses a line and checks it on its own: it is exactly the bytes
// perch would write for the entry it decodes to (encoding/json accepts keys in
// any case, unknown keys and duplicates, none of which the hash would see),
// and its hash is right.
func checkLine(line []byte) (model.AuditEntry, error) {
	e, err := decodeLine(line)
	if err != nil {
		return model.AuditEntry{}, fmt.Errorf("not a JSON audit entry: %w", err)
	}
	again, err := json.Marshal(e)
	if err != nil || !bytes.Equal(again, line) {
		return e, errNotCanonical
	}
	want, err := hashOf(e)
	if err != nil {
		return e, fmt.Errorf("hash entry: %w", err)
	}
	if e.Hash != want {
		return e, errHash
	}
	return e, nil
}
