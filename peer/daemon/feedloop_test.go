package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/link"
)

func serverEvent(t *testing.T, op string, body any) link.Event {
	t.Helper()
	f, err := wire.NewEvent(op, body)
	if err != nil {
		t.Fatal(err)
	}
	return link.Event{Kind: link.EventServer, Frame: f}
}

// TestServerLoopActsInOrder feeds the loop what a server pushes: a drop
// notice fails the copy it names, friend and group changes resync, a key
// change holds the contact.
func TestServerLoopActsInOrder(t *testing.T) {
	u := newUnitDaemon(t)
	srv := u.serve(t)
	srv.befriend("carol")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := u.events.subscribe(ctx)
	if err := u.feed.syncRoster(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := u.Send(ctx, api.SendRequest{Target: "carol", Text: "will be dropped"})
	if err != nil {
		t.Fatal(err)
	}
	done, synced := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); u.feed.serverLoop(ctx) }()
	// A group change is told once the sync it asks for has run.
	go func() { defer close(synced); u.feed.syncLoop(ctx) }()
	defer func() { cancel(); <-synced }()

	u.fake.events <- serverEvent(t, wire.EvRelayDropped, wire.RelayDroppedEvent{Drops: []wire.RelayDrop{{To: "carol", ID: res.ID, Reason: wire.DropExpired}}})
	u.fake.events <- serverEvent(t, wire.EvFriendRequest, wire.FriendEvent{Username: "dave"})
	u.fake.events <- serverEvent(t, wire.EvGroup, wire.GroupEvent{Change: "created", Group: teamGroup})
	timeout := time.After(10 * time.Second)
	seen := func(want map[string]bool) {
		t.Helper()
		for len(want) > 0 {
			select {
			case ev := <-events:
				delete(want, ev.Type)
			case <-timeout:
				t.Fatalf("events not seen: %v", want)
			}
		}
	}
	seen(map[string]bool{api.EventMessageState: true, api.EventFriendRequest: true, api.EventGroup: true})
	// The roster sync the group change asked for has run: the key change
	// comes after it (this fake server would still give carol's old key).
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	u.fake.events <- serverEvent(t, wire.EvKeyChanged, wire.KeyChangedEvent{Username: "carol", IdentityKey: other})
	u.fake.events <- serverEvent(t, wire.EvShutdown, struct{}{})
	seen(map[string]bool{api.EventKeyChanged: true})
	if m, _ := u.db.Message(ctx, "bob", res.ID); m.State != history.StateFailed {
		t.Errorf("the dropped copy is %s, want failed", m.State)
	}
	if held, err := u.db.Held(ctx, "carol"); err != nil || !held {
		t.Errorf("carol held = %v, %v; want held after her key changed", held, err)
	}
	if dropReason("other") == "" || dropReason(wire.DropRefused) == "" {
		t.Error("no words for a drop")
	}
	cancel()
	<-done
}
