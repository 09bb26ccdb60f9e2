//go:build unix

package transfer

import "syscall"

// umaskSet sets the process's umask and returns the old one.
func umaskSet(m int) int { return syscall.Umask(m) }
