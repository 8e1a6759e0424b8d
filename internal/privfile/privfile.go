// Package privfile opens the files perch keeps for its user alone (the
// audit log, the diagnostic log, the SSH host key) so that nobody else can
// steer where they go: never through a symbolic link, and never in a
// directory that another user can write, where the file could be replaced,
// removed or swapped for a link between two runs.
package privfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// CheckDir refuses a directory that users other than this one (and root)
// can write: one writable by group or others, or owned by someone else,
// who could make it so.
func CheckDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("check directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("directory %s can be written by other users (mode %04o), who could replace what perch keeps there: run chmod go-w %s, or choose another path", dir, perm, dir)
	}
	if uid, ok := ownedByUs(fi); !ok {
		return fmt.Errorf("directory %s belongs to another user (uid %d), who could replace what perch keeps there: choose another path", dir, uid)
	}
	return nil
}

// ErrSymlink is returned for a path that is a symbolic link.
var ErrSymlink = errors.New("is a symbolic link: perch keeps this file only where it is, never behind a link")

// Open opens path with flag (os.O_*) without following a symbolic link in
// its last element, and refuses anything but a regular file. It does not
// check the directory: call CheckDir first.
func Open(path string, flag int, perm fs.FileMode) (*os.File, error) {
	// Looked at before opening too: opening a FIFO for writing would wait
	// for a reader.
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("%s %w", path, ErrSymlink)
		case !fi.Mode().IsRegular():
			return nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
		}
	}
	f, err := os.OpenFile(path, flag|noFollow, perm)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s %w", path, ErrSymlink)
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	return f, nil
}
