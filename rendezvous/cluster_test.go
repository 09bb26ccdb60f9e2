package rendezvous

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// memBus is a Bus in memory: every node's Listen gets every event. kill
// makes a node vanish as a dead one would: it hears nothing more and is
// not live.
type memBus struct {
	mu   sync.Mutex
	subs map[string]chan ClusterEvent
	dead map[string]bool
}

func newMemBus() *memBus {
	return &memBus{subs: make(map[string]chan ClusterEvent), dead: make(map[string]bool)}
}

func (b *memBus) Publish(_ context.Context, ev ClusterEvent) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dead[ev.Node] {
		return nil
	}
	for _, ch := range b.subs {
		ch <- ev
	}
	return nil
}

func (b *memBus) Listen(ctx context.Context, node string, handle func(ClusterEvent)) error {
	ch := make(chan ClusterEvent, 1024)
	b.mu.Lock()
	b.subs[node] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.subs, node)
		b.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-ch:
			handle(ev)
		}
	}
}

func (b *memBus) LiveNodes(context.Context) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for n := range b.subs {
		if !b.dead[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

func (b *memBus) kill(node string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dead[node] = true
	delete(b.subs, node)
}

// startNodes starts two servers on one store joined by one bus.
func startNodes(t *testing.T) (a, b *testServer, bus *memBus) {
	t.Helper()
	bus = newMemBus()
	withBus := func(c *Config) { c.Bus = bus }
	a = startServer(t, withBus)
	b = startServerWrapped(t, withBus, func(store.Store) store.Store { return a.store })
	return a, b, bus
}

// Users on two nodes see each other's presence, get each other's friend
// events and relayed messages at once, and one session per account holds
// across nodes.
func TestClusterEvents(t *testing.T) {
	a, b, _ := startNodes(t)
	alice := a.register(t, "alice")
	bob := b.register(t, "bob")

	call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"})
	if ev := waitEvent[wire.FriendEvent](t, bob.c, wire.EvFriendRequest); ev.Username != "alice" {
		t.Fatalf("friend request on node b: %+v", ev)
	}
	call[wire.Empty](t, bob.c, wire.OpFriendAccept, wire.UserRequest{Username: "alice"})
	if ev := waitEvent[wire.FriendEvent](t, alice.c, wire.EvFriendAccepted); ev.Username != "bob" {
		t.Fatalf("friend accepted on node a: %+v", ev)
	}
	if p := waitEvent[wire.Presence](t, alice.c, wire.EvPresence); p.Username != "bob" || p.Status != wire.StatusOnline {
		t.Fatalf("alice sees %+v", p)
	}
	call[wire.Empty](t, bob.c, wire.OpPresenceSet, wire.PresenceSetRequest{Status: wire.StatusAway})
	if p := waitEvent[wire.Presence](t, alice.c, wire.EvPresence); p.Username != "bob" || p.Status != wire.StatusAway {
		t.Fatalf("after presence.set on node b alice sees %+v", p)
	}
	// friends.list on node a reports bob's presence on node b.
	fl := call[wire.FriendsListResponse](t, alice.c, wire.OpFriendsList, wire.Empty{})
	if len(fl.Friends) != 1 || fl.Friends[0].Presence.Status != wire.StatusAway {
		t.Fatalf("friends.list on node a: %+v", fl.Friends)
	}

	relaySend(t, alice, "bob", 1, "queued")
	relayReceive(t, bob, "alice", 1)
	relayAck(t, bob, "alice", 1)

	// bob signs in on node a: his connection to node b is signed out.
	bobA := a.login(t, bob)
	if ev := waitEvent[wire.SignedOutEvent](t, bob.c, wire.EvSignedOut); ev.Reason != wire.SignedOutElsewhere {
		t.Fatalf("signed_out on node b: %+v", ev)
	}
	// ... and alice sees him online on node a, never offline for it.
	quiet := time.After(500 * time.Millisecond)
	for done := false; !done; {
		select {
		case f := <-alice.c.Events():
			var p wire.Presence
			if f.Op == wire.EvPresence && json.Unmarshal(f.Body, &p) == nil && p.Status == wire.StatusOffline {
				t.Fatalf("alice saw bob go offline when he signed in on the other node: %+v", p)
			}
		case <-quiet:
			done = true
		}
	}
	relaySend(t, alice, "bob", 2, "queued")
	relayReceive(t, bobA, "alice", 2)
}

// When a node dies, the users connected there go offline for the users
// of the other nodes.
func TestClusterDeadNode(t *testing.T) {
	a, b, bus := startNodes(t)
	alice := a.register(t, "alice")
	bob := b.register(t, "bob")
	befriend(t, alice, bob)
	if p := waitEvent[wire.Presence](t, alice.c, wire.EvPresence); p.Status != wire.StatusOnline {
		t.Fatalf("alice sees %+v", p)
	}
	bus.kill(b.srv.cluster.node)
	timeout := time.After(deadAfter*nodeLiveness + 5*time.Second)
	for {
		select {
		case f := <-alice.c.Events():
			if f.Op != wire.EvPresence {
				continue
			}
			var p wire.Presence
			if err := json.Unmarshal(f.Body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Username == "bob" && p.Status == wire.StatusOffline {
				return
			}
		case <-timeout:
			t.Fatal("alice still sees bob online after his node died")
		}
	}
}
