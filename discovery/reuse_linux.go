package discovery

import "golang.org/x/sys/unix"

// reusePort sets SO_REUSEADDR, which on Linux is how every mDNS program
// (avahi-daemon among them) shares UDP port 5353: each receives the
// group's traffic.
func reusePort(fd uintptr) error {
	return unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
}
