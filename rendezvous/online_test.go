package rendezvous

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// testCert makes a self-signed certificate in a temporary directory.
func testCert(t *testing.T) tls.Certificate {
	t.Helper()
	cert, _, err := LoadOrCreateCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// onlineList renders users.online as "name:status" in order.
func onlineList(t *testing.T, u *testUser, req wire.UsersOnlineRequest) string {
	t.Helper()
	resp := call[wire.UsersOnlineResponse](t, u.c, wire.OpUsersOnline, req)
	var out []string
	for _, o := range resp.Users {
		s := o.Username + ":" + o.Presence.Status
		if o.Friend {
			s += "(f)"
		}
		if o.Presence.Status == wire.StatusOffline && o.Presence.LastSeen.IsZero() {
			s += "(no last seen)"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// TestUsersOnlineScope: users.online tells presence only of friends and
// co-members, of one room only to its members, offline users (with when
// they were last seen) only when asked.
func TestUsersOnlineScope(t *testing.T) {
	ts := startServer(t, nil)
	alice, bob, carol, dave, erin := ts.register(t, "alice"), ts.register(t, "bob"), ts.register(t, "carol"), ts.register(t, "dave"), ts.register(t, "erin")
	befriend(t, alice, bob)
	call[wire.Group](t, alice.c, wire.OpRoomCreate, wire.RoomCreateRequest{Room: "den"})
	call[wire.Group](t, carol.c, wire.OpRoomJoin, wire.RoomRequest{Room: "den"})
	call[wire.Group](t, erin.c, wire.OpRoomJoin, wire.RoomRequest{Room: "den"})
	call[wire.Empty](t, erin.c, wire.OpPresenceSet, wire.PresenceSetRequest{Status: wire.StatusAway})
	// dave shares nothing with anyone.

	if got := onlineList(t, alice, wire.UsersOnlineRequest{}); got != "bob:online(f) carol:online erin:away" {
		t.Fatalf("alice sees %q", got)
	}
	if got := onlineList(t, dave, wire.UsersOnlineRequest{}); got != "" {
		t.Fatalf("dave sees %q, want nobody", got)
	}
	if got := onlineList(t, bob, wire.UsersOnlineRequest{}); got != "alice:online(f)" {
		t.Fatalf("bob sees %q", got)
	}
	// One room: its members only, and only to a member.
	if got := onlineList(t, carol, wire.UsersOnlineRequest{Room: "den"}); got != "alice:online erin:away" {
		t.Fatalf("carol sees in #den %q", got)
	}
	callErr(t, bob.c, wire.OpUsersOnline, wire.UsersOnlineRequest{Room: "den"}, wire.CodeNotFound)
	callErr(t, bob.c, wire.OpUsersOnline, wire.UsersOnlineRequest{Room: "nope"}, wire.CodeNotFound)

	// carol goes: gone from the list, offline with last seen on asking.
	carol.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for onlineList(t, alice, wire.UsersOnlineRequest{}) != "bob:online(f) erin:away" {
		if time.Now().After(deadline) {
			t.Fatalf("carol still listed: %q", onlineList(t, alice, wire.UsersOnlineRequest{}))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := onlineList(t, alice, wire.UsersOnlineRequest{All: true}); got != "bob:online(f) erin:away carol:offline" {
		t.Fatalf("alice sees with all %q", got)
	}
	if got := onlineList(t, dave, wire.UsersOnlineRequest{All: true}); got != "" {
		t.Fatalf("dave sees with all %q, want nobody", got)
	}
}
