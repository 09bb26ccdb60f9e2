package rendezvous

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// TestRelayIDScopedToSender: a message's identity is (sender, id), so a
// co-member who relays another member's id first suppresses nothing, and
// acknowledging one takes out only that one.
func TestRelayIDScopedToSender(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	mallory := ts.register(t, "mallory")
	shareGroup(t, "ops", alice, bob, mallory)
	goOffline(t, bob, alice)

	relaySend(t, mallory, "bob", 1, "queued")
	relaySend(t, alice, "bob", 1, "queued")
	relaySend(t, alice, "bob", 1, "duplicate") // alice's own resend still is one

	bob2 := ts.login(t, bob)
	relayReceive(t, bob2, "mallory", 1)
	relayReceive(t, bob2, "alice", 1)
	relayAck(t, bob2, "mallory", 1)
	if got := storedRelay(t, ts, "bob"); fmt.Sprint(got) != fmt.Sprint(relayIDs(1)) {
		t.Fatalf("stored after acknowledging mallory's: %v, want alice's", got)
	}
	msgs, _ := ts.store.PendingRelay(context.Background(), "bob", 0, 10)
	if len(msgs) != 1 || msgs[0].Sender != "alice" {
		t.Fatalf("left: %+v, want alice's message", msgs)
	}
}

// TestRelaySenderQuota: one sender may have only so much waiting for one
// recipient; others still get through, and the sender is told why.
func TestRelaySenderQuota(t *testing.T) {
	t.Parallel()
	ts := startServer(t, func(c *Config) {
		c.RelayQuota = store.Quota{MaxCount: 100, MaxBytes: 1 << 20, SenderCount: 3, SenderBytes: 1 << 20}
	})
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	mallory := ts.register(t, "mallory")
	makeFriends(t, alice, bob)
	makeFriends(t, mallory, bob)
	makeFriends(t, mallory, alice)
	goOffline(t, bob, alice)

	for i := 1; i <= 3; i++ {
		relaySend(t, mallory, "bob", i, "queued")
	}
	werr := relayErr(t, mallory, wire.RelayEnvelope{To: "bob", ID: relayID(4), Envelope: envelopeOf(4)}, wire.CodeQuotaExceeded)
	t.Logf("mallory is told: %s", werr.Message)
	relaySend(t, mallory, "bob", 3, "duplicate")
	// Others are not held back by mallory's share, and mallory may still
	// write to someone else.
	relaySend(t, alice, "bob", 5, "queued")
	relaySend(t, mallory, "alice", 6, "queued")

	bob2 := ts.login(t, bob)
	relayReceive(t, bob2, "mallory", 1, 2, 3)
	relayReceive(t, bob2, "alice", 5)
	relayAck(t, bob2, "mallory", 1)
	relaySend(t, mallory, "bob", 4, "queued")

	t.Run("bytes", func(t *testing.T) {
		ts := startServer(t, func(c *Config) {
			c.RelayQuota = store.Quota{MaxCount: 100, MaxBytes: 1 << 20, SenderCount: 100, SenderBytes: 100}
		})
		alice := ts.register(t, "alice")
		bob := ts.register(t, "bob")
		makeFriends(t, alice, bob)
		goOffline(t, bob, alice)
		relayOne(t, alice, wire.RelayEnvelope{To: "bob", ID: relayID(1), Envelope: make([]byte, 60)})
		relayErr(t, alice, wire.RelayEnvelope{To: "bob", ID: relayID(2), Envelope: make([]byte, 41)}, wire.CodeQuotaExceeded)
		relayOne(t, alice, wire.RelayEnvelope{To: "bob", ID: relayID(3), Envelope: make([]byte, 40)})
	})
}

// TestRelayDropNotices: what the relay drops for good (retention expired,
// refused by the recipient) reaches its sender as relay.dropped, at once
// when online or at the next login, until acknowledged.
func TestRelayDropNotices(t *testing.T) {
	t.Parallel()
	clock := &relayClock{now: time.Now()}
	ts := startServer(t, func(c *Config) {
		c.Now = clock.Now
		c.RelayRetention = time.Hour
	})
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	makeFriends(t, alice, bob)
	makeFriends(t, carol, bob)
	goOffline(t, bob, alice)

	relaySend(t, alice, "bob", 1, "queued")
	relaySend(t, carol, "bob", 2, "queued")
	clock.advance(40 * time.Minute)
	relaySend(t, alice, "bob", 3, "queued")
	carol.c.Close()

	clock.advance(30 * time.Minute)
	ts.srv.expire(context.Background())
	if got := storedRelay(t, ts, "bob"); fmt.Sprint(got) != fmt.Sprint(relayIDs(3)) {
		t.Fatalf("stored after expiry: %v, want message 3", got)
	}
	// Alice is online: told at once.
	ev := waitEvent[wire.RelayDroppedEvent](t, alice.c, wire.EvRelayDropped)
	if len(ev.Drops) != 1 || ev.Drops[0].To != "bob" || ev.Drops[0].ID != relayID(1) || ev.Drops[0].Reason != wire.DropExpired {
		t.Fatalf("alice's notice: %+v", ev)
	}
	// Carol is told at her next login, and again until she acknowledges.
	carol2 := ts.login(t, carol)
	ev = waitEvent[wire.RelayDroppedEvent](t, carol2.c, wire.EvRelayDropped)
	if len(ev.Drops) != 1 || ev.Drops[0].ID != relayID(2) || ev.Drops[0].Reason != wire.DropExpired {
		t.Fatalf("carol's notice: %+v", ev)
	}
	carol3 := ts.login(t, carol2)
	waitEvent[wire.RelayDroppedEvent](t, carol3.c, wire.EvRelayDropped)
	call[wire.Empty](t, carol3.c, wire.OpRelayDroppedAck, wire.RelayDroppedAckRequest{Drops: []wire.RelayDropRef{{To: "bob", ID: relayID(2)}}})
	carol4 := ts.login(t, carol3)
	noEvent(t, carol4.c, wire.EvRelayDropped, 300*time.Millisecond)

	// Bob refuses message 3 (it does not open): alice is told.
	bob2 := ts.login(t, bob)
	relayReceive(t, bob2, "alice", 3)
	call[wire.Empty](t, bob2.c, wire.OpRelayAck, wire.RelayAckRequest{Refused: []wire.RelayRef{{From: "alice", ID: relayID(3)}}})
	if got := storedRelay(t, ts, "bob"); len(got) != 0 {
		t.Fatalf("stored after refusal: %v", got)
	}
	// Alice has not acknowledged the first notice: it comes with the next.
	ev = waitEvent[wire.RelayDroppedEvent](t, alice.c, wire.EvRelayDropped)
	if len(ev.Drops) != 2 || ev.Drops[1].ID != relayID(3) || ev.Drops[1].Reason != wire.DropRefused {
		t.Fatalf("alice's notices after the refusal: %+v", ev)
	}
	callErr(t, alice.c, wire.OpRelayDroppedAck, wire.RelayDroppedAckRequest{}, wire.CodeInvalid)
	callErr(t, alice.c, wire.OpRelayDroppedAck, wire.RelayDroppedAckRequest{Drops: []wire.RelayDropRef{{To: "bob", ID: "x"}}}, wire.CodeInvalid)
}
