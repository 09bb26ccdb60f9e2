//go:build !linux

package transfer

import "os"

// openDirect returns nil: direct writes are used on Linux only.
func openDirect(*os.Root, string) *os.File { return nil }
