package main

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// systemHome is %LOCALAPPDATA%\lanchat; without the variable, the
// user's Local AppData known folder.
func systemHome(getenv func(string) string) (string, error) {
	if dir := getenv("LOCALAPPDATA"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "lanchat"), nil
	}
	dir, err := windows.KnownFolderPath(windows.FOLDERID_LocalAppData, 0)
	if err != nil {
		return "", fmt.Errorf("local application data folder: %w", err)
	}
	return filepath.Join(dir, "lanchat"), nil
}
