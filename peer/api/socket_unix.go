//go:build unix

package api

import (
	"errors"
	"os"
	"syscall"
)

// restrictSocket sets the socket file's mode to 0600: connecting needs
// write access to it.
func restrictSocket(path string) error { return os.Chmod(path, 0o600) }

// refused reports a socket file nothing listens on.
func refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// noListener reports a dial that found no daemon: no socket file, or a
// stale one.
func noListener(err error) bool { return errors.Is(err, syscall.ENOENT) || refused(err) }
