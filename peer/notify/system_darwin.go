package notify

import (
	"fmt"
	"os/exec"
)

// Open finds macOS's osascript, which shows notifications in the
// Notification Center (as "Script Editor" until the user allows it).
func Open() (System, error) {
	path, err := exec.LookPath("osascript")
	if err != nil {
		return nil, fmt.Errorf("osascript: %w", err)
	}
	return Osascript(path), nil
}
