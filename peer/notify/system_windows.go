package notify

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Open finds Windows PowerShell, which shows toasts through the
// Windows.UI.Notifications runtime (Windows 10 and later).
func Open() (System, error) {
	path := filepath.Join(os.Getenv("SystemRoot"), "System32", "WindowsPowerShell", "v1.0", "powershell.exe")
	if _, err := os.Stat(path); err != nil {
		if path, err = exec.LookPath("powershell.exe"); err != nil {
			return nil, fmt.Errorf("powershell: %w", err)
		}
	}
	return Toast(path), nil
}
