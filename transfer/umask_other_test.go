//go:build !unix

package transfer

// umaskSet does nothing: this system has no umask.
func umaskSet(m int) int { return m }
