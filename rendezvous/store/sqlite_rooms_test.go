package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func mkRoom(t *testing.T, s suiteStore, n int, name, owner, topic string) Group {
	t.Helper()
	g := Group{ID: groupID(n), Name: name, Owner: owner, Created: at(time.Duration(n) * time.Second)}
	mustNil(t, s.CreateRoom(context.Background(), g, topic, 10))
	return g
}

func wantRoomErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

func TestRoomJoinRules(t *testing.T) { eachStore(t, testRoomJoinRules) }

func testRoomJoinRules(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice", "bob", "carol", "dave")
	r := mkRoom(t, s, 1, "coffee", "alice", "beans")
	mkGroup(t, s, 2, "team", "alice")
	lim := RoomLimits{Members: 3, PerUser: 2}

	// Rooms are not groups in Groups; the group is not a room.
	gs, err := s.Groups(ctx, "alice")
	mustNil(t, err)
	if len(gs) != 1 || gs[0].Name != "team" || gs[0].Room {
		t.Fatalf("alice's groups: %+v", gs)
	}
	rs, err := s.Rooms(ctx, "alice")
	mustNil(t, err)
	if len(rs) != 1 || rs[0].Name != "coffee" || !rs[0].Room || rs[0].Topic != "beans" || rs[0].Members != 1 {
		t.Fatalf("alice's rooms: %+v", rs)
	}
	_, err = s.Room(ctx, "team")
	wantRoomErr(t, "a group as a room", err, ErrNotFound)
	wantRoomErr(t, "a room named as a group", s.CreateRoom(ctx, Group{ID: groupID(3), Name: "team", Owner: "bob"}, "", 10), ErrExists)

	mustNil(t, s.JoinRoom(ctx, r.ID, "bob", at(time.Minute), lim))
	wantRoomErr(t, "join twice", s.JoinRoom(ctx, r.ID, "bob", at(time.Minute), lim), ErrExists)
	wantRoomErr(t, "join no room", s.JoinRoom(ctx, groupID(99), "bob", at(time.Minute), lim), ErrNotFound)
	wantRoomErr(t, "join a group", s.JoinRoom(ctx, groupID(2), "bob", at(time.Minute), lim), ErrNotFound)

	// A ban removes the member and their admin role, and keeps them out.
	mustNil(t, s.SetRoomAdmin(ctx, r.ID, "bob", true))
	mustNil(t, s.SetRoomAdmin(ctx, r.ID, "bob", true)) // again: no change
	wantRoomErr(t, "admin of a non-member", s.SetRoomAdmin(ctx, r.ID, "dave", true), ErrNotFound)
	was, err := s.BanFromRoom(ctx, r.ID, "bob", "alice", at(time.Hour))
	mustNil(t, err)
	if !was {
		t.Fatal("bob was a member")
	}
	_, err = s.BanFromRoom(ctx, r.ID, "bob", "alice", at(time.Hour))
	wantRoomErr(t, "ban twice", err, ErrExists)
	if admins, _ := s.RoomAdmins(ctx, r.ID); len(admins) != 0 {
		t.Fatalf("admins after the ban: %v", admins)
	}
	wantRoomErr(t, "banned join", s.JoinRoom(ctx, r.ID, "bob", at(time.Hour), lim), ErrBanned)
	mustNil(t, s.UnbanFromRoom(ctx, r.ID, "bob"))
	wantRoomErr(t, "unban twice", s.UnbanFromRoom(ctx, r.ID, "bob"), ErrNotFound)
	mustNil(t, s.JoinRoom(ctx, r.ID, "bob", at(time.Hour), lim))

	// Members per room; rooms per user.
	mustNil(t, s.JoinRoom(ctx, r.ID, "carol", at(time.Hour), lim))
	wantRoomErr(t, "a full room", s.JoinRoom(ctx, r.ID, "dave", at(time.Hour), lim), ErrQuota)
	other := mkRoom(t, s, 4, "tea", "dave", "")
	wantRoomErr(t, "a third room", s.CreateRoom(ctx, Group{ID: groupID(5), Name: "juice", Owner: "alice"}, "", 1), ErrTooManyRooms)
	mustNil(t, s.JoinRoom(ctx, other.ID, "alice", at(time.Hour), lim))
	third := mkRoom(t, s, 6, "milk", "dave", "")
	wantRoomErr(t, "a third room joined", s.JoinRoom(ctx, third.ID, "alice", at(time.Hour), lim), ErrTooManyRooms)

	// Room co-members are contacts.
	cs, err := s.Contacts(ctx, "carol")
	mustNil(t, err)
	if !slices.Equal(cs, []string{"alice", "bob"}) {
		t.Fatalf("carol's contacts: %v", cs)
	}
	// The directory, by prefix.
	dir, err := s.RoomDirectory(ctx, "t", 10)
	mustNil(t, err)
	if len(dir) != 1 || dir[0].Name != "tea" {
		t.Fatalf("directory t: %+v", dir)
	}
	dir, err = s.RoomDirectory(ctx, "", 2)
	mustNil(t, err)
	if len(dir) != 2 || dir[0].Name != "coffee" || dir[1].Name != "milk" {
		t.Fatalf("directory limit 2: %+v", dir)
	}
	// Members' accounts in one query; accounts by name.
	us, err := s.MemberUsers(ctx, r.ID)
	mustNil(t, err)
	if len(us) != 3 || us[0].Name != "alice" || us[1].Name != "bob" || us[2].Name != "carol" {
		t.Fatalf("member accounts: %+v", us)
	}
	us, err = s.UsersNamed(ctx, []string{"dave", "nobody", "bob", `x"],"y`})
	mustNil(t, err)
	if len(us) != 2 || us[0].Name != "bob" || us[1].Name != "dave" {
		t.Fatalf("accounts named: %+v", us)
	}
	mustNil(t, s.DeleteRoom(ctx, r.ID))
	_, err = s.Room(ctx, "coffee")
	wantRoomErr(t, "deleted room", err, ErrNotFound)
}

func TestEnsureLobby(t *testing.T) { eachStore(t, testEnsureLobby) }

func testEnsureLobby(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice", "bob")
	mkGroup(t, s, 1, "team", "alice")
	_, err := s.EnsureLobby(ctx, Group{ID: groupID(2), Name: "team", Created: at(0)})
	wantRoomErr(t, "a group's name", err, ErrExists)

	l, err := s.EnsureLobby(ctx, Group{ID: groupID(3), Name: "lobby", Created: at(0)})
	mustNil(t, err)
	if !l.Lobby || l.Owner != "" || l.Members != 2 {
		t.Fatalf("new lobby: %+v", l)
	}
	// Again: the same room, members kept as they are.
	mustNil(t, s.LeaveRoom(ctx, l.ID, "bob"))
	l, err = s.EnsureLobby(ctx, Group{ID: groupID(4), Name: "lobby", Created: at(0)})
	mustNil(t, err)
	if l.ID != groupID(3) || l.Members != 1 {
		t.Fatalf("lobby again: %+v", l)
	}
	// Another room becomes the lobby: only one is.
	mkRoom(t, s, 5, "hall", "alice", "")
	h, err := s.EnsureLobby(ctx, Group{ID: groupID(6), Name: "hall", Created: at(0)})
	mustNil(t, err)
	old, err := s.Room(ctx, "lobby")
	mustNil(t, err)
	if !h.Lobby || old.Lobby {
		t.Fatalf("hall %+v, lobby %+v", h, old)
	}
	_, err = s.EnsureLobby(ctx, Group{})
	wantRoomErr(t, "no lobby", err, ErrNotFound)
	if h, _ := s.Room(ctx, "hall"); h.Lobby {
		t.Fatal("hall is still the lobby")
	}
}
