package daemon

import (
	"strings"
	"testing"
)

func TestFirewallFixNamesRule(t *testing.T) {
	got := firewallFix(41641)
	for _, want := range []string{`netsh advfirewall firewall add rule name="lanchat"`, "protocol=UDP", "localport=41641,5353", "profile=private", "program="} {
		if !strings.Contains(got, want) {
			t.Errorf("fix %q lacks %q", got, want)
		}
	}
}
