package daemon

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/outbox"
	"github.com/lanchat/lanchat/peer/history"
)

// TestDirectSenderIsTheConnectionsUser: alice, connected to bob, sends
// messages that claim to be carol's, or are addressed to someone else.
// Bob refuses them and stores nothing; the same message as alice's, to
// bob, is taken.
func TestDirectSenderIsTheConnectionsUser(t *testing.T) {
	alice, bob := friends(t)
	ctx := context.Background()
	bob.roster.Load(history.Roster{Friends: []history.RosterFriend{{Username: "alice"}, {Username: "carol"}}})
	c := alice.peers.connect(ctx, "bob", false)
	if c == nil {
		t.Fatal("alice cannot reach bob")
	}
	const id = "0123456789abcdef0123456789abcdef"
	m := envelope.Message{ID: id, From: "carol", To: "bob", Sent: time.Now(), Kind: history.KindText, Body: []byte("it's carol, honest")}
	for _, tt := range []struct {
		name     string
		from, to string
	}{
		{"another sender", "carol", "bob"},
		{"another recipient", "alice", "carol"},
	} {
		m.From, m.To = tt.from, tt.to
		err := alice.messages.sendDirect(ctx, c, m)
		var werr *wire.Error
		if !errors.As(err, &werr) || werr.Code != wire.CodeForbidden {
			t.Errorf("%s: %v, want forbidden", tt.name, err)
		}
		for _, from := range []string{"carol", "alice"} {
			if _, err := bob.db.Message(ctx, from, id); err == nil {
				t.Fatalf("%s: bob stored it as %s's", tt.name, from)
			}
		}
	}
	m.From, m.To = "alice", "bob"
	if err := alice.messages.sendDirect(ctx, c, m); err != nil {
		t.Fatalf("alice's own message: %v", err)
	}
	if got, err := bob.db.Message(ctx, "alice", id); err != nil || got.Body != string(m.Body) {
		t.Errorf("bob has %+v, %v", got, err)
	}
}

// TestDirectAndRelayedStoreTheSameRow sends alice's messages, a text and
// a reply (a kind whose wire body is its JSON, not its text), to bob
// directly, and the very same stored messages through the relay, one
// alone and one in a batch, to bob's account on a second machine: both
// machines store the same rows.
func TestDirectAndRelayedStoreTheSameRow(t *testing.T) {
	alice, bob := friends(t)
	ctx := context.Background()

	// bob2 is bob's account on another machine: the same identity key,
	// reached only through the relay.
	bob2 := newUnitDaemonAs(t, "bob")
	bob2.session.setIdentity(bob.session.key())
	if _, err := bob2.db.PinKey(ctx, "alice", alice.session.key().Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	bob2.roster.Load(history.Roster{Friends: []history.RosterFriend{{Username: "alice"}}})
	spk, err := bob2.session.newPrekey(ctx, bob2.session.key(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	relayed := make(chan wire.RelayEnvelope, 4)
	alice.serveKeysOf("bob", bob.session.key().Public().(ed25519.PublicKey), spk, relayed)
	alice.fake.setSession(true)

	text, err := alice.Send(ctx, api.SendRequest{Target: "bob", Text: "lunch at noon?"})
	if err != nil || text.Via != api.ViaDirect {
		t.Fatalf("Send = %+v, %v; want direct", text, err)
	}
	reply, err := alice.Send(ctx, api.SendRequest{Target: "bob", Text: "or one?", ReplyTo: text.ID})
	if err != nil || reply.Via != api.ViaDirect {
		t.Fatalf("Send reply = %+v, %v; want direct", reply, err)
	}

	relay := relayPath{alice.messages}
	for i, id := range []string{text.ID, reply.ID} {
		sent, err := alice.db.Message(ctx, "alice", id)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			err = relay.Deliver(ctx, "bob", sent)
		} else {
			err = relay.DeliverBatch(ctx, []outbox.Copy{{To: "bob", Message: sent}})[0]
		}
		if err != nil {
			t.Fatalf("relay %s: %v", id, err)
		}
		env := <-relayed
		f, err := wire.NewEvent(wire.EvRelay, wire.RelayBatchEvent{Envelopes: []wire.RelayEvent{{ID: env.ID, From: "alice", Envelope: env.Envelope, At: time.Now()}}})
		if err != nil {
			t.Fatal(err)
		}
		bob2.feed.handleServerEvent(ctx, f)

		direct, err := bob.db.Message(ctx, "alice", id)
		if err != nil {
			t.Fatalf("direct copy: %v", err)
		}
		viaRelay, err := bob2.db.Message(ctx, "alice", id)
		if err != nil {
			t.Fatalf("relayed copy: %v", err)
		}
		if direct.Via != history.ViaDirect || viaRelay.Via != history.ViaRelay {
			t.Errorf("via %s and %s", direct.Via, viaRelay.Via)
		}
		direct.Via, direct.Received = viaRelay.Via, viaRelay.Received
		if direct != viaRelay {
			t.Errorf("message %d differs:\n direct  %+v\n relayed %+v", i, direct, viaRelay)
		}
		if i == 1 && (direct.Kind == history.KindText || direct.Meta == "") {
			t.Errorf("the reply was stored as %q with meta %q", direct.Kind, direct.Meta)
		}
	}
}

// TestLargestDirectMessageFits: the largest message the envelope
// package encodes, base64 in its request frame, is within the direct
// frame limit, so whatever may be relayed may also go directly.
func TestLargestDirectMessageFits(t *testing.T) {
	name := strings.Repeat("a", wire.MaxUsername)
	m := envelope.Message{
		ID: "0123456789abcdef0123456789abcdef", From: name, To: name, Group: "fedcba9876543210fedcba9876543210",
		Sent: time.Now(), Kind: strings.Repeat("k", envelope.MaxKind), Body: make([]byte, envelope.MaxBody),
	}
	b, err := envelope.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	f, err := wire.NewRequest(1, opMessage, directRequest{Message: b})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := wire.WriteFrame(&buf, f); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > maxDirectFrame {
		t.Errorf("the largest message takes a frame of %d bytes, more than %d", buf.Len(), maxDirectFrame)
	}
}
