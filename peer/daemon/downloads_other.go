//go:build !windows

package daemon

import (
	"os"
	"path/filepath"
)

// userDownloads is ~/Downloads, or "" without a home directory.
func userDownloads() string {
	h, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(h, "Downloads")
}
