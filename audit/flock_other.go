//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package audit

import (
	"errors"
	"os"
)

// Without a file lock two processes could interleave appends and fork the
// chain, so on such systems the log refuses to work rather than pretend.
var errNoLock = errors.New("file locking is not supported on this operating system")

func lockFile(*os.File, bool) error { return errNoLock }
func unlockFile(*os.File) error     { return nil }
