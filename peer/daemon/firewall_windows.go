package daemon

import (
	"fmt"
	"os"
)

// firewallFix names the Windows Defender Firewall rule that lets contacts
// on private networks reach the UDP port (and mDNS on 5353), for an
// administrator's PowerShell or command prompt.
func firewallFix(port int) string {
	exe, err := os.Executable()
	if err != nil {
		exe = "lanchat.exe"
	}
	return fmt.Sprintf("if contacts cannot connect, allow lanchat through Windows Defender Firewall on private networks; as administrator: "+
		`netsh advfirewall firewall add rule name="lanchat" dir=in action=allow program="%s" protocol=UDP localport=%d,5353 profile=private`, exe, port)
}
