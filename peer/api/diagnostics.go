package api

import (
	"context"
	"net/http"
)

// Diagnosis is what "lanchat doctor" shows: each check in plain words,
// with a fix for each failure.
type Diagnosis struct {
	Checks []Check `json:"checks"`
}

// Check is one diagnostic check.
type Check struct {
	// Name says what was checked ("server", "udp port", "multicast
	// eth0", "direct bob").
	Name string `json:"name"`
	// OK is false when the check failed; Warn marks a result that works
	// but is worse than it should be.
	OK   bool `json:"ok"`
	Warn bool `json:"warn,omitempty"`
	// Detail says what was found; Fix, for a failure or warning, what to
	// do about it.
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// LANPeers is what "lanchat peers" shows: the lanchat daemons seen on the
// LAN. Contacts are named; other daemons are only counted, since their
// announcements are opaque ids.
type LANPeers struct {
	// Discovery is "on", "off" (--no-mdns), "idle" (not started before
	// the first register or login) or "blocked" (multicast does not work
	// here).
	Discovery string    `json:"discovery"`
	Contacts  []LANPeer `json:"contacts"`
	Others    int       `json:"others"`
}

// LANPeer is a contact whose daemon announces itself on the LAN.
type LANPeer struct {
	User  string   `json:"user"`
	Addrs []string `json:"addrs"`
	// Connected says whether a direct connection is open now.
	Connected bool `json:"connected"`
}

// Discovery states.
const (
	DiscoveryOn      = "on"
	DiscoveryOff     = "off"
	DiscoveryBlocked = "blocked"
	// DiscoveryIdle: on, but not started: it starts with the identity
	// key (register or login).
	DiscoveryIdle = "idle"
)

// Doctor runs the daemon's diagnostic checks.
func (c *Client) Doctor(ctx context.Context) (Diagnosis, error) {
	return call[Diagnosis](ctx, c, http.MethodGet, "/v1/doctor", nil)
}

// Peers lists the lanchat daemons seen on the LAN.
func (c *Client) Peers(ctx context.Context) (LANPeers, error) {
	return call[LANPeers](ctx, c, http.MethodGet, "/v1/peers", nil)
}
