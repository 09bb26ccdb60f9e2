package daemon

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// friends makes alice and bob daemons that know each other (pinned keys,
// roster, the address of bob's listener) with real direct listeners on
// loopback and no server.
func friends(t *testing.T) (alice, bob *unitDaemon) {
	t.Helper()
	ctx := context.Background()
	alice, bob = newUnitDaemonAs(t, "alice"), newUnitDaemonAs(t, "bob")
	for _, u := range []*unitDaemon{alice, bob} {
		u.fake.setSession(false)
		if err := u.useIdentity(u.session.key()); err != nil {
			t.Fatal(err)
		}
	}
	pin := func(u *unitDaemon, other string, o *unitDaemon) {
		if _, err := u.db.PinKey(ctx, other, o.session.key().Public().(ed25519.PublicKey)); err != nil {
			t.Fatal(err)
		}
		u.roster.Load(history.Roster{Friends: []history.RosterFriend{{Username: other}}})
	}
	pin(alice, "bob", bob)
	pin(bob, "alice", alice)
	if err := alice.db.RememberAddr(ctx, "bob", bob.currentTransport().LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	return alice, bob
}

// TestDirectMessageAndReceipt: with no server, a message goes over a
// direct QUIC connection, is committed on the other side, and a receipt
// comes back the same way.
func TestDirectMessageAndReceipt(t *testing.T) {
	alice, bob := friends(t)
	ctx := context.Background()
	res, err := alice.Send(ctx, api.SendRequest{Target: "bob", Text: "hi bob"})
	if err != nil || res.Via != api.ViaDirect {
		t.Fatalf("Send = %+v, %v; want direct", res, err)
	}
	m, err := bob.db.Message(ctx, "alice", res.ID)
	if err != nil || m.Body != "hi bob" || m.Via != history.ViaDirect {
		t.Fatalf("bob has %+v, %v", m, err)
	}
	if got := alice.peers.list(); len(got) != 1 || got[0] != "bob" {
		t.Errorf("alice's peers %v", got)
	}
	eventually(t, "bob sees alice's connection", func() bool { return bob.peers.get("alice") != nil })
	bob.messages.sendReceipts(ctx, []wire.RelayRef{{From: "alice", ID: res.ID}})
	if m, _ := alice.db.Message(ctx, "alice", res.ID); m.State != history.StateDelivered {
		t.Errorf("after the receipt alice's copy is %s", m.State)
	}

	// A message of an unknown kind is refused by bob, and not stored.
	c := alice.peers.get("bob")
	poll := envelope.Message{ID: "0123456789abcdef0123456789abcdef", From: "alice", To: "bob", Sent: m.Sent, Kind: "poll", Body: []byte("?")}
	err = alice.messages.sendDirect(ctx, c, poll)
	if werr, ok := err.(*wire.Error); !ok || werr.Code != wire.CodeInvalid {
		t.Errorf("unknown kind: %v, want invalid", err)
	}
	if _, err := bob.db.Message(ctx, "alice", poll.ID); err == nil {
		t.Error("bob stored a message of an unknown kind")
	}
	if err := alice.messages.exchange(ctx, c, "receipt", Receipt{}); err == nil {
		t.Error("an unknown operation was answered")
	}
	if err := alice.messages.exchange(ctx, c, opMessage, directRequest{Message: []byte("not a message")}); err == nil {
		t.Error("a message that does not decode was answered")
	}

	st, err := alice.Status(ctx)
	if err != nil || st.Listen == "" || len(st.Peers) != 1 {
		t.Errorf("Status = %+v, %v", st, err)
	}
	diag, err := alice.Doctor(ctx)
	if err != nil || len(diag.Checks) < 4 {
		t.Errorf("Doctor = %+v, %v", diag, err)
	}
	if p, err := alice.Peers(ctx); err != nil || p.Discovery != api.DiscoveryOff {
		t.Errorf("Peers = %+v, %v", p, err)
	}

	// A broken path is dropped and the copy waits.
	bob.peers.closeAll()
	bob.currentTransport().Close()
	res, err = alice.Send(ctx, api.SendRequest{Target: "bob", Text: "still there?"})
	if err != nil || res.Via != api.ViaQueued {
		t.Errorf("Send to a gone peer = %+v, %v", res, err)
	}
}
