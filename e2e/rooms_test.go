package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// startLobbyServer starts a rendezvous server as `rendezvous serve` runs
// by default: with the lobby.
func startLobbyServer(t *testing.T) *rendezvous {
	t.Helper()
	return startRendezvous(t, freeAddr(t), t.TempDir())
}

// roomsOf returns u's room directory by name.
func roomsOf(t *testing.T, u *user) map[string]api.Room {
	t.Helper()
	var rs api.Rooms
	u.mustJSON(t, &rs, "rooms")
	out := make(map[string]api.Room)
	for _, r := range rs.Rooms {
		out[r.Name] = r
	}
	return out
}

// onlineOf renders `lanchat online` as sorted "user:status" words.
func onlineOf(t *testing.T, u *user, args ...string) string {
	t.Helper()
	var ol api.OnlineList
	u.mustJSON(t, &ol, append([]string{"online"}, args...)...)
	var out []string
	for _, o := range ol.Users {
		out = append(out, o.Username+":"+o.Presence.Status)
	}
	return strings.Join(out, " ")
}

// TestLobbyRoomsAndOnline is issue 18's rooms end to end with real
// daemons: a new user is in the lobby and sees its messages (not those
// from before it came); a room is listed, joined without invitation, its
// messages reach its members; a banned user cannot rejoin; `lanchat
// online` shows only what the asker may see.
func TestLobbyRoomsAndOnline(t *testing.T) {
	srv := startLobbyServer(t)
	alice, bob, carol := newUser(t, srv, "alice"), newUser(t, srv, "bob"), newUser(t, srv, "carol")
	for _, u := range []*user{alice, bob, carol} {
		u.start(t)
		t.Cleanup(func() { u.stop(t) })
		u.register(t)
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		r := roomsOf(t, carol)["lobby"]
		return r.Joined && r.Lobby && r.Members == 3, fmt.Sprintf("carol's lobby: %+v", r)
	})

	// Everyone in the lobby hears alice.
	alice.must(t, "send", "#lobby", "good morning, everyone")
	for _, u := range []*user{bob, carol} {
		u.waitMessage(t, "#lobby", "good morning, everyone", 20*time.Second)
	}

	// dave comes later: in the lobby at once, he hears what is said now,
	// not what was said before he came.
	dave := newUser(t, srv, "dave")
	dave.start(t)
	t.Cleanup(func() { dave.stop(t) })
	dave.register(t)
	eventually(t, 10*time.Second, func() (bool, string) {
		r := roomsOf(t, alice)["lobby"]
		return r.Members == 4, fmt.Sprintf("alice's lobby: %+v", r)
	})
	eventually(t, 10*time.Second, func() (bool, string) {
		var gm api.GroupMembers
		alice.mustJSON(t, &gm, "room", "members", "lobby")
		return len(gm.Members) == 4, fmt.Sprintf("alice's daemon sees lobby members %+v", gm.Members)
	})
	bob.must(t, "send", "#lobby", "welcome, dave")
	dave.waitMessage(t, "#lobby", "welcome, dave", 20*time.Second)
	if got := withText(dave.history(t, "#lobby"), "good morning, everyone"); len(got) != 0 {
		t.Fatalf("dave sees a message from before he joined: %+v", got)
	}

	// A room: listed for all, joined without invitation.
	alice.must(t, "room", "create", "coffee", "--topic", "beans and brews")
	if r := roomsOf(t, bob)["coffee"]; r.Members != 1 || r.Topic != "beans and brews" || r.Joined {
		t.Fatalf("bob's listing of #coffee: %+v", r)
	}
	if out := bob.must(t, "rooms"); !strings.Contains(out, "#coffee") || !strings.Contains(out, "#lobby (lobby)") {
		t.Fatalf("bob's rooms:\n%s", out)
	}
	bob.must(t, "room", "join", "coffee")
	carol.must(t, "room", "join", "coffee")
	eventually(t, 10*time.Second, func() (bool, string) {
		var gm api.GroupMembers
		alice.mustJSON(t, &gm, "room", "members", "coffee")
		return len(gm.Members) == 3, fmt.Sprintf("alice's #coffee members %+v", gm.Members)
	})
	bob.must(t, "send", "#coffee", "espresso anyone?")
	alice.waitMessage(t, "#coffee", "espresso anyone?", 20*time.Second)
	carol.waitMessage(t, "#coffee", "espresso anyone?", 20*time.Second)

	// A ban: carol is out and cannot come back until unbanned.
	alice.must(t, "room", "ban", "coffee", "carol")
	if errs := carol.fails(t, "room", "join", "coffee"); !strings.Contains(errs, "banned") {
		t.Fatalf("banned carol's join: %q", errs)
	}
	if r := roomsOf(t, carol)["coffee"]; !r.Banned || r.Joined {
		t.Fatalf("carol's listing of #coffee after the ban: %+v", r)
	}
	if errs := bob.fails(t, "room", "ban", "coffee", "alice"); !strings.Contains(errs, "owner") {
		t.Fatalf("a member banning the owner: %q", errs)
	}

	// Who is online: dave leaves the lobby and so shares nothing with
	// anyone; nobody sees him and he sees nobody.
	dave.must(t, "room", "leave", "lobby")
	eventually(t, 10*time.Second, func() (bool, string) {
		got := onlineOf(t, alice)
		return got == "bob:online carol:online", "alice sees online: " + got
	})
	if got := onlineOf(t, dave); got != "" {
		t.Fatalf("dave, who shares nothing, sees %q", got)
	}
	if got := onlineOf(t, bob, "--room", "coffee"); got != "alice:online" {
		t.Fatalf("bob sees in #coffee %q", got)
	}
	if errs := carol.fails(t, "online", "--room", "coffee"); !strings.Contains(errs, "not in #coffee") {
		t.Fatalf("carol's online --room coffee after her ban: %q", errs)
	}
	// dave may come back to the lobby.
	dave.must(t, "room", "join", "lobby")
	eventually(t, 10*time.Second, func() (bool, string) {
		got := onlineOf(t, alice)
		return got == "bob:online carol:online dave:online", "alice sees online: " + got
	})
}

// TestRoomLimitsEndToEnd: the server's room limits reach the user as
// clear errors through the daemon and the CLI, and a refused message is
// not kept.
func TestRoomLimitsEndToEnd(t *testing.T) {
	srv := startRendezvous(t, freeAddr(t), t.TempDir(), "--lobby", "", "--room-rate", "2", "--room-members", "2")
	alice, bob, carol := newUser(t, srv, "alice"), newUser(t, srv, "bob"), newUser(t, srv, "carol")
	for _, u := range []*user{alice, bob, carol} {
		u.start(t)
		t.Cleanup(func() { u.stop(t) })
		u.register(t)
	}
	if r, ok := roomsOf(t, alice)["lobby"]; ok {
		t.Fatalf("a lobby with --lobby '': %+v", r)
	}
	alice.must(t, "room", "create", "tiny")
	bob.must(t, "room", "join", "tiny")
	if errs := carol.fails(t, "room", "join", "tiny"); !strings.Contains(errs, "2 members") {
		t.Fatalf("joining a full room: %q", errs)
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		var gm api.GroupMembers
		alice.mustJSON(t, &gm, "room", "members", "tiny")
		return len(gm.Members) == 2, fmt.Sprintf("alice's #tiny members %+v", gm.Members)
	})
	alice.must(t, "send", "#tiny", "one")
	alice.must(t, "send", "#tiny", "two")
	if errs := alice.fails(t, "send", "#tiny", "three"); !strings.Contains(errs, "2 messages a minute") {
		t.Fatalf("a third message within the minute: %q", errs)
	}
	bob.waitMessage(t, "#tiny", "two", 20*time.Second)
	if got := withText(alice.history(t, "#tiny"), "three"); len(got) != 0 {
		t.Fatalf("the refused message is in alice's history: %+v", got)
	}
}
