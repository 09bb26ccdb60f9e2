package main

import (
	"fmt"
	"path/filepath"
)

// socketName is the daemon's socket file inside the data directory.
const socketName = "daemon.sock"

// dataHome returns the user's data directory, made absolute: flagValue
// (--home) if set, else $LANCHAT_HOME, else the system's place for it
// (systemHome). getenv is os.Getenv outside tests.
func dataHome(flagValue string, getenv func(string) string) (string, error) {
	dir := flagValue
	if dir == "" {
		dir = getenv("LANCHAT_HOME")
	}
	if dir == "" {
		var err error
		if dir, err = systemHome(getenv); err != nil {
			return "", fmt.Errorf("find the data directory: %w; pass --home DIR", err)
		}
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
