package home

import "golang.org/x/sys/windows"

// syncDir flushes dir's entries where the file system allows it: a
// directory handle needs write access for FlushFileBuffers, which NTFS
// grants and others may refuse. NTFS journals the rename itself, and the
// file's data was flushed before it took its name, so a refusal is not
// an error.
func syncDir(dir string) error {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return nil
	}
	defer windows.CloseHandle(h)
	windows.FlushFileBuffers(h)
	return nil
}
