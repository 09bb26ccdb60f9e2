package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
)

// junkPerRound is how many envelopes mallory relays to bob per round:
// more than the server's delivery window many times over.
const junkPerRound = 500

// TestRelayJunkDoesNotStall has a friend of bob's, mallory (a crafted
// client with real keys), relay junkPerRound envelopes naming a group bob
// is not in while bob's daemon is stopped; then alice's daemon relays one
// message. Bob's daemon must take the junk out of the server's window
// (parking it, never showing it) and receive alice's message; and again
// after both daemons restart, with a second round of junk in front.
func TestRelayJunkDoesNotStall(t *testing.T) {
	srv, alice, bob := startFriends(t)

	mallory := newPeer(t, "mallory")
	mallory.register(t, srv)
	mallory.call(t, wire.OpFriendRequest, wire.UserRequest{Username: "bob"}, nil)
	bob.must(t, "friend", "accept", "mallory")

	for round := 1; round <= 2; round++ {
		bob.stop(t)
		var kr wire.KeysResponse
		mallory.call(t, wire.OpKeysGet, wire.UserRequest{Username: "bob"}, &kr)
		for i := range junkPerRound {
			var b [32]byte
			rand.Read(b[:])
			id, group := hex.EncodeToString(b[:16]), hex.EncodeToString(b[16:])
			env, err := envelope.Seal(envelope.Message{
				ID: id, From: "mallory", To: "bob", Group: group, Sent: time.Now(), Kind: "text",
				Body: []byte(fmt.Sprintf("junk %d of round %d", i, round)),
			}, mallory.identity, kr.Prekey)
			if err != nil {
				t.Fatal(err)
			}
			var resp wire.RelaySendResponse
			mallory.call(t, wire.OpRelaySend, relayOne("bob", id, env), &resp)
			if relayStatus(resp) != "queued" {
				t.Fatalf("junk %d: relay status %q", i, relayStatus(resp))
			}
		}
		var future, past time.Time
		if round == 1 {
			// Two real messages from mallory with lying clocks: they are
			// shown in the order they arrived, with their send times
			// clamped near it and the claimed ones kept.
			future, past = time.Now().Add(time.Hour).UTC(), time.Now().Add(-10*24*time.Hour).UTC()
			for _, c := range []struct {
				text string
				sent time.Time
			}{{"from the future", future}, {"from the past", past}} {
				var b [16]byte
				rand.Read(b[:])
				id := hex.EncodeToString(b[:])
				env, err := envelope.Seal(envelope.Message{
					ID: id, From: "mallory", To: "bob", Sent: c.sent, Kind: "text", Body: []byte(c.text),
				}, mallory.identity, kr.Prekey)
				if err != nil {
					t.Fatal(err)
				}
				mallory.call(t, wire.OpRelaySend, relayOne("bob", id, env), nil)
			}
		}
		if round == 2 {
			alice.start(t)
		}
		// Relayed at once, or (alice's daemon just started and is not back
		// on the server yet) queued and relayed when it is.
		text := fmt.Sprintf("round %d: behind the junk", round)
		if out := alice.must(t, "send", "bob", text); !strings.Contains(out, "(relayed)") && !strings.Contains(out, "queued") {
			t.Fatalf("send to offline bob: %q; want relayed or queued", out)
		}
		alice.waitState(t, "bob", text, "sent", 20*time.Second)
		if m := withText(alice.history(t, "bob"), text); m[0].Via != "relay" {
			t.Fatalf("round %d: alice's message left via %q", round, m[0].Via)
		}

		began := time.Now()
		bob.start(t)
		got := bob.waitMessage(t, "alice", text, 30*time.Second)
		t.Logf("round %d: alice's message reached bob %v after his daemon started", round, time.Since(began).Round(time.Millisecond))
		if got.Via != "relay" {
			t.Fatalf("round %d: arrived via %q", round, got.Via)
		}
		alice.waitState(t, "bob", text, "delivered", 20*time.Second)

		// None of the junk is in bob's history: the only conversations
		// are with alice (and mallory's two real messages).
		var cs []api.Conversation
		bob.mustJSON(t, &cs, "recent")
		for _, c := range cs {
			if c.Target != "alice" && c.Target != "mallory" {
				t.Errorf("round %d: bob has a conversation %q (%q)", round, c.Target, c.Preview)
			}
		}
		if out := bob.must(t, "history", "mallory", "--limit", "1000"); strings.Contains(out, "junk") {
			t.Errorf("round %d: junk in bob's history with mallory:\n%s", round, out)
		}
		if round == 1 {
			ms := bob.history(t, "mallory")
			if len(ms) != 2 || ms[0].Text != "from the future" || ms[1].Text != "from the past" {
				t.Fatalf("bob's history with mallory: %+v", ms)
			}
			if !ms[0].ClaimedSent.Equal(future) || ms[0].Sent.After(began.Add(2*time.Minute)) {
				t.Errorf("a message claimed an hour ahead: sent %v, claimed %v", ms[0].Sent, ms[0].ClaimedSent)
			}
			if !ms[1].ClaimedSent.Equal(past) || ms[1].Sent.Before(began.Add(-25*time.Hour)) {
				t.Errorf("a message claimed ten days old: sent %v, claimed %v", ms[1].Sent, ms[1].ClaimedSent)
			}
			alice.stop(t)
		}
	}
	if !strings.Contains(bob.daemon.output(), "parked") {
		t.Errorf("bob's daemon logged nothing about parked envelopes")
	}
}

// TestRelayDroppedMessageFails: a message the relay drops undelivered
// (here its retention passes while bob is away) ends failed, with the
// reason, on alice's side instead of sent forever.
func TestRelayDroppedMessageFails(t *testing.T) {
	srv := startRendezvous(t, freeAddr(t), t.TempDir(), "--relay-retention", "3s")
	alice, bob := newUser(t, srv, "alice"), newUser(t, srv, "bob")
	alice.start(t)
	bob.start(t)
	alice.register(t)
	bob.register(t)
	befriendUsers(t, alice, bob)
	bob.stop(t)

	text := "nobody will read this"
	if out := alice.must(t, "send", "bob", text); !strings.Contains(out, "(relayed)") {
		t.Fatalf("send to offline bob: %q; want relayed", out)
	}
	alice.waitState(t, "bob", text, "failed", 30*time.Second)
	m := withText(alice.history(t, "bob"), text)[0]
	if !strings.Contains(m.Error, "bob") || !strings.Contains(m.Error, "retention") {
		t.Errorf("failed message's error: %q", m.Error)
	}
	if out := alice.must(t, "history", "bob"); !strings.Contains(out, "failed") {
		t.Errorf("history does not say failed:\n%s", out)
	}
}

// TestRelayParkedUntilContact: mallory relays bob a message and then ends
// the friendship before bob's daemon is back; bob's daemon parks it (not
// a contact now) rather than show it or leave it on the server, and takes
// it once they are friends again and the roster is synced.
func TestRelayParkedUntilContact(t *testing.T) {
	srv, us := startUsers(t, "bob")
	bob := us[0]
	mallory := newPeer(t, "mallory")
	mallory.register(t, srv)
	acceptPeer(t, bob, mallory)
	bob.stop(t)

	var kr wire.KeysResponse
	mallory.call(t, wire.OpKeysGet, wire.UserRequest{Username: "bob"}, &kr)
	text := "sent while we were friends"
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	env, err := envelope.Seal(envelope.Message{ID: id, From: "mallory", To: "bob", Sent: time.Now(), Kind: "text", Body: []byte(text)},
		mallory.identity, kr.Prekey)
	if err != nil {
		t.Fatal(err)
	}
	mallory.call(t, wire.OpRelaySend, relayOne("bob", id, env), nil)
	mallory.call(t, wire.OpFriendRemove, wire.UserRequest{Username: "bob"}, nil)

	bob.start(t)
	eventually(t, 20*time.Second, func() (bool, string) {
		return strings.Contains(bob.daemon.output(), "parked relayed envelopes"), "bob's daemon parked nothing"
	})
	if ms := withText(bob.history(t, "mallory"), text); len(ms) != 0 {
		t.Fatalf("an ex-friend's message was shown: %+v", ms)
	}
	mallory.call(t, wire.OpFriendRequest, wire.UserRequest{Username: "bob"}, nil)
	bob.must(t, "friend", "accept", "mallory")
	bob.waitMessage(t, "mallory", text, 20*time.Second)
}
