package webui

import (
	"errors"
	"log/slog"
	"net"
)

// errForeignUser means a connection came from another user's process.
var errForeignUser = errors.New("connection from another user of this machine")

// ownerListener accepts only connections whose client socket belongs to
// this process's user, where the system can tell (Linux: the uid column
// of /proc/net/tcp). Loopback ports are open to every user of a machine;
// this keeps other users of a shared machine (a terminal server) away
// from the app even if a token or cookie leaked to them.
type ownerListener struct {
	net.Listener
	uid   int
	check func(local, remote *net.TCPAddr, uid int) error // socketOwnerCheck, or a test's
	log   *slog.Logger
}

// Accept returns the next connection from this user, closing others.
func (l *ownerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		local, lok := c.LocalAddr().(*net.TCPAddr)
		remote, rok := c.RemoteAddr().(*net.TCPAddr)
		if !lok || !rok {
			return c, nil
		}
		if err := l.check(local, remote, l.uid); err != nil {
			l.log.Warn("web app connection refused", "remote", remote, "err", err)
			c.Close()
			continue
		}
		return c, nil
	}
}
