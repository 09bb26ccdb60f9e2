package home

import (
	"errors"
	"fmt"
	"os"
)

// errWouldBlock is what lockExclusive returns when another process holds the lock.
var errWouldBlock = errors.New("lock held by another process")

// Lock takes the directory's lock file, so that only one daemon runs for a
// user. The lock belongs to the open file (flock on Unix, LockFileEx on
// Windows): the system drops it when the process dies, however it dies,
// so there is never a stale lock to clean up.
func (h *Home) Lock() (unlock func(), err error) {
	f, err := os.OpenFile(h.path(lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := lockExclusive(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, h.dir)
		}
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	return func() {
		unlockExclusive(f)
		f.Close()
	}, nil
}
