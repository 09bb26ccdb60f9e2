package daemon

import (
	"context"
	"crypto/ed25519"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/link"
)

// fakeServer is the server behind the fake link: carol's keys in the
// directory, a roster, and what the daemon sent.
type fakeServer struct {
	mu      sync.Mutex
	friends []string
	prekey  keys.SignedPrekey
	carol   ed25519.PrivateKey
	acks    []wire.RelayAckRequest
	relayed []wire.RelayEnvelope
}

func (u *unitDaemon) serve(t *testing.T) *fakeServer {
	t.Helper()
	spk, _, err := keys.NewPrekey(u.carol, "carol", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := &fakeServer{prekey: spk, carol: u.carol}
	u.fake.mu.Lock()
	u.fake.handle = srv.handle
	u.fake.mu.Unlock()
	return srv
}

func (s *fakeServer) handle(op string, req, resp any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch op {
	case wire.OpFriendsList:
		for _, f := range s.friends {
			resp.(*wire.FriendsListResponse).Friends = append(resp.(*wire.FriendsListResponse).Friends, wire.Friend{Username: f, Presence: wire.Presence{Username: f, Status: wire.StatusOnline}})
		}
	case wire.OpKeysGet:
		if req.(wire.UserRequest).Username != "carol" {
			return wire.Errorf(wire.CodeNotFound, "no such user")
		}
		*resp.(*wire.KeysResponse) = wire.KeysResponse{Username: "carol", IdentityKey: s.carol.Public().(ed25519.PublicKey), Prekey: s.prekey}
	case wire.OpKeysGetMany:
		r := resp.(*wire.KeysGetManyResponse)
		for _, u := range req.(wire.KeysGetManyRequest).Usernames {
			if u != "carol" {
				r.Missing = append(r.Missing, u)
				continue
			}
			r.Keys = append(r.Keys, wire.KeysResponse{Username: "carol", IdentityKey: s.carol.Public().(ed25519.PublicKey), Prekey: s.prekey})
		}
	case wire.OpRelayAck:
		s.acks = append(s.acks, req.(wire.RelayAckRequest))
	case wire.OpRelaySend:
		s.relayed = append(s.relayed, req.(wire.RelaySendRequest).Envelopes...)
	}
	return nil
}

func (s *fakeServer) befriend(user string) {
	s.mu.Lock()
	s.friends = append(s.friends, user)
	s.mu.Unlock()
}

func (s *fakeServer) answered() ([]wire.RelayAckRequest, []wire.RelayEnvelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acks), slices.Clone(s.relayed)
}

func TestFeedSessionUpSyncs(t *testing.T) {
	u := newUnitDaemon(t)
	srv := u.serve(t)
	srv.befriend("carol")
	ctx := context.Background()
	events := u.events.subscribe(ctx)
	u.feed.handleLink(ctx, link.Event{Kind: link.EventUp, Session: &wire.Session{Profile: wire.Profile{Username: "bob", DisplayName: "Bob"}}})
	calls := u.fake.called()
	for _, op := range []string{wire.OpPresenceSet, wire.OpFriendsList, wire.OpGroupsList, wire.OpKeysGetMany} {
		if !slices.Contains(calls, op) {
			t.Errorf("no %s in %v", op, calls)
		}
	}
	if !u.roster.TrustedFriend("carol") || u.session.profile().DisplayName != "Bob" {
		t.Error("the session came up without syncing the roster or the profile")
	}
	if c, err := u.db.Contact(ctx, "carol"); err != nil || !ed25519.PublicKey(c.IdentityKey).Equal(u.carol.Public()) {
		t.Errorf("carol's key not pinned: %v", err)
	}
	if r, err := u.db.LoadRoster(ctx); err != nil || len(r.Friends) != 1 {
		t.Errorf("roster kept on disk = %+v, %v", r, err)
	}
	if ev := <-events; ev.Type != api.EventServer || !ev.Connection.Up {
		t.Errorf("first event %+v, want the server up", ev)
	}
	u.feed.handleLink(ctx, link.Event{Kind: link.EventDown})
	for ev := range events {
		if ev.Type == api.EventServer {
			if ev.Connection.Up {
				t.Error("the server reported up after it went down")
			}
			break
		}
	}
}

// TestRelayedFromStrangerParkedUntilFriend: an envelope from someone who
// is not a contact yet is acknowledged and parked, not refused; once the
// roster says they are a friend it is taken into history, and the sender
// gets a receipt.
func TestRelayedFromStrangerParkedUntilFriend(t *testing.T) {
	u := newUnitDaemon(t)
	srv := u.serve(t)
	ctx := context.Background()
	if err := u.feed.syncRoster(ctx); err != nil { // nobody is a contact yet
		t.Fatal(err)
	}
	spk, err := u.session.newPrekey(ctx, u.session.key(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	const id = "0123456789abcdef0123456789abcdef"
	sealed, err := envelope.Seal(envelope.Message{ID: id, From: "carol", To: "bob", Sent: time.Now(), Kind: history.KindText, Body: []byte("hi bob")}, u.carol, spk)
	if err != nil {
		t.Fatal(err)
	}
	f, err := wire.NewEvent(wire.EvRelay, wire.RelayBatchEvent{Envelopes: []wire.RelayEvent{{ID: id, From: "carol", Envelope: sealed, At: time.Now()}}})
	if err != nil {
		t.Fatal(err)
	}
	u.feed.handleServerEvent(ctx, f)
	acks, _ := srv.answered()
	if len(acks) != 1 || len(acks[0].Acks) != 1 || acks[0].Acks[0].ID != id || len(acks[0].Refused) != 0 {
		t.Fatalf("answers %+v, want one ack", acks)
	}
	parked, err := u.db.ParkedAfter(ctx, 0, 10)
	if err != nil || len(parked) != 1 || parked[0].Reason != history.ParkContact {
		t.Fatalf("parked %+v, %v; want one, waiting for a contact", parked, err)
	}
	if _, err := u.db.Message(ctx, "carol", id); err == nil {
		t.Fatal("a stranger's message is in history")
	}

	srv.befriend("carol")
	if err := u.feed.syncRoster(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := u.db.Message(ctx, "carol", id)
	if err != nil || m.Body != "hi bob" || m.Via != history.ViaRelay {
		t.Fatalf("after the sync: %+v, %v", m, err)
	}
	if parked, _ := u.db.ParkedAfter(ctx, 0, 10); len(parked) != 0 {
		t.Errorf("still parked: %+v", parked)
	}
	if _, relayed := srv.answered(); len(relayed) != 1 || relayed[0].To != "carol" {
		t.Errorf("receipts relayed %+v, want one to carol", relayed)
	}
}

func TestFeedPresenceAndSignOut(t *testing.T) {
	u := newUnitDaemon(t)
	u.serve(t)
	ctx := context.Background()
	f, _ := wire.NewEvent(wire.EvPresence, wire.Presence{Username: "carol", Status: wire.StatusOnline, Endpoints: []string{"10.0.0.5:4000"}})
	u.feed.handleServerEvent(ctx, f)
	if p, ok := u.roster.Presence("carol"); !ok || p.Status != wire.StatusOnline {
		t.Errorf("presence %+v, %v", p, ok)
	}
	f, _ = wire.NewEvent(wire.EvSignedOut, wire.SignedOutEvent{Reason: "password changed"})
	u.feed.handleServerEvent(ctx, f)
	if _, err := u.session.requireLogin(); err == nil {
		t.Error("still logged in after the server signed us out")
	}
	// Malformed events are dropped, not acted on.
	u.feed.handleServerEvent(ctx, &wire.Frame{Kind: wire.KindEvent, Op: wire.EvPresence, Body: []byte("{")})
}
