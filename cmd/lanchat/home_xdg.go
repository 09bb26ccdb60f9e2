//go:build unix && !darwin

package main

import (
	"errors"
	"os"
	"path/filepath"
)

// systemHome is $XDG_DATA_HOME/lanchat, else ~/.local/share/lanchat.
func systemHome(getenv func(string) string) (string, error) {
	// The XDG spec says to ignore a relative XDG_DATA_HOME.
	if xdg := getenv("XDG_DATA_HOME"); filepath.IsAbs(xdg) {
		return filepath.Join(xdg, "lanchat"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", err
		}
	}
	if home == "" {
		return "", errors.New("no home directory")
	}
	return filepath.Join(home, ".local", "share", "lanchat"), nil
}
