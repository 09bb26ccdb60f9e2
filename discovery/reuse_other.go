//go:build !unix

package discovery

// reusePort does nothing where there is no portable way to share a port.
func reusePort(fd uintptr) error { return nil }
