package pairtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Key is a client key pair for tests.
type Key struct {
	Signer gossh.Signer
	// Authorized is the public key as an authorized_keys line.
	Authorized string
	// PEM is the OpenSSH private key file, for the ssh command.
	PEM []byte
}

// NewKey generates an ed25519 key with comment as its authorized_keys comment.
func NewKey(t testing.TB, comment string) Key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, comment)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey()))) + " " + comment + "\n"
	return Key{Signer: signer, Authorized: line, PEM: pem.EncodeToMemory(block)}
}

// Fingerprint is the key's SHA256 fingerprint.
func (k Key) Fingerprint() string { return gossh.FingerprintSHA256(k.Signer.PublicKey()) }

// WriteAuthorizedKeys writes the keys as an authorized_keys file.
func WriteAuthorizedKeys(t testing.TB, path string, keys ...Key) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# perch serve test keys\n")
	for _, k := range keys {
		b.WriteString(k.Authorized)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Client is one SSH viewer with a PTY of w x h.
type Client struct {
	Screen  *Screen
	conn    *gossh.Client
	sess    *gossh.Session
	stdin   io.WriteCloser
	done    chan struct{}
	timeout time.Duration
}

// Dial connects as user with key and opens a shell on a w x h PTY
// (TERM=xterm-256color). The host key must be hostKey. The client answers
// the terminal queries a real terminal answers (background colour, device
// attributes), so the server does not wait for a timeout.
func Dial(addr, user string, key gossh.Signer, hostKey gossh.PublicKey, w, h int) (*Client, error) {
	return DialTerm(addr, user, key, hostKey, "xterm-256color", w, h)
}

// DialTerm is Dial with a chosen TERM; "" requests no PTY at all.
func DialTerm(addr, user string, key gossh.Signer, hostKey gossh.PublicKey, term string, w, h int) (*Client, error) {
	cfg := &gossh.ClientConfig{
		User:            user,
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.FixedHostKey(hostKey),
		Timeout:         10 * time.Second,
	}
	conn, err := gossh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("ssh dial %s as %s: %w", addr, user, err)
	}
	sess, err := conn.NewSession()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssh session: %w", err)
	}
	if term != "" {
		if err := sess.RequestPty(term, h, w, gossh.TerminalModes{gossh.ECHO: 0}); err != nil {
			conn.Close()
			return nil, fmt.Errorf("request pty: %w", err)
		}
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		conn.Close()
		return nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		conn.Close()
		return nil, err
	}
	stderr, err := sess.StderrPipe()
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := sess.Shell(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("start shell: %w", err)
	}
	c := &Client{Screen: NewScreen(w, h), conn: conn, sess: sess, stdin: stdin, done: make(chan struct{}), timeout: 30 * time.Second}
	go c.read(io.MultiReader(stdout, stderr))
	return c, nil
}

func (c *Client) read(r io.Reader) {
	defer close(c.done)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			// A real terminal answers these; wish asks before the program
			// starts, to pick light or dark colours.
			if bytes.Contains(chunk, []byte("\x1b]11;?")) {
				_, _ = io.WriteString(c.stdin, "\x1b]11;rgb:0000/0000/0000\x07")
			}
			if bytes.Contains(chunk, []byte("\x1b[c")) {
				_, _ = io.WriteString(c.stdin, "\x1b[?62;22c")
			}
			_, _ = c.Screen.Write(chunk)
		}
		if err != nil {
			return
		}
	}
}

// Type sends keys as typed.
func (c *Client) Type(keys string) error {
	_, err := io.WriteString(c.stdin, keys)
	return err
}

// WaitFor waits until the screen satisfies ok, or fails after the
// client's timeout with the screen in the error.
func (c *Client) WaitFor(what string, ok func(screen string) bool) (string, error) {
	deadline := time.NewTimer(c.timeout)
	defer deadline.Stop()
	for {
		s := c.Screen.String()
		if ok(s) {
			return s, nil
		}
		select {
		case <-c.Screen.Changed():
		case <-c.done:
			s := c.Screen.String()
			if ok(s) {
				return s, nil
			}
			return s, fmt.Errorf("session ended waiting for %s; screen:\n%s", what, s)
		case <-deadline.C:
			return s, fmt.Errorf("timed out after %v waiting for %s; screen:\n%s", c.timeout, what, s)
		}
	}
}

// WaitText waits until the screen contains text.
func (c *Client) WaitText(text string) (string, error) {
	return c.WaitFor(fmt.Sprintf("%q", text), func(s string) bool { return strings.Contains(s, text) })
}

// Resize tells the server the terminal is now w x h, as a client's
// window-change request does.
func (c *Client) Resize(w, h int) error { return c.sess.WindowChange(h, w) }

// Close ends the session and the connection.
func (c *Client) Close() error {
	c.sess.Close()
	return c.conn.Close()
}

// Done is closed when the server ends the session.
func (c *Client) Done() <-chan struct{} { return c.done }

// Expect waits for text on the screen and fails the test if it does not come.
func (c *Client) Expect(t testing.TB, text string) string {
	t.Helper()
	s, err := c.WaitText(text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
