package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// socketName is the daemon's socket file inside the data directory.
const socketName = "daemon.sock"

// dataHome returns the user's data directory, made absolute: flagValue
// (--home) if set, else $LANCHAT_HOME, else $XDG_DATA_HOME/lanchat, else
// ~/.local/share/lanchat. getenv is os.Getenv outside tests.
func dataHome(flagValue string, getenv func(string) string) (string, error) {
	dir := flagValue
	if dir == "" {
		dir = getenv("LANCHAT_HOME")
	}
	if dir == "" {
		// The XDG spec says to ignore a relative XDG_DATA_HOME.
		if xdg := getenv("XDG_DATA_HOME"); filepath.IsAbs(xdg) {
			dir = filepath.Join(xdg, "lanchat")
		}
	}
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			var err error
			if home, err = os.UserHomeDir(); err != nil {
				return "", fmt.Errorf("find the data directory: %w; pass --home DIR", err)
			}
		}
		if home == "" {
			return "", errors.New("find the data directory: no home directory; pass --home DIR")
		}
		dir = filepath.Join(home, ".local", "share", "lanchat")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("data directory %s: %w", dir, err)
	}
	return abs, nil
}

// socketPath is where the daemon for the data directory home listens.
func socketPath(home string) string {
	return filepath.Join(home, socketName)
}
