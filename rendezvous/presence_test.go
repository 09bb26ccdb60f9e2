package rendezvous

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// This file tests presence (docs/protocol.md, presence.set and the
// presence event): who sees it, what it carries, and when it changes.

// checkObserved checks that an observed address is the loopback address a
// test client connects from.
func checkObserved(t *testing.T, what, observed string) {
	t.Helper()
	ap, err := netip.ParseAddrPort(observed)
	if err != nil || ap.Addr() != netip.MustParseAddr("127.0.0.1") || ap.Port() == 0 {
		t.Errorf("%s: observed %q, want 127.0.0.1:port", what, observed)
	}
}

// shareGroup makes owner create group and each of members join it, in
// order, and waits until the presence exchange each join causes is done.
func shareGroup(t *testing.T, group string, owner *testUser, members ...*testUser) {
	t.Helper()
	call[wire.Group](t, owner.c, wire.OpGroupCreate, wire.GroupRequest{Group: group})
	for _, m := range members {
		call[wire.Empty](t, owner.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: group, Username: m.name})
		call[wire.Group](t, m.c, wire.OpGroupJoin, wire.GroupRequest{Group: group})
		settle(t, m)
	}
}

// memberPresence returns user's presence as group.members shows it to u.
func memberPresence(t *testing.T, u *testUser, group, user string) wire.Presence {
	t.Helper()
	gm := call[wire.GroupMembersResponse](t, u.c, wire.OpGroupMembers, wire.GroupRequest{Group: group})
	for _, m := range gm.Members {
		if m.Username == user {
			return m.Presence
		}
	}
	t.Fatalf("%s is not listed in %s's members %+v", user, group, gm.Members)
	return wire.Presence{}
}

// friendPresence returns friend's presence as friends.list shows it to u.
func friendPresence(t *testing.T, u *testUser, friend string) wire.Presence {
	t.Helper()
	fl := call[wire.FriendsListResponse](t, u.c, wire.OpFriendsList, wire.Empty{})
	for _, f := range fl.Friends {
		if f.Username == friend {
			return f.Presence
		}
	}
	t.Fatalf("%s is not among %s's friends %v", friend, u.name, friendNames(fl))
	return wire.Presence{}
}

func TestPresenceSetReachesFriendsAndCoMembersOnly(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")     // alice's friend
	dave := ts.register(t, "dave")   // in a group with alice, not a friend
	carol := ts.register(t, "carol") // a stranger to alice
	erin := ts.register(t, "erin")   // carol's friend
	makeFriends(t, alice, bob)
	makeFriends(t, carol, erin)
	shareGroup(t, "ops", alice, dave)

	// Endpoints come back in canonical form: the IPv4-mapped one unmapped.
	eps := []string{"192.0.2.10:4242", "[2001:db8::1]:4243", "[::ffff:198.51.100.7]:9"}
	want := []string{"192.0.2.10:4242", "[2001:db8::1]:4243", "198.51.100.7:9"}
	call[wire.Empty](t, alice.c, wire.OpPresenceSet, wire.PresenceSetRequest{Status: wire.StatusAway, Endpoints: eps})
	settle(t, alice)

	var observed string
	for _, u := range []*testUser{bob, dave} {
		p := waitPresence(t, u, "alice", wire.StatusAway)
		if !slices.Equal(p.Endpoints, want) || !p.LastSeen.IsZero() {
			t.Errorf("%s got presence %+v, want endpoints %v and no last_seen", u.name, p, want)
		}
		checkObserved(t, u.name, p.Observed)
		if observed != "" && p.Observed != observed {
			t.Errorf("%s sees alice at %s, another contact at %s", u.name, p.Observed, observed)
		}
		observed = p.Observed
	}
	// The lists show the same.
	for what, p := range map[string]wire.Presence{
		"bob's friends.list":   friendPresence(t, bob, "alice"),
		"dave's group.members": memberPresence(t, dave, "ops", "alice"),
	} {
		if p.Username != "alice" || p.Status != wire.StatusAway || !slices.Equal(p.Endpoints, want) || p.Observed != observed {
			t.Errorf("%s: alice's presence %+v, want away at %v observed %s", what, p, want, observed)
		}
	}

	// carol is told nothing: every presence event she gets up to erin's
	// change, made after alice's, is about erin.
	call[wire.Empty](t, erin.c, wire.OpPresenceSet, wire.PresenceSetRequest{Status: wire.StatusAway})
	for _, p := range collectEvents(t, carol.c, wire.EvPresence, func(p wire.Presence) bool {
		return p.Username == "erin" && p.Status == wire.StatusAway
	}) {
		if p.Username != "erin" {
			t.Errorf("stranger carol got presence %+v", p)
		}
	}
	// Nor can she see it anywhere.
	fl := call[wire.FriendsListResponse](t, carol.c, wire.OpFriendsList, wire.Empty{})
	if fmt.Sprint(friendNames(fl)) != "[erin]" {
		t.Errorf("carol's friends %v, want [erin]", friendNames(fl))
	}
	callErr(t, carol.c, wire.OpGroupMembers, wire.GroupRequest{Group: "ops"}, wire.CodeNotFound)

	// Back online without endpoints: the endpoints are gone.
	call[wire.Empty](t, alice.c, wire.OpPresenceSet, wire.PresenceSetRequest{Status: wire.StatusOnline})
	for _, u := range []*testUser{bob, dave} {
		if p := waitPresence(t, u, "alice", wire.StatusOnline); len(p.Endpoints) != 0 {
			t.Errorf("%s: endpoints %v after clearing them", u.name, p.Endpoints)
		}
	}
}

func TestPresenceSetInvalid(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)

	call[wire.Empty](t, alice.c, wire.OpPresenceSet, wire.PresenceSetRequest{Status: wire.StatusAway, Endpoints: []string{"192.0.2.1:1"}})
	waitPresence(t, bob, "alice", wire.StatusAway)

	var many []string
	for i := range wire.MaxEndpoints + 1 {
		many = append(many, fmt.Sprintf("192.0.2.%d:4242", i+1))
	}
	tests := []struct {
		name  string
		req   wire.PresenceSetRequest
		field string
	}{
		{"no status", wire.PresenceSetRequest{}, "status"},
		{"unknown status", wire.PresenceSetRequest{Status: "busy"}, "status"},
		{"offline", wire.PresenceSetRequest{Status: wire.StatusOffline}, "status"},
		{"status case", wire.PresenceSetRequest{Status: "Online"}, "status"},
		{"port zero", onlineAt("192.0.2.1:0"), "endpoints"},
		{"no port", onlineAt("192.0.2.1"), "endpoints"},
		{"garbage", onlineAt("garbage"), "endpoints"},
		{"empty", onlineAt(""), "endpoints"},
		{"host name", onlineAt("localhost:4242"), "endpoints"},
		{"unspecified v4", onlineAt("0.0.0.0:4242"), "endpoints"},
		{"unspecified v6", onlineAt("[::]:4242"), "endpoints"},
		{"mapped unspecified", onlineAt("[::ffff:0.0.0.0]:4242"), "endpoints"},
		{"multicast", onlineAt("224.0.0.251:5353"), "endpoints"},
		{"zone", onlineAt("[fe80::1%eth0]:4242"), "endpoints"},
		{"one bad of two", onlineAt("192.0.2.1:4242", "192.0.2.2:x"), "endpoints"},
		{"too many", onlineAt(many...), "endpoints"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			werr := callErr(t, alice.c, wire.OpPresenceSet, tc.req, wire.CodeInvalid)
			if werr.Field != tc.field {
				t.Errorf("field %q, want %q", werr.Field, tc.field)
			}
		})
	}

	// Nothing changed and nothing was sent: bob still sees the last valid
	// state, and the next presence of alice he is told is the next valid
	// one (with the most endpoints allowed).
	if p := friendPresence(t, bob, "alice"); p.Status != wire.StatusAway || !slices.Equal(p.Endpoints, []string{"192.0.2.1:1"}) {
		t.Errorf("after invalid presence.set, bob sees %+v", p)
	}
	settle(t, alice)
	max := many[:wire.MaxEndpoints]
	call[wire.Empty](t, alice.c, wire.OpPresenceSet, onlineAt(max...))
	p := waitEventWhere(t, bob.c, wire.EvPresence, func(p wire.Presence) bool { return p.Username == "alice" })
	if p.Status != wire.StatusOnline || !slices.Equal(p.Endpoints, max) {
		t.Errorf("bob's next presence of alice %+v, want online at %v", p, max)
	}
}

func onlineAt(eps ...string) wire.PresenceSetRequest {
	return wire.PresenceSetRequest{Status: wire.StatusOnline, Endpoints: eps}
}

func TestPresenceOffline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		leave func(t *testing.T, u *testUser)
	}{
		{"disconnect", func(t *testing.T, u *testUser) { u.c.Close() }},
		{"logout", func(t *testing.T, u *testUser) { call[wire.Empty](t, u.c, wire.OpLogout, wire.Empty{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, nil)
			alice := ts.register(t, "alice")
			bob := ts.register(t, "bob")   // friend
			dave := ts.register(t, "dave") // co-member
			makeFriends(t, alice, bob)
			shareGroup(t, "ops", alice, dave)
			call[wire.Empty](t, alice.c, wire.OpPresenceSet, onlineAt("192.0.2.1:4242"))
			waitEventWhere(t, bob.c, wire.EvPresence, func(p wire.Presence) bool { return len(p.Endpoints) == 1 })

			before := time.Now().Add(-time.Second)
			tc.leave(t, alice)
			var lastSeen time.Time
			for _, u := range []*testUser{bob, dave} {
				p := waitPresence(t, u, "alice", wire.StatusOffline)
				if p.LastSeen.Before(before) || p.LastSeen.After(time.Now().Add(time.Second)) {
					t.Errorf("%s: last_seen %v, want about now", u.name, p.LastSeen)
				}
				if len(p.Endpoints) != 0 || p.Observed != "" {
					t.Errorf("%s: offline presence %+v carries an address", u.name, p)
				}
				lastSeen = p.LastSeen
			}
			for what, p := range map[string]wire.Presence{
				"bob's friends.list":   friendPresence(t, bob, "alice"),
				"dave's group.members": memberPresence(t, dave, "ops", "alice"),
			} {
				if p.Status != wire.StatusOffline || !p.LastSeen.Equal(lastSeen) || len(p.Endpoints) != 0 || p.Observed != "" {
					t.Errorf("%s: alice's presence %+v, want offline, last seen %v", what, p, lastSeen)
				}
			}

			// Logging in again announces her online, without stale endpoints.
			ts.login(t, alice)
			for _, u := range []*testUser{bob, dave} {
				p := waitPresence(t, u, "alice", wire.StatusOnline)
				checkObserved(t, u.name, p.Observed)
				if len(p.Endpoints) != 0 || !p.LastSeen.IsZero() {
					t.Errorf("%s: presence at login %+v, want no endpoints, no last_seen", u.name, p)
				}
			}
		})
	}
}

// TestPresenceEndpointsScope: endpoints nobody else can use are refused:
// broadcast always, loopback unless the server saw the reporter on
// loopback too.
func TestPresenceEndpointsScope(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	for _, ep := range []string{"255.255.255.255:4242", "[ff02::1]:4242", "[::ffff:255.255.255.255]:4242"} {
		callErr(t, alice.c, wire.OpPresenceSet, onlineAt(ep), wire.CodeInvalid)
	}
	// The test client is on 127.0.0.1: loopback endpoints are fine.
	call[wire.Empty](t, alice.c, wire.OpPresenceSet, onlineAt("127.0.0.1:4242", "[::1]:4242"))

	// A reporter the server saw on the LAN may not claim loopback.
	for _, observed := range []string{"192.0.2.7:40000", "[2001:db8::7]:40000"} {
		c := &conn{srv: ts.srv, addr: netip.MustParseAddrPort(observed)}
		for _, ep := range []string{"127.0.0.1:4242", "[::1]:4242", "[::ffff:127.0.0.1]:4242"} {
			if _, werr := opPresenceSet(context.Background(), c, &wire.PresenceSetRequest{Status: wire.StatusOnline, Endpoints: []string{ep}}); werr == nil || werr.Field != "endpoints" {
				t.Errorf("seen at %s, endpoint %s: %v, want invalid endpoints", observed, ep, werr)
			}
		}
		if _, werr := opPresenceSet(context.Background(), c, &wire.PresenceSetRequest{Status: wire.StatusOnline, Endpoints: []string{"192.0.2.7:4242"}}); werr != nil {
			t.Errorf("seen at %s, a LAN endpoint: %v", observed, werr)
		}
	}
}
