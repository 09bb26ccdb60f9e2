//go:build !unix

package transfer

// processUmask returns the usual mask where the system has none.
func processUmask() int { return 0o022 }
