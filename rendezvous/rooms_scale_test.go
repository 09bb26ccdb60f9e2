package rendezvous

import (
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// TestRoomScale fills a lobby with 500 connected protocol clients and
// logs what the room operations cost: registration (with the lobby join
// and its events), group.members, rooms.list and users.online. It only
// measures; set LANCHAT_SCALE=1 to run it:
//
//	LANCHAT_SCALE=1 go test -count=1 -run TestRoomScale -v ./rendezvous/
func TestRoomScale(t *testing.T) {
	if os.Getenv("LANCHAT_SCALE") == "" {
		t.Skip("set LANCHAT_SCALE=1 to measure a 500-member lobby")
	}
	const n = 500
	ts := startServer(t, func(c *Config) {
		c.Lobby = "lobby"
		c.MaxConnsPerAddr = 2 * n
		c.RegisterRate = 2 * n
		c.SendQueue = 4 * n
		c.Logger = slog.New(slog.DiscardHandler) // -v would log every request
	})
	users := make([]*testUser, 0, n)
	start := time.Now()
	for i := range n {
		u := ts.register(t, fmt.Sprintf("user%03d", i))
		go func() { // read its events, as a daemon does
			for range u.c.Events() {
			}
		}()
		users = append(users, u)
	}
	t.Logf("%d registrations, each joining the lobby: %v", n, time.Since(start))

	timed := func(what string, fn func()) {
		const rounds = 20
		start := time.Now()
		for range rounds {
			fn()
		}
		t.Logf("%s: %v each (mean of %d)", what, time.Since(start)/rounds, rounds)
	}
	u := users[0]
	timed("group.members of the lobby (500 members)", func() {
		gm := call[wire.GroupMembersResponse](t, u.c, wire.OpGroupMembers, wire.GroupRequest{Group: "lobby"})
		if len(gm.Members) != n {
			t.Fatalf("%d members", len(gm.Members))
		}
	})
	timed("rooms.list", func() { call[wire.RoomsListResponse](t, u.c, wire.OpRoomsList, wire.RoomsListRequest{}) })
	timed("users.online (499 online)", func() {
		ol := call[wire.UsersOnlineResponse](t, u.c, wire.OpUsersOnline, wire.UsersOnlineRequest{})
		if len(ol.Users) != n-1 {
			t.Fatalf("%d online", len(ol.Users))
		}
	})
	timed("room.post", func() {
		call[wire.Empty](t, u.c, wire.OpRoomPost, wire.RoomPostRequest{Room: "lobby", ID: "0123456789abcdef0123456789abcdef"})
	})
}
