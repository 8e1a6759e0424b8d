//go:build unix

package privfile

import (
	"os"
	"syscall"
)

const noFollow = syscall.O_NOFOLLOW

func ownedByUs(fi os.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, true
	}
	return st.Uid, st.Uid == 0 || int(st.Uid) == os.Getuid()
}
