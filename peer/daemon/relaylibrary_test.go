package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/history"
)

// A library listing that comes through the relay is applied to the
// library, as one that comes directly is, and stays out of the timeline.
func TestRelayedShareReachesTheLibrary(t *testing.T) {
	u := newUnitDaemon(t)
	srv := u.serve(t)
	ctx := context.Background()
	u.roster.Load(history.Roster{Groups: []history.RosterGroup{
		{ID: teamID, Name: "team", Owner: "carol", Members: []string{"bob", "carol"}},
	}})
	spk, err := u.session.newPrekey(ctx, u.session.key(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	_, body, err := content.Encode(content.Share{ID: "0123456789abcdef0123456789abcdef", Path: "plan.pdf", Size: 42, SHA256: strings.Repeat("ab", 32)})
	if err != nil {
		t.Fatal(err)
	}
	const id = "fedcba9876543210fedcba9876543210"
	sealed, err := envelope.Seal(envelope.Message{ID: id, From: "carol", To: "bob", Group: teamID, Sent: time.Now(), Kind: content.KindShare, Body: body}, u.carol, spk)
	if err != nil {
		t.Fatal(err)
	}
	f, err := wire.NewEvent(wire.EvRelay, wire.RelayBatchEvent{Envelopes: []wire.RelayEvent{{ID: id, From: "carol", Envelope: sealed, At: time.Now()}}})
	if err != nil {
		t.Fatal(err)
	}
	u.feed.handleServerEvent(ctx, f)
	if acks, _ := srv.answered(); len(acks) != 1 || len(acks[0].Acks) != 1 {
		t.Fatalf("answers %+v, want one ack", acks)
	}
	list, err := u.library.Shares(ctx, "#team")
	if err != nil || len(list.Shares) != 1 || list.Shares[0].Path != "plan.pdf" || list.Shares[0].Sharer != "carol" {
		t.Fatalf("library after a relayed share: %+v, %v", list, err)
	}
	if msgs, err := u.History(ctx, "#team", 10, "", ""); err != nil || len(msgs) != 0 {
		t.Fatalf("the timeline shows the relayed share: %+v, %v", msgs, err)
	}
}
