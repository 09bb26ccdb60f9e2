package main

import (
	"net"
	"syscall"
)

// socketBuffers reads back the UDP socket's buffer sizes as the kernel
// reports them (twice what was asked for, bookkeeping included), as
// peer/direct does.
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
	for _, e := range []error{rerr, serr} {
		if err == nil {
			err = e
		}
	}
	return rcv, snd, err
}
