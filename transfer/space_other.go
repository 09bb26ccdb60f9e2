//go:build !(linux || darwin || freebsd)

package transfer

import (
	"errors"
	"syscall"
)

// freeSpace cannot tell free space on this system; the receiver then
// relies on ErrDiskFull during the transfer.
func freeSpace(string) (int64, bool) { return 0, false }

// isDiskFull reports a write that failed for lack of space.
func isDiskFull(err error) bool { return errors.Is(err, syscall.ENOSPC) }
