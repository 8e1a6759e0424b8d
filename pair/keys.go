package pair

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"

	"github.com/perch-dev/perch/internal/privfile"
)

// AuthorizedKey is one line of an authorized_keys file.
type AuthorizedKey struct {
	Key     gossh.PublicKey
	Comment string
}

// Fingerprint is the key's SHA256 fingerprint as OpenSSH prints it.
func (k AuthorizedKey) Fingerprint() string { return gossh.FingerprintSHA256(k.Key) }

// LoadAuthorizedKeys parses an OpenSSH authorized_keys file. Any line that
// does not parse is an error naming it: a typo must not silently lock a
// colleague out, or leave the file meaning something else than it says.
// Options on a line (from=, command=...) are not honoured, so a line with
// options is refused rather than accepted more widely than written.
func LoadAuthorizedKeys(path string) ([]AuthorizedKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read authorized keys: %w", err)
	}
	var keys []AuthorizedKey
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, comment, options, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("authorized keys %s line %d: %w", path, n, err)
		}
		if len(options) > 0 {
			return nil, fmt.Errorf("authorized keys %s line %d: options (%s) are not supported; list the bare key", path, n, options[0])
		}
		keys = append(keys, AuthorizedKey{Key: key, Comment: comment})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read authorized keys %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("authorized keys %s: no keys, so nobody could connect", path)
	}
	return keys, nil
}

// LoadOrCreateHostKey reads the server's private host key from path, or
// generates an ed25519 key there (mode 0600) on first use, so clients see
// the same host key every time.
func LoadOrCreateHostKey(path string) (gossh.Signer, error) {
	// Whoever can write the key's directory can swap the key, and so pose
	// as this server to everyone who pairs with it.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create host key directory: %w", err)
	}
	if err := privfile.CheckDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return createHostKey(path)
	case err != nil:
		return nil, fmt.Errorf("read host key: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat host key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("host key %s is readable by others (mode %04o): chmod 600 it", path, st.Mode().Perm())
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("parse host key %s: %w", path, err)
	}
	return signer, nil
}

func createHostKey(path string) (gossh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "perch serve host key")
	if err != nil {
		return nil, fmt.Errorf("encode host key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create host key directory: %w", err)
	}
	// O_EXCL: two servers starting at once must not overwrite each
	// other's key after one of them has handed it out.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create host key: %w", err)
	}
	if _, err := f.Write(pem.EncodeToMemory(block)); err != nil {
		f.Close()
		return nil, fmt.Errorf("write host key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write host key: %w", err)
	}
	return gossh.NewSignerFromKey(priv)
}
