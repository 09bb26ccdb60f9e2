package daemon

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
)

// roomServer has one room, #lobby, with bob and erin in it, and counts
// room posts (refusing them once over budget).
type roomServer struct {
	mu    sync.Mutex
	posts []string
	full  bool
}

var lobby = wire.Group{ID: "0123456789abcdef0123456789abcdef", Name: "lobby", Room: true, Members: 2}

func (s *roomServer) handle(op string, req, resp any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r := resp.(type) {
	case *wire.GroupsListResponse:
		r.Rooms = []wire.Group{lobby}
	case *wire.GroupMembersResponse:
		r.Group, r.Members = lobby, []wire.Member{{Username: "bob"}, {Username: "erin"}}
	case *wire.RoomsListResponse:
		r.Rooms = []wire.RoomListing{{Name: "lobby", Members: 2, Online: 1, Lobby: true, Joined: true}}
	case *wire.UsersOnlineResponse:
		r.Users = []wire.OnlineUser{{Username: "erin", Presence: wire.Presence{Username: "erin", Status: wire.StatusOnline}}}
	case *wire.Group:
		*r = lobby
	}
	if op == wire.OpRoomPost {
		if s.full {
			return wire.Errorf(wire.CodeRateLimited, "too many messages in #lobby this minute")
		}
		s.posts = append(s.posts, req.(wire.RoomPostRequest).ID)
	}
	return nil
}

func TestRoomsThroughTheServer(t *testing.T) {
	u := newUnitDaemon(t)
	srv := &roomServer{}
	u.fake.handle = srv.handle
	ctx := context.Background()

	rooms, err := u.rooms.Rooms(ctx, "#lob")
	if err != nil || len(rooms.Rooms) != 1 || !rooms.Rooms[0].Lobby {
		t.Fatalf("Rooms = %+v, %v", rooms, err)
	}
	online, err := u.rooms.Online(ctx, "#lobby", false)
	if err != nil || len(online.Users) != 1 {
		t.Errorf("Online = %+v, %v", online, err)
	}
	g, err := u.rooms.Room(ctx, api.RoomRequest{Action: api.RoomJoin, Name: "#lobby"})
	if err != nil || g.Name != "lobby" || !g.Room {
		t.Fatalf("join = %+v, %v", g, err)
	}
	for _, a := range []string{api.RoomCreate, api.RoomLeave, api.RoomTopic, api.RoomAdmin, api.RoomUnadmin, api.RoomKick, api.RoomBan, api.RoomUnban} {
		if _, err := u.rooms.Room(ctx, api.RoomRequest{Action: a, Name: "#lobby", User: "erin", Topic: "hi"}); err != nil {
			t.Errorf("room %s: %v", a, err)
		}
	}
	if _, err := u.rooms.Room(ctx, api.RoomRequest{Action: "paint", Name: "#lobby"}); err == nil {
		t.Error("an unknown room action was taken")
	}

	// A message to the room is counted by the server first; over the
	// budget it is refused and nothing is stored.
	res, err := u.Send(ctx, api.SendRequest{Target: "#lobby", Text: "hello room"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(srv.posts, []string{res.ID}) {
		t.Errorf("room posts %v, want the message's id", srv.posts)
	}
	srv.mu.Lock()
	srv.full = true
	srv.mu.Unlock()
	if _, err := u.Send(ctx, api.SendRequest{Target: "#lobby", Text: "one more"}); err == nil {
		t.Error("a message over the room's budget was sent")
	}
	if n := u.outbox.Count(ctx); n != 1 {
		t.Errorf("outbox has %d copies, want only the first message's", n)
	}
	// The server away: the post goes uncounted, the message goes.
	u.fake.setSession(false)
	if _, err := u.Send(ctx, api.SendRequest{Target: "#lobby", Text: "offline"}); err != nil {
		t.Errorf("a room message with the server away: %v", err)
	}
}
