package daemon

import (
	"fmt"

	"github.com/lanchat/lanchat/peer/api"
)

// responder is the system's own mDNS responder, which shares UDP port
// 5353 with lanchat's: mDNSResponder on macOS, Apple's Bonjour service on
// Windows (responder_*.go).
type responder struct {
	name    string // "" where the system has none to check
	running bool
	detail  string // how it was found, or why it could not be
}

// checkResponder says whether lanchat's mDNS shares port 5353 with the
// system's responder; nothing where there is none to check.
func (dr *doctor) checkResponder() []api.Check {
	r := systemResponder()
	if r.name == "" || dr.noMDNS {
		return nil
	}
	var blocked error
	if _, ann := dr.lan.current(); ann != nil {
		blocked = ann.Blocked()
	}
	return []api.Check{responderCheck(r, blocked)}
}

// responderCheck judges r given lanchat's own announcer error.
func responderCheck(r responder, blocked error) api.Check {
	c := api.Check{Name: "mdns responder"}
	switch {
	case r.running && blocked == nil:
		c.OK = true
		c.Detail = fmt.Sprintf("%s runs (%s) and shares UDP port 5353 with lanchat", r.name, r.detail)
	case r.running:
		c.Detail = fmt.Sprintf("%s runs (%s), and lanchat cannot announce beside it: %v", r.name, r.detail, blocked)
		c.Fix = "restart the lanchat daemon; if it stays, another program holds port 5353 without sharing it. Contacts are still reached through the server"
	case blocked != nil:
		c.Detail = fmt.Sprintf("%s does not run (%s), and lanchat cannot announce: %v", r.name, r.detail, blocked)
		c.Fix = "another program holds UDP port 5353 without sharing it; contacts are still reached through the server"
	default:
		c.OK, c.Warn = true, r.warnIfStopped()
		c.Detail = fmt.Sprintf("%s does not run (%s); lanchat answers mDNS itself", r.name, r.detail)
	}
	return c
}
