//go:build !windows && !darwin

package notify

// Open connects to the desktop's notification service: freedesktop
// notifications on the session bus. It fails where there is no session
// bus; then there are no notifications.
func Open() (System, error) { return Connect() }
