package daemon

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/history"
)

// TestRelayedTextsOneCommitInOrder: the texts of one batch of relayed
// envelopes are committed together, in the relay's order, before the
// batch is acknowledged; one whose id is taken is refused and the ones
// after it are still taken.
func TestRelayedTextsOneCommitInOrder(t *testing.T) {
	u := newUnitDaemon(t)
	srv := u.serve(t)
	ctx := context.Background()
	srv.befriend("carol")
	if err := u.feed.syncRoster(ctx); err != nil {
		t.Fatal(err)
	}
	spk, err := u.session.newPrekey(ctx, u.session.key(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	batch := func(ids ...string) *wire.Frame {
		var evs []wire.RelayEvent
		for _, id := range ids {
			sealed, err := envelope.Seal(envelope.Message{ID: id, From: "carol", To: "bob", Sent: time.Now(), Kind: history.KindText, Body: []byte("text " + id)}, u.carol, spk)
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, wire.RelayEvent{ID: id, From: "carol", Envelope: sealed, At: time.Now()})
		}
		f, err := wire.NewEvent(wire.EvRelay, wire.RelayBatchEvent{Envelopes: evs})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	id := func(n int) string { return fmt.Sprintf("%032x", n) }
	timeline := func() []string {
		page, err := u.db.History(ctx, "u:carol", 100, "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range page {
			out = append(out, m.ID)
		}
		return out
	}

	before := u.db.Commits()
	u.messages.receiveRelayed(ctx, batchEvents(t, batch(id(1), id(2), id(3), id(4), id(5))))
	if n := u.db.Commits().Synced - before.Synced; n != 1 {
		t.Errorf("%d durable commits for a batch of 5 texts, want 1", n)
	}
	if got := timeline(); !slices.Equal(got, []string{id(1), id(2), id(3), id(4), id(5)}) {
		t.Fatalf("history %v", got)
	}
	acks, _ := srv.answered()
	if len(acks) != 1 || len(acks[0].Acks) != 5 {
		t.Fatalf("answers %+v, want one ack of 5", acks)
	}

	// id 7 is carol's in another conversation already.
	taken := historyMessage(id(7))
	if _, err := u.db.AddIncoming(ctx, taken); err != nil {
		t.Fatal(err)
	}
	u.messages.receiveRelayed(ctx, batchEvents(t, batch(id(6), id(7), id(8))))
	if got := timeline(); !slices.Equal(got, []string{id(1), id(2), id(3), id(4), id(5), id(6), id(8)}) {
		t.Fatalf("history %v", got)
	}
	acks, _ = srv.answered()
	last := acks[len(acks)-1]
	var acked []string
	for _, r := range last.Acks {
		acked = append(acked, r.ID)
	}
	if !slices.Equal(acked, []string{id(6), id(8)}) || len(last.Refused) != 1 || last.Refused[0].ID != id(7) {
		t.Errorf("answer %+v, want 6 and 8 acknowledged, 7 refused", last)
	}
}

// batchEvents is the envelopes of a relay event.
func batchEvents(t *testing.T, f *wire.Frame) []wire.RelayEvent {
	t.Helper()
	var ev wire.RelayBatchEvent
	if err := wire.DecodeBody(f.Body, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Envelopes
}

// historyMessage is carol's message id in a group conversation.
func historyMessage(id string) history.Message {
	return history.Message{ID: id, Conversation: history.Group("00112233445566778899aabbccddeeff"), From: "carol", Kind: history.KindText, Body: "elsewhere", Sent: time.Now(), Via: history.ViaRelay}
}
