package main

import (
	"net"
	"testing"
)

// makeStale leaves a socket file at path that nobody listens on.
func makeStale(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
}
