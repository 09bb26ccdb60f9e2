package rendezvous

import (
	"errors"
	"net"
	"syscall"
)

// temporaryAcceptError reports whether an Accept failure is worth retrying
// after a pause: out of descriptors, or an aborted connection.
func temporaryAcceptError(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS)
}
