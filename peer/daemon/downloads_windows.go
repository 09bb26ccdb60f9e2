package daemon

import "golang.org/x/sys/windows"

// userDownloads is the user's Downloads known folder (wherever the user
// moved it), or "" if the system cannot say.
func userDownloads() string {
	dir, err := windows.KnownFolderPath(windows.FOLDERID_Downloads, 0)
	if err != nil {
		return ""
	}
	return dir
}
