//go:build unix

package home

import (
	"errors"
	"os"
	"syscall"
)

// lockExclusive takes an exclusive flock on f without waiting.
func lockExclusive(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errWouldBlock
	}
	return err
}

func unlockExclusive(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
