package e2e

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/direct"
)

// The set-ups most tests begin with: a server and users whose daemons run
// and are registered through the CLI, made friends; and a crafted client
// befriended by a user.

// startUsers starts a server and, for each name, a user whose daemon runs
// and who registered through it.
func startUsers(t *testing.T, names ...string) (*rendezvous, []*user) {
	t.Helper()
	srv := startServer(t)
	us := make([]*user, len(names))
	for i, name := range names {
		us[i] = newUser(t, srv, name)
		us[i].start(t)
	}
	for _, u := range us {
		u.register(t)
	}
	return srv, us
}

// startFriends is startUsers for alice and bob, made friends.
func startFriends(t *testing.T) (srv *rendezvous, alice, bob *user) {
	t.Helper()
	srv, us := startUsers(t, "alice", "bob")
	befriendUsers(t, us[0], us[1])
	return srv, us[0], us[1]
}

// acceptPeer has the crafted client p ask u for friendship and u accept
// it through the CLI, and waits until u's daemon lists p.
func acceptPeer(t *testing.T, u *user, p *peer) {
	t.Helper()
	p.call(t, wire.OpFriendRequest, wire.UserRequest{Username: u.name}, nil)
	u.must(t, "friend", "accept", p.name)
	eventually(t, 10*time.Second, func() (bool, string) {
		var fs []api.Friend
		u.mustJSON(t, &fs, "friends")
		return hasFriend(fs, p.name), fmt.Sprintf("%s's daemon does not list %s yet", u.name, p.name)
	})
}

// directAs listens for direct connections with p's identity (letting no
// one in) and returns that transport, closed when the test ends, with
// u's daemon's direct address on loopback and u's identity key as the
// server gives it to p.
func directAs(t *testing.T, p *peer, u *user) (*direct.Transport, string, ed25519.PublicKey) {
	t.Helper()
	var kr wire.KeysResponse
	p.call(t, wire.OpKeysGet, wire.UserRequest{Username: u.name}, &kr)
	var st api.Status
	u.mustJSON(t, &st, "status")
	addr := "127.0.0.1" + st.Listen[strings.LastIndex(st.Listen, ":"):]
	tr, err := direct.Listen("127.0.0.1:0", p.identity, func(ed25519.PublicKey) (string, bool) { return "", false }, direct.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr, addr, ed25519.PublicKey(kr.IdentityKey)
}

// startHostServer starts a server on host h of the LAN test bed, on
// port 7443 of h's address, with a data directory of its own and, like
// startServer, without a lobby: its users are strangers to each other
// until they befriend or group, so each counts the other's daemon among
// the others in lanchat peers, not among its contacts.
func startHostServer(t *testing.T, h *host, extra ...string) *rendezvous {
	t.Helper()
	return startRendezvousIn(t, h.ns, h.ip+":7443", t.TempDir(), append([]string{"--lobby", ""}, extra...)...)
}

// startPeers starts a server on loopback and registers crafted clients
// alice and bob, made friends.
func startPeers(t *testing.T) (srv *rendezvous, alice, bob *peer) {
	t.Helper()
	srv = startRendezvous(t, freeAddr(t), t.TempDir())
	alice, bob = newPeer(t, "alice"), newPeer(t, "bob")
	alice.register(t, srv)
	bob.register(t, srv)
	befriend(t, alice, bob)
	return srv, alice, bob
}
