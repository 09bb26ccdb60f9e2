package discovery_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"time"

	"github.com/lanchat/lanchat/discovery"
)

// A daemon announces itself and browses for its contacts, whom it
// recognises by their keys (the instance name changes every day).
func Example_daemon() {
	var (
		identity ed25519.PublicKey                // the daemon's key
		quicPort = 4242                           // its QUIC listener
		contacts = map[string]ed25519.PublicKey{} // username -> pinned key
		log      = slog.Default()                 // the daemon's logger
		iface    = ""                             // --mdns-iface
		dial     = func(user, addr string) {}     // add a LAN candidate
	)
	ann, err := discovery.NewAnnouncer(discovery.AnnouncerConfig{Identity: identity, Port: quicPort, Iface: iface, Logger: log})
	if err != nil {
		log.Error("announce", "err", err)
		return
	}
	defer ann.Close()
	b, err := discovery.NewBrowser(discovery.BrowserConfig{Identity: identity, Iface: iface, Logger: log})
	if err != nil {
		log.Error("browse", "err", err)
		return
	}
	defer b.Close()
	for ev := range b.Events() {
		user := ""
		for name, key := range contacts {
			if discovery.Recognize(key, ev.Peer.Instance, time.Now()) {
				user = name
			}
		}
		if user == "" || ev.Kind == discovery.Gone {
			continue // a stranger, or a contact who left the LAN
		}
		for _, a := range ev.Peer.Addrs {
			dial(user, a.String()) // still authenticated by the pinned key
		}
	}
}

// A new user looks for a rendezvous server on the LAN before registering.
// (Like the example above, it has no output to check and is not run by go
// test: it would query the real LAN.)
func ExampleFindServer() {
	servers, err := discovery.FindServer(context.Background(), discovery.FindOptions{})
	if err != nil {
		fmt.Println("no LAN discovery here:", err)
		return
	}
	for _, s := range servers {
		// Show the fingerprint and have the user confirm it before pinning.
		fmt.Println(s.Addrs[0], s.Fingerprint)
	}
}
