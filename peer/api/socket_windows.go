package api

import (
	"errors"

	"golang.org/x/sys/windows"
)

// MaxSocketPath is the longest AF_UNIX socket path Windows accepts
// (sun_path is 108 bytes with its terminating NUL).
const MaxSocketPath = 107

// restrictSocket does nothing: the socket file inherits the data
// directory's access list, which grants the user alone full control
// (home.Open sets it), and connecting to an AF_UNIX socket on Windows
// needs write access to its file. Mode bits do not exist here.
func restrictSocket(string) error { return nil }

// refused reports a socket file nothing listens on.
func refused(err error) bool { return errors.Is(err, windows.WSAECONNREFUSED) }

// noListener reports a dial that found no daemon: no socket file, or a
// stale one.
func noListener(err error) bool {
	return refused(err) || errors.Is(err, windows.ERROR_FILE_NOT_FOUND) ||
		errors.Is(err, windows.ERROR_PATH_NOT_FOUND) || errors.Is(err, windows.WSAENETDOWN)
}
