package transfer

import (
	"os"
	"path/filepath"
	"syscall"

	"github.com/lanchat/lanchat/internal/directio"
)

// openDirect opens rel under root for direct writes, following no link,
// or returns nil.
func openDirect(root *os.Root, rel string) *os.File {
	f, err := root.OpenFile(filepath.FromSlash(rel), os.O_WRONLY|directio.Flag|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil
	}
	return f
}
