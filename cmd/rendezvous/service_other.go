//go:build !windows

package main

import (
	"fmt"
	"io"
)

// runAsService is for the Windows service manager; elsewhere the
// process is never one.
func runAsService([]string) (int, bool) { return 0, false }

// cmdService says where the service files for this system are.
func cmdService(_ []string, _, _ io.Writer) error {
	return fmt.Errorf("%w: rendezvous service is for Windows; on Linux install dist/systemd/rendezvous.service (a sandboxed systemd unit), on macOS dist/launchd/org.lanchat.rendezvous.plist (see the README)", errUsage)
}
