package home

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// makePrivate gives the directory a protected access list that grants the
// current user alone full control, inherited by everything created in it
// (files, and the daemon's AF_UNIX socket: connecting to one needs write
// access to its file). Unix mode bits mean nothing here.
func makePrivate(dir string, _ os.FileInfo) error {
	tok := windows.GetCurrentProcessToken()
	u, err := tok.GetTokenUser()
	if err != nil {
		return fmt.Errorf("current user: %w", err)
	}
	sd, err := windows.SecurityDescriptorFromString("D:P(A;OICI;FA;;;" + u.User.Sid.String() + ")")
	if err != nil {
		return fmt.Errorf("access list: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("access list: %w", err)
	}
	return windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}
