package home

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Lock takes the directory's lock file, so that only one daemon runs for a
// user. The lock is an flock: the kernel drops it when the process dies,
// however it dies, so there is never a stale lock to clean up.
func (h *Home) Lock() (unlock func(), err error) {
	f, err := os.OpenFile(h.path(lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, h.dir)
		}
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
