//go:build !windows

package daemon

import "fmt"

// firewallFix says how to let contacts reach the UDP port.
func firewallFix(port int) string {
	return fmt.Sprintf("if contacts cannot connect, allow incoming UDP port %d in this machine's firewall", port)
}
