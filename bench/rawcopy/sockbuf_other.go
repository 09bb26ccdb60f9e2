//go:build !linux

package main

import (
	"errors"
	"net"
)

// socketBuffers is only implemented where the benchmark runs.
func socketBuffers(*net.UDPConn) (int, int, error) {
	return 0, 0, errors.New("socket buffer sizes: not implemented here")
}
