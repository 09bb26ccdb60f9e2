package rendezvous

import (
	"context"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
)

// directory returns the room directory as the user sees it, by name.
func directory(t *testing.T, u *testUser) map[string]wire.RoomListing {
	t.Helper()
	rl := call[wire.RoomsListResponse](t, u.c, wire.OpRoomsList, wire.RoomsListRequest{})
	out := make(map[string]wire.RoomListing, len(rl.Rooms))
	for _, r := range rl.Rooms {
		out[r.Name] = r
	}
	return out
}

// roomMembers renders group.members of a room: "name", "name*" for the
// owner, "name+" for an admin.
func roomMembers(t *testing.T, u *testUser, room string) string {
	t.Helper()
	gm := call[wire.GroupMembersResponse](t, u.c, wire.OpGroupMembers, wire.GroupRequest{Group: room})
	var out []string
	for _, m := range gm.Members {
		switch {
		case m.Owner:
			out = append(out, m.Username+"*")
		case m.Admin:
			out = append(out, m.Username+"+")
		default:
			out = append(out, m.Username)
		}
	}
	return strings.Join(out, " ")
}

func TestRoomDirectoryJoinAndTopic(t *testing.T) {
	ts := startServer(t, nil)
	alice, bob, carol := ts.register(t, "alice"), ts.register(t, "bob"), ts.register(t, "carol")

	g := call[wire.Group](t, alice.c, wire.OpRoomCreate, wire.RoomCreateRequest{Room: "Coffee", Topic: "beans and brews"})
	if g.Name != "coffee" || !g.Room || g.Topic != "beans and brews" || g.Owner != "alice" {
		t.Fatalf("created room %+v", g)
	}
	callErr(t, bob.c, wire.OpRoomCreate, wire.RoomCreateRequest{Room: "coffee"}, wire.CodeConflict)
	callErr(t, bob.c, wire.OpRoomCreate, wire.RoomCreateRequest{Room: "tea", Topic: "a\nb"}, wire.CodeInvalid)
	callErr(t, bob.c, wire.OpRoomCreate, wire.RoomCreateRequest{Room: "tea", Topic: strings.Repeat("x", wire.MaxTopic+1)}, wire.CodeInvalid)

	// Listed for a stranger, with counts; joined without an invitation.
	d := directory(t, bob)
	if r := d["coffee"]; r.Members != 1 || r.Online != 1 || r.Joined || r.Topic != "beans and brews" {
		t.Fatalf("bob's directory entry: %+v", r)
	}
	call[wire.Group](t, bob.c, wire.OpRoomJoin, wire.RoomRequest{Room: "#coffee"[1:]})
	if ev := waitGroupEvent(t, alice, wire.GroupJoined, "coffee"); ev.Username != "bob" || !ev.Group.Room {
		t.Fatalf("alice's joined event: %+v", ev)
	}
	callErr(t, bob.c, wire.OpRoomJoin, wire.RoomRequest{Room: "coffee"}, wire.CodeConflict)
	if r := directory(t, bob)["coffee"]; r.Members != 2 || r.Online != 2 || !r.Joined {
		t.Fatalf("after joining: %+v", r)
	}
	// A prefix query finds it; another does not.
	if rl := call[wire.RoomsListResponse](t, carol.c, wire.OpRoomsList, wire.RoomsListRequest{Query: "COF"}); len(rl.Rooms) != 1 {
		t.Fatalf("query cof: %+v", rl)
	}
	if rl := call[wire.RoomsListResponse](t, carol.c, wire.OpRoomsList, wire.RoomsListRequest{Query: "cofe"}); len(rl.Rooms) != 0 {
		t.Fatalf("query cofe: %+v", rl)
	}
	callErr(t, carol.c, wire.OpRoomsList, wire.RoomsListRequest{Query: "no spaces"}, wire.CodeInvalid)

	// Rooms are in groups.list's rooms, not among the groups.
	gl := call[wire.GroupsListResponse](t, bob.c, wire.OpGroupsList, nil)
	if len(gl.Groups) != 0 || len(gl.Rooms) != 1 || gl.Rooms[0].Name != "coffee" || gl.Rooms[0].Topic != "beans and brews" {
		t.Fatalf("bob's groups.list: %+v", gl)
	}
	// With the rate members hold direct copies to.
	if gl.Rooms[0].Rate != defaultRoomRate {
		t.Fatalf("room rate %d in groups.list, want %d", gl.Rooms[0].Rate, defaultRoomRate)
	}
	// Members share: keys, relay, presence.
	call[wire.KeysResponse](t, bob.c, wire.OpKeysGet, wire.UserRequest{Username: "alice"})
	callErr(t, carol.c, wire.OpKeysGet, wire.UserRequest{Username: "alice"}, wire.CodeNotFound)

	// The topic: owner yes, a plain member no.
	callErr(t, bob.c, wire.OpRoomTopic, wire.RoomTopicRequest{Room: "coffee", Topic: "tea"}, wire.CodeForbidden)
	call[wire.Group](t, alice.c, wire.OpRoomTopic, wire.RoomTopicRequest{Room: "coffee", Topic: "espresso only"})
	if ev := waitGroupEvent(t, bob, wire.RoomTopic, "coffee"); ev.Group.Topic != "espresso only" || ev.By != "alice" {
		t.Fatalf("topic event: %+v", ev)
	}
	// Group operations do not apply to rooms.
	callErr(t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "coffee", Username: "carol"}, wire.CodeConflict)
	callErr(t, alice.c, wire.OpGroupRename, wire.GroupRenameRequest{Group: "coffee", Name: "tea"}, wire.CodeConflict)
	callErr(t, alice.c, wire.OpGroupDelete, wire.GroupRequest{Group: "coffee"}, wire.CodeConflict)
	callErr(t, carol.c, wire.OpGroupJoin, wire.GroupRequest{Group: "coffee"}, wire.CodeConflict)
	// A non-member cannot list its members.
	callErr(t, carol.c, wire.OpGroupMembers, wire.GroupRequest{Group: "coffee"}, wire.CodeNotFound)
}

func TestRoomModeration(t *testing.T) {
	ts := startServer(t, nil)
	alice, bob, carol, dave := ts.register(t, "alice"), ts.register(t, "bob"), ts.register(t, "carol"), ts.register(t, "dave")
	call[wire.Group](t, alice.c, wire.OpRoomCreate, wire.RoomCreateRequest{Room: "ops"})
	for _, u := range []*testUser{bob, carol, dave} {
		call[wire.Group](t, u.c, wire.OpRoomJoin, wire.RoomRequest{Room: "ops"})
	}
	// Only the owner names admins, and only members.
	callErr(t, bob.c, wire.OpRoomAdmin, wire.RoomAdminRequest{Room: "ops", Username: "carol"}, wire.CodeForbidden)
	callErr(t, alice.c, wire.OpRoomAdmin, wire.RoomAdminRequest{Room: "ops", Username: "zed"}, wire.CodeNotFound)
	call[wire.Empty](t, alice.c, wire.OpRoomAdmin, wire.RoomAdminRequest{Room: "ops", Username: "bob"})
	call[wire.Empty](t, alice.c, wire.OpRoomAdmin, wire.RoomAdminRequest{Room: "ops", Username: "carol"})
	if got := roomMembers(t, dave, "ops"); got != "alice* bob+ carol+ dave" {
		t.Fatalf("members: %q", got)
	}
	// A plain member moderates nothing; an admin not the owner nor
	// another admin; nobody themselves.
	callErr(t, dave.c, wire.OpRoomKick, wire.RoomUserRequest{Room: "ops", Username: "bob"}, wire.CodeForbidden)
	callErr(t, bob.c, wire.OpRoomKick, wire.RoomUserRequest{Room: "ops", Username: "alice"}, wire.CodeForbidden)
	callErr(t, bob.c, wire.OpRoomBan, wire.RoomUserRequest{Room: "ops", Username: "carol"}, wire.CodeForbidden)
	callErr(t, bob.c, wire.OpRoomKick, wire.RoomUserRequest{Room: "ops", Username: "bob"}, wire.CodeInvalid)

	// An admin kicks dave: he may come back.
	call[wire.Empty](t, bob.c, wire.OpRoomKick, wire.RoomUserRequest{Room: "ops", Username: "dave"})
	if ev := waitGroupEvent(t, dave, wire.GroupKicked, "ops"); ev.By != "bob" {
		t.Fatalf("kick event: %+v", ev)
	}
	callErr(t, dave.c, wire.OpGroupMembers, wire.GroupRequest{Group: "ops"}, wire.CodeNotFound)
	call[wire.Group](t, dave.c, wire.OpRoomJoin, wire.RoomRequest{Room: "ops"})

	// Banned: out, and cannot rejoin until unbanned.
	call[wire.Empty](t, bob.c, wire.OpRoomBan, wire.RoomUserRequest{Room: "ops", Username: "dave"})
	if ev := waitGroupEvent(t, dave, wire.RoomBanned, "ops"); ev.Username != "dave" {
		t.Fatalf("ban event: %+v", ev)
	}
	werr := callErr(t, dave.c, wire.OpRoomJoin, wire.RoomRequest{Room: "ops"}, wire.CodeForbidden)
	if !strings.Contains(werr.Message, "banned") {
		t.Fatalf("banned join: %v", werr)
	}
	if r := directory(t, dave)["ops"]; !r.Banned || r.Joined || r.Members != 3 {
		t.Fatalf("dave's directory entry: %+v", r)
	}
	callErr(t, bob.c, wire.OpRoomBan, wire.RoomUserRequest{Room: "ops", Username: "dave"}, wire.CodeConflict)
	// A ban holds for someone not in the room too.
	call[wire.Empty](t, alice.c, wire.OpRoomKick, wire.RoomUserRequest{Room: "ops", Username: "carol"})
	call[wire.Empty](t, alice.c, wire.OpRoomBan, wire.RoomUserRequest{Room: "ops", Username: "carol"})
	callErr(t, carol.c, wire.OpRoomJoin, wire.RoomRequest{Room: "ops"}, wire.CodeForbidden)

	call[wire.Empty](t, bob.c, wire.OpRoomUnban, wire.RoomUserRequest{Room: "ops", Username: "dave"})
	callErr(t, bob.c, wire.OpRoomUnban, wire.RoomUserRequest{Room: "ops", Username: "dave"}, wire.CodeNotFound)
	call[wire.Group](t, dave.c, wire.OpRoomJoin, wire.RoomRequest{Room: "ops"})

	// carol lost her admin role with the kick: rejoined, she is a member.
	call[wire.Empty](t, alice.c, wire.OpRoomUnban, wire.RoomUserRequest{Room: "ops", Username: "carol"})
	call[wire.Group](t, carol.c, wire.OpRoomJoin, wire.RoomRequest{Room: "ops"})
	if got := roomMembers(t, dave, "ops"); got != "alice* bob+ carol dave" {
		t.Fatalf("members after the rejoin: %q", got)
	}

	// The owner leaves: an admin inherits; the last to leave ends it.
	call[wire.Empty](t, alice.c, wire.OpRoomLeave, wire.RoomRequest{Room: "ops"})
	if ev := waitGroupEvent(t, carol, wire.GroupOwner, "ops"); ev.Username != "bob" {
		t.Fatalf("owner event: %+v", ev)
	}
	for _, u := range []*testUser{bob, carol} {
		call[wire.Empty](t, u.c, wire.OpRoomLeave, wire.RoomRequest{Room: "ops"})
	}
	// group.leave of a room is room.leave.
	call[wire.Empty](t, dave.c, wire.OpGroupLeave, wire.GroupRequest{Group: "ops"})
	if _, ok := directory(t, dave)["ops"]; ok {
		t.Fatal("an empty room is still listed")
	}
	callErr(t, dave.c, wire.OpRoomJoin, wire.RoomRequest{Room: "ops"}, wire.CodeNotFound)
}

func TestRoomLimits(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Rooms = RoomLimits{Members: 2, PerUser: 2, Rate: 3} })
	alice, bob, carol := ts.register(t, "alice"), ts.register(t, "bob"), ts.register(t, "carol")
	call[wire.Group](t, alice.c, wire.OpRoomCreate, wire.RoomCreateRequest{Room: "one"})
	call[wire.Group](t, alice.c, wire.OpRoomCreate, wire.RoomCreateRequest{Room: "two"})
	// Rooms per user, whether made or joined.
	werr := callErr(t, alice.c, wire.OpRoomCreate, wire.RoomCreateRequest{Room: "three"}, wire.CodeLimit)
	if !strings.Contains(werr.Message, "2 rooms") {
		t.Fatalf("rooms per user: %v", werr)
	}
	call[wire.Group](t, bob.c, wire.OpRoomCreate, wire.RoomCreateRequest{Room: "three"})
	callErr(t, alice.c, wire.OpRoomJoin, wire.RoomRequest{Room: "three"}, wire.CodeLimit)
	// Members per room.
	call[wire.Group](t, bob.c, wire.OpRoomJoin, wire.RoomRequest{Room: "one"})
	werr = callErr(t, carol.c, wire.OpRoomJoin, wire.RoomRequest{Room: "one"}, wire.CodeLimit)
	if !strings.Contains(werr.Message, "2 members") {
		t.Fatalf("members per room: %v", werr)
	}
	// Messages per minute per member: the fourth in a row waits; another
	// member's budget is their own.
	post := func(u *testUser, id string) error {
		return u.c.Call(context.Background(), wire.OpRoomPost, wire.RoomPostRequest{Room: "one", ID: id}, nil)
	}
	ids := []string{strings.Repeat("1", 32), strings.Repeat("2", 32), strings.Repeat("3", 32), strings.Repeat("4", 32)}
	for _, id := range ids[:3] {
		if err := post(alice, id); err != nil {
			t.Fatalf("post %s: %v", id, err)
		}
	}
	werr = callErr(t, alice.c, wire.OpRoomPost, wire.RoomPostRequest{Room: "one", ID: ids[3]}, wire.CodeRateLimited)
	if werr.RetryAfterMS <= 0 || !strings.Contains(werr.Message, "3 messages a minute") {
		t.Fatalf("rate: %+v", werr)
	}
	if err := post(bob, ids[0]); err != nil {
		t.Fatalf("bob's first post: %v", err)
	}
	callErr(t, carol.c, wire.OpRoomPost, wire.RoomPostRequest{Room: "one", ID: ids[0]}, wire.CodeNotFound)
	callErr(t, bob.c, wire.OpRoomPost, wire.RoomPostRequest{Room: "one", ID: "nothex"}, wire.CodeInvalid)
}

func TestRoomLimitsBounded(t *testing.T) {
	for _, l := range []RoomLimits{{Members: -1}, {Members: maxRoomMembers + 1}, {PerUser: maxRoomsPerUser + 1}, {Rate: -5}} {
		cfg := Config{TLS: TLSConfig(testCert(t)), Rooms: l}
		if err := cfg.setDefaults(); err == nil {
			t.Errorf("limits %+v accepted", l)
		}
	}
}

func TestLobby(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Lobby = "Lobby" })
	alice, bob := ts.register(t, "alice"), ts.register(t, "bob")
	// Both in it from registration: alice is told bob joined.
	if ev := waitGroupEvent(t, alice, wire.GroupJoined, "lobby"); ev.Username != "bob" {
		t.Fatalf("joined event: %+v", ev)
	}
	gl := call[wire.GroupsListResponse](t, bob.c, wire.OpGroupsList, nil)
	if len(gl.Rooms) != 1 || gl.Rooms[0].Name != "lobby" || gl.Rooms[0].Owner != "" {
		t.Fatalf("bob's rooms: %+v", gl.Rooms)
	}
	if r := directory(t, bob)["lobby"]; !r.Lobby || r.Members != 2 || r.Online != 2 {
		t.Fatalf("lobby listing: %+v", r)
	}
	// Nobody owns it, so nobody moderates it.
	callErr(t, alice.c, wire.OpRoomKick, wire.RoomUserRequest{Room: "lobby", Username: "bob"}, wire.CodeForbidden)
	callErr(t, alice.c, wire.OpRoomAdmin, wire.RoomAdminRequest{Room: "lobby", Username: "bob"}, wire.CodeForbidden)
	// Leave and join again; empty, it stays.
	for _, u := range []*testUser{alice, bob} {
		call[wire.Empty](t, u.c, wire.OpRoomLeave, wire.RoomRequest{Room: "lobby"})
	}
	if r := directory(t, bob)["lobby"]; r.Members != 0 || !r.Lobby {
		t.Fatalf("empty lobby: %+v", r)
	}
	call[wire.Group](t, alice.c, wire.OpRoomJoin, wire.RoomRequest{Room: "lobby"})
	// The name is taken by the lobby.
	callErr(t, bob.c, wire.OpGroupCreate, wire.GroupRequest{Group: "lobby"}, wire.CodeConflict)
}

// TestLobbyAtStart: a lobby made on a server that has users takes them
// all in; a lobby name a group holds is refused; no lobby is none.
func TestLobbyAtStart(t *testing.T) {
	ts := startServer(t, nil)
	ts.register(t, "alice")
	bob := ts.register(t, "bob")
	call[wire.Group](t, bob.c, wire.OpGroupCreate, wire.GroupRequest{Group: "team"})

	cfg := Config{TLS: TLSConfig(testCert(t)), Password: testPassword, Lobby: "hall", Logger: ts.srv.log}
	srv, err := New(cfg, ts.store)
	if err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(context.Background())
	r, err := ts.store.Room(context.Background(), "hall")
	if err != nil || !r.Lobby || r.Members != 2 {
		t.Fatalf("hall: %+v, %v", r, err)
	}
	cfg.Lobby = "team"
	if _, err := New(cfg, ts.store); err == nil {
		t.Fatal("a group's name was taken for the lobby")
	}
	cfg.Lobby = "no spaces"
	if _, err := New(cfg, ts.store); err == nil || !strings.Contains(err.Error(), "lobby") {
		t.Fatalf("a bad lobby name: %v", err)
	}
	cfg.Lobby = ""
	srv, err = New(cfg, ts.store)
	if err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(context.Background())
	if r, err := ts.store.Room(context.Background(), "hall"); err != nil || r.Lobby {
		t.Fatalf("hall after --lobby '': %+v, %v", r, err)
	}
}
