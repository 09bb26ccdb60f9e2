package daemon

import "os"

// dnssdSocket is where mDNSResponder takes DNS-SD requests while it runs.
const dnssdSocket = "/var/run/mDNSResponder"

func systemResponder() responder {
	r := responder{name: "mDNSResponder"}
	if fi, err := os.Stat(dnssdSocket); err == nil && fi.Mode()&os.ModeSocket != 0 {
		r.running, r.detail = true, "its socket "+dnssdSocket+" is there"
	} else {
		r.detail = "no socket at " + dnssdSocket
	}
	return r
}

// warnIfStopped: macOS always runs mDNSResponder; without it Bonjour
// names and AirPrint break too.
func (responder) warnIfStopped() bool { return true }
