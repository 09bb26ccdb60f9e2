//go:build linux || darwin || freebsd

package transfer

import (
	"errors"
	"syscall"
)

// freeSpace returns the bytes an unprivileged user may still write on
// the file system holding dir; ok is false if that cannot be told.
func freeSpace(dir string) (free int64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(uint64(st.Bavail) * uint64(st.Bsize)), true
}

// isDiskFull reports a write that failed for lack of space or quota.
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
