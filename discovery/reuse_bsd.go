//go:build unix && !linux

package discovery

import "golang.org/x/sys/unix"

// reusePort sets SO_REUSEADDR and SO_REUSEPORT, which the BSDs and macOS
// (Bonjour's mDNSResponder) need to share UDP port 5353.
func reusePort(fd uintptr) error {
	if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return err
	}
	return unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
}
