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
	srv := startServer(t)
	alice, bob := newUser(t, srv, "alice"), newUser(t, srv, "bob")
	alice.start(t)
	bob.start(t)
	alice.register(t)
	bob.register(t)
	befriendUsers(t, alice, bob)

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
			mallory.call(t, wire.OpRelaySend, wire.RelaySendRequest{To: "bob", ID: id, Envelope: env}, &resp)
			if resp.Status != "queued" {
				t.Fatalf("junk %d: relay status %q", i, resp.Status)
			}
		}
		if round == 2 {
			alice.start(t)
		}
		text := fmt.Sprintf("round %d: behind the junk", round)
		if out := alice.must(t, "send", "bob", text); !strings.Contains(out, "(relayed)") {
			t.Fatalf("send to offline bob: %q; want relayed", out)
		}
		alice.waitState(t, "bob", text, "sent", 10*time.Second)

		began := time.Now()
		bob.start(t)
		got := bob.waitMessage(t, "alice", text, 30*time.Second)
		t.Logf("round %d: alice's message reached bob %v after his daemon started", round, time.Since(began).Round(time.Millisecond))
		if got.Via != "relay" {
			t.Fatalf("round %d: arrived via %q", round, got.Via)
		}
		alice.waitState(t, "bob", text, "delivered", 20*time.Second)

		// None of the junk is in bob's history: the only conversations
		// are with alice.
		var cs []api.Conversation
		bob.mustJSON(t, &cs, "recent")
		for _, c := range cs {
			if c.Target != "alice" {
				t.Errorf("round %d: bob has a conversation %q (%q)", round, c.Target, c.Preview)
			}
		}
		if out := bob.must(t, "history", "mallory"); strings.Contains(out, "junk") {
			t.Errorf("round %d: junk in bob's history with mallory:\n%s", round, out)
		}
		if round == 1 {
			alice.stop(t)
		}
	}
	if !strings.Contains(bob.daemon.output(), "parked") {
		t.Errorf("bob's daemon logged nothing about parked envelopes")
	}
}
