//go:build !linux && !darwin && !freebsd && !openbsd && !netbsd

package direct

import (
	"errors"
	"net"
)

// bufferHint has no advice for this system.
func bufferHint() string { return "" }

// socketBuffers cannot read buffer sizes on this system.
func socketBuffers(*net.UDPConn) (rcv, snd int, err error) {
	return 0, 0, errors.New("not supported on this system")
}
