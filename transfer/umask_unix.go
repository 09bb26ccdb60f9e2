//go:build unix

package transfer

import "syscall"

// processUmask returns the process's file mode creation mask. Reading
// it means setting it: for the instant between the two calls, files
// other goroutines create get the strictest mask, never a looser one.
func processUmask() int {
	m := syscall.Umask(0o077)
	syscall.Umask(m)
	return m
}
