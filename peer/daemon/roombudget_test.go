package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/history"
)

// TestDirectRoomMessagesHeldToTheRoomRate: room messages that reach the
// daemon directly, not through the server, are held to the room's
// per-minute rate per member, as room.post holds the sender: a daemon
// that skips room.post cannot flood the members it reaches on the LAN.
// Over the budget a copy is refused as rate_limited (the sender's outbox
// then tries the relay). Another member has a budget of its own, and a
// group (not a room) has none.
func TestDirectRoomMessagesHeldToTheRoomRate(t *testing.T) {
	u := newUnitDaemon(t)
	const roomID, groupID = "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"
	// The room as groups.list gives it, with the server's rate.
	var room wire.Group
	if err := json.Unmarshal([]byte(`{"id":"`+roomID+`","name":"lobby","room":true,"rate":3}`), &room); err != nil {
		t.Fatal(err)
	}
	u.fake.mu.Lock()
	u.fake.handle = func(op string, req, resp any) error {
		switch r := resp.(type) {
		case *wire.GroupsListResponse:
			r.Rooms = []wire.Group{room}
			r.Groups = []wire.Group{{ID: groupID, Name: "team", Owner: "bob"}}
		case *wire.GroupMembersResponse:
			r.Members = []wire.Member{{Username: "bob"}, {Username: "mallory"}, {Username: "erin"}}
		}
		return nil
	}
	u.fake.mu.Unlock()
	ctx := context.Background()
	if err := u.feed.syncRoster(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	send := func(from, group string) *wire.Error {
		t.Helper()
		n++
		b, err := envelope.Encode(envelope.Message{ID: fmt.Sprintf("%032x", n), From: from, To: "bob", Group: group,
			Kind: history.KindText, Body: []byte("hi"), Sent: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		f, err := wire.NewRequest(1, opMessage, directRequest{Message: b})
		if err != nil {
			t.Fatal(err)
		}
		_, werr := u.messages.handleDirect(ctx, from, f)
		return werr
	}
	for i := range 3 {
		if werr := send("mallory", roomID); werr != nil {
			t.Fatalf("message %d of 3 refused: %v", i+1, werr)
		}
	}
	werr := send("mallory", roomID)
	if werr == nil || werr.Code != wire.CodeRateLimited || werr.RetryAfterMS <= 0 {
		t.Fatalf("a 4th room message within the minute: %v, want rate_limited with a retry time", werr)
	}
	if werr := send("erin", roomID); werr != nil {
		t.Fatalf("another member's message refused: %v", werr)
	}
	for range 5 {
		if werr := send("mallory", groupID); werr != nil {
			t.Fatalf("a group (not a room) message refused: %v", werr)
		}
	}
}
