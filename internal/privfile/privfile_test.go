//go:build unix

package privfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCheckDir(t *testing.T) {
	private := t.TempDir()
	if err := CheckDir(private); err != nil {
		t.Fatalf("a 0700 directory of ours: %v", err)
	}
	for _, mode := range []os.FileMode{0o1777, 0o775, 0o757} {
		d := filepath.Join(t.TempDir(), "d")
		os.Mkdir(d, 0o700)
		os.Chmod(d, mode)
		if err := CheckDir(d); err == nil || !strings.Contains(err.Error(), "chmod go-w") {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
}

func TestOpenRefusesLinksAndOddFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	if _, err := Open(link, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); !errors.Is(err, ErrSymlink) {
		t.Errorf("a link: %v", err)
	}
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	if _, err := Open(dangling, os.O_WRONLY|os.O_CREATE, 0o600); !errors.Is(err, ErrSymlink) {
		t.Errorf("a dangling link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("opening a dangling link created its target")
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Would wait for a reader forever if opened.
	if _, err := Open(fifo, os.O_WRONLY|os.O_APPEND, 0o600); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO: %v", err)
	}
	if _, err := Open(dir, os.O_RDONLY, 0); err == nil {
		t.Error("opened a directory")
	}
	f, err := Open(filepath.Join(dir, "new"), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Fatalf("target changed: %q", b)
	}
}
