package main

import (
	"errors"
	"os"
	"path/filepath"
)

// systemHome is ~/Library/Application Support/lanchat.
func systemHome(getenv func(string) string) (string, error) {
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
	return filepath.Join(home, "Library", "Application Support", "lanchat"), nil
}
