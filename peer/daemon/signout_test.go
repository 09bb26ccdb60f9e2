package daemon

import (
	"context"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/link"
)

// TestSignOutDuringSend: the server signs the daemon out while a message
// is on its way to the relay. The message stays queued (not failed, not
// lost), nothing goes out without a session, and it leaves once the user
// is back.
func TestSignOutDuringSend(t *testing.T) {
	u := newUnitDaemon(t)
	u.roster.Load(history.Roster{Friends: []history.RosterFriend{{Username: "carol"}}})
	ctx := context.Background()
	u.fake.handle = func(op string, req, resp any) error {
		if op == wire.OpKeysGet {
			// The sign-out arrives while the relay looks up the keys.
			u.fake.setSession(false)
			u.session.signOut("logged in elsewhere")
			return link.ErrOffline
		}
		return nil
	}
	res, err := u.Send(ctx, api.SendRequest{Target: "carol", Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Via != api.ViaQueued {
		t.Fatalf("Send = %+v, want queued", res)
	}
	m, err := u.db.Message(ctx, "bob", res.ID)
	if err != nil || m.State != history.StateQueued {
		t.Fatalf("stored %+v, %v; want queued", m, err)
	}
	if _, err := u.Send(ctx, api.SendRequest{Target: "carol", Text: "again"}); err == nil {
		t.Fatal("Send works while signed out")
	}
	u.fake.called()
	u.outbox.FlushAll(ctx)
	if got := u.fake.called(); len(got) != 0 {
		t.Fatalf("calls while signed out: %v", got)
	}

	// Back: the copy goes, through the relay, sealed to carol.
	got := make(chan wire.RelayEnvelope, 1)
	u.serveKeys(t, got)
	u.fake.setSession(true)
	u.session.resumed(wire.Profile{Username: "bob"})
	u.outbox.PathOpened()
	u.outbox.FlushAll(ctx)
	select {
	case r := <-got:
		if r.To != "carol" || r.ID != res.ID || len(r.Envelope) == 0 {
			t.Errorf("relayed %+v", r)
		}
	default:
		t.Fatal("nothing relayed after the login")
	}
	if m, _ := u.db.Message(ctx, "bob", res.ID); m.State != history.StateSent || m.Via != history.ViaRelay {
		t.Errorf("stored %+v, want sent via relay", m)
	}
}
