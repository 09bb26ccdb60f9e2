package daemon

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// queueTo stores n messages from alice to bob in alice's outbox, as Send
// does, without trying them, and returns their ids in order.
func queueTo(t *testing.T, alice *unitDaemon, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id, err := newMessageID()
		if err != nil {
			t.Fatal(err)
		}
		m := history.Message{ID: id, Conversation: history.Direct("bob"), From: "alice", Kind: history.KindText, Body: fmt.Sprint("message ", i), Sent: time.Now()}
		if _, err := alice.db.AddOutgoing(context.Background(), m, []string{"bob"}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// bodies is bob's conversation with alice, oldest first.
func bodies(t *testing.T, bob *unitDaemon) []string {
	t.Helper()
	page, err := bob.db.History(context.Background(), history.Direct("alice"), 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range page {
		out = append(out, m.ID)
	}
	return out
}

// TestDirectRunOneRequestOneCommit: the copies waiting for bob go over
// the direct connection together, and bob stores them in order with one
// durable commit before he answers.
func TestDirectRunOneRequestOneCommit(t *testing.T) {
	alice, bob := friends(t)
	ctx := context.Background()
	ids := queueTo(t, alice, 10)
	before := bob.db.Commits()
	got := alice.outbox.Flush(ctx, "bob", true)
	for _, id := range ids {
		if got[id] != api.ViaDirect {
			t.Fatalf("Flush = %v, want every copy direct", got)
		}
	}
	after := bob.db.Commits()
	if n := after.Synced - before.Synced; n != 1 {
		t.Errorf("bob made %d durable commits for the run, want 1", n)
	}
	if got := bodies(t, bob); !slices.Equal(got, ids) {
		t.Errorf("bob's history %v, want %v", got, ids)
	}
	for _, id := range ids {
		if m, err := alice.db.Message(ctx, "alice", id); err != nil || m.State != history.StateDelivered {
			t.Errorf("alice's copy of %s: %+v, %v; want delivered", id, m.State, err)
		}
	}
}

// TestDirectRunStopsAtARefusalAndRetries: bob refuses one copy of a run
// (its id is taken); nothing after it is stored before it. The copy
// waits while the relay is away and goes through it when it is back;
// the copies behind it then go directly, in order.
func TestDirectRunStopsAtARefusalAndRetries(t *testing.T) {
	alice, bob := friends(t)
	ctx := context.Background()
	ids := queueTo(t, alice, 4)
	// bob already has alice's second id in another conversation.
	taken := history.Message{ID: ids[1], Conversation: history.Group("00112233445566778899aabbccddeeff"), From: "alice", Kind: history.KindText, Body: "elsewhere", Sent: time.Now(), Via: history.ViaDirect}
	if _, err := bob.db.AddIncoming(ctx, taken); err != nil {
		t.Fatal(err)
	}

	got := alice.outbox.Flush(ctx, "bob", true)
	want := map[string]string{ids[0]: api.ViaDirect, ids[1]: api.ViaQueued, ids[2]: api.ViaQueued, ids[3]: api.ViaQueued}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Flush with no relay = %v, want %v", got, want)
	}
	if got := bodies(t, bob); !slices.Equal(got, ids[:1]) {
		t.Fatalf("bob's history %v, want the first alone", got)
	}
	items, err := alice.db.Pending(ctx, "bob", 10)
	if err != nil || len(items) != 3 || items[0].Message.ID != ids[1] || items[0].Attempts != 1 {
		t.Fatalf("alice's outbox %+v, %v; want the refused copy first, tried once, then the rest", items, err)
	}

	// The server is back: the refused copy goes through the relay, the
	// rest directly behind it.
	relayed := make(chan wire.RelayEnvelope, 10)
	serveBobsKeys(t, alice, bob, relayed)
	got = alice.outbox.Flush(ctx, "bob", true)
	want = map[string]string{ids[1]: api.ViaRelay, ids[2]: api.ViaDirect, ids[3]: api.ViaDirect}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("retry = %v, want %v", got, want)
	}
	if env := <-relayed; env.ID != ids[1] || env.To != "bob" {
		t.Errorf("relayed %s to %s, want %s to bob", env.ID, env.To, ids[1])
	}
	if got := bodies(t, bob); !slices.Equal(got, []string{ids[0], ids[2], ids[3]}) {
		t.Errorf("bob's history %v", got)
	}
}

// serveBobsKeys gives alice a server link that hands out bob's keys and
// takes relayed envelopes into got.
func serveBobsKeys(t *testing.T, alice, bob *unitDaemon, got chan<- wire.RelayEnvelope) {
	t.Helper()
	spk, _, err := keys.NewPrekey(bob.session.key(), "bob", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	alice.serveKeysOf("bob", bob.session.key().Public().(ed25519.PublicKey), spk, got)
	alice.fake.setSession(true)
}

// TestReceiveRunTakesAPrefix: a run is taken in order up to the first
// message that cannot be taken; what follows it is not stored.
func TestReceiveRunTakesAPrefix(t *testing.T) {
	_, bob := friends(t)
	ctx := context.Background()
	msg := func(from, id, kind string) []byte {
		b, err := envelope.Encode(envelope.Message{ID: id, From: from, To: "bob", Sent: time.Now(), Kind: kind, Body: []byte("text of " + id)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := fmt.Sprintf("%032x", 1), fmt.Sprintf("%032x", 2), fmt.Sprintf("%032x", 3)
	n, werr := bob.messages.receiveRun(ctx, "alice", [][]byte{msg("alice", a, history.KindText), msg("alice", b, "poll"), msg("alice", c, history.KindText)})
	if n != 1 || werr == nil || werr.Code != wire.CodeInvalid {
		t.Fatalf("receiveRun = %d, %v; want 1 taken, then invalid", n, werr)
	}
	if got := bodies(t, bob); !slices.Equal(got, []string{a}) {
		t.Errorf("bob's history %v, want the first alone", got)
	}
	// A message that names another sender than the connection's, or
	// comes from someone who is not a contact, is not taken.
	n, werr = bob.messages.receiveRun(ctx, "alice", [][]byte{msg("carol", c, history.KindText)})
	if n != 0 || werr == nil || werr.Code != wire.CodeForbidden {
		t.Errorf("another sender's: %d taken, %v", n, werr)
	}
	n, werr = bob.messages.receiveRun(ctx, "mallory", [][]byte{msg("mallory", c, history.KindText)})
	if n != 0 || werr == nil {
		t.Errorf("from a stranger: %d taken, %v", n, werr)
	}
	// Bytes that do not decode stop the run there.
	n, werr = bob.messages.receiveRun(ctx, "alice", [][]byte{[]byte("{"), msg("alice", c, history.KindText)})
	if n != 0 || werr == nil || werr.Code != wire.CodeMalformed {
		t.Errorf("undecodable: %d taken, %v", n, werr)
	}
	// A redelivery is taken again, and stored once.
	n, werr = bob.messages.receiveRun(ctx, "alice", [][]byte{msg("alice", a, history.KindText), msg("alice", c, history.KindText)})
	if n != 2 || werr != nil {
		t.Fatalf("redelivery = %d, %v", n, werr)
	}
	if got := bodies(t, bob); !slices.Equal(got, []string{a, c}) {
		t.Errorf("bob's history %v", got)
	}
}

// TestReceiptOneCommit: a receipt for many messages records them all
// with one durable commit, not one each.
func TestReceiptOneCommit(t *testing.T) {
	alice, _ := friends(t)
	ctx := context.Background()
	ids := queueTo(t, alice, 8)
	for _, id := range ids {
		if err := alice.db.Done(ctx, id, "bob", history.ViaRelay); err != nil {
			t.Fatal(err)
		}
	}
	before := alice.db.Commits()
	if werr := alice.messages.receipt(ctx, "bob", ids); werr != nil {
		t.Fatal(werr)
	}
	if n := alice.db.Commits().Synced - before.Synced; n != 1 {
		t.Errorf("%d durable commits for a receipt of %d, want 1", n, len(ids))
	}
	for _, id := range ids {
		if m, err := alice.db.Message(ctx, "alice", id); err != nil || m.State != history.StateDelivered {
			t.Errorf("%s: %s, %v; want delivered", id, m.State, err)
		}
	}
}
