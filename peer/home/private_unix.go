//go:build unix

package home

import "os"

// makePrivate tightens a directory that others may read or write to 0700.
func makePrivate(dir string, fi os.FileInfo) error {
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return os.Chmod(dir, 0o700)
}
