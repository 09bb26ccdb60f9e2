//go:build linux || darwin || freebsd || openbsd || netbsd

package direct

import (
	"net"
	"runtime"
	"syscall"
)

// bufferHint tells an administrator how to raise the kernel's limit to
// about 7.5 MB (BSD kernels need some 15% on top for bookkeeping).
func bufferHint() string {
	if runtime.GOOS == "linux" {
		return "sysctl -w net.core.rmem_max=7500000 net.core.wmem_max=7500000"
	}
	return "sysctl -w kern.ipc.maxsockbuf=8441037"
}

// socketBuffers returns the kernel's view of the socket's receive and
// send buffer sizes. Linux reports twice the size asked for, bookkeeping
// included; quic-go's own check counts the same way.
func socketBuffers(udp *net.UDPConn) (rcv, snd int, err error) {
	raw, err := udp.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var rerr, serr error
	err = raw.Control(func(fd uintptr) {
		rcv, rerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		snd, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
	})
	if err == nil {
		err = rerr
	}
	if err == nil {
		err = serr
	}
	return rcv, snd, err
}
