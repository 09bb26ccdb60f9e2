//go:build !linux

package main

import (
	"os"
	"testing"
)

// openPty skips: the tests open pseudo-terminals the Linux way only.
func openPty(t *testing.T) (ctl, tty *os.File) {
	t.Helper()
	t.Skip("pseudo-terminals are opened on Linux only")
	return nil, nil
}
