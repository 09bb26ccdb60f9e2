package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// newStoreDaemon is a daemon reduced to its history store and roster, for
// the decisions about who is admitted.
func newStoreDaemon(t *testing.T) *Daemon {
	t.Helper()
	u := newUnitDaemon(t)
	u.fake.setSession(false) // the server is away
	return u.Daemon
}

func newKey(t *testing.T) ed25519.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestAuthorizeRefusesSharedKey puts the same identity key under two
// contacts: a connection proving it is refused, not filed under the
// first match.
func TestAuthorizeRefusesSharedKey(t *testing.T) {
	d := newStoreDaemon(t)
	ctx := context.Background()
	d.roster.Load(history.Roster{Friends: []history.RosterFriend{{Username: "alice"}, {Username: "aaron"}}})
	key := newKey(t)
	for _, u := range []string{"alice", "aaron"} {
		if _, err := d.db.PinKey(ctx, u, key); err != nil {
			t.Fatal(err)
		}
	}
	events := d.events.subscribe(d.ctx)
	if user, ok := d.keyring.authorize(key); ok {
		t.Fatalf("a key pinned for alice and aaron was admitted as %s", user)
	}
	select {
	case ev := <-events:
		if ev.Type != api.EventKeyShared || ev.KeyChange == nil || ev.KeyChange.User != "aaron" ||
			!slices.Equal(ev.KeyChange.SameKey, []string{"alice"}) || ev.KeyChange.Fingerprint != keyFingerprint(key) {
			t.Fatalf("warning event: %+v %+v", ev, ev.KeyChange)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no warning event for a key pinned for two contacts")
	}
	// Neither can be reached or heard through the relay either.
	for _, u := range []string{"alice", "aaron"} {
		if _, err := d.keyring.senderKey(ctx, u); !errors.Is(err, history.ErrHeld) {
			t.Errorf("senderKey(%s) = %v, want ErrHeld", u, err)
		}
		if held, err := d.db.Held(ctx, u); err != nil || !held {
			t.Errorf("Held(%s) = %v, %v", u, held, err)
		}
	}
	// A contact with a key of its own is still admitted.
	carolKey := newKey(t)
	d.roster.Load(history.Roster{Friends: []history.RosterFriend{{Username: "alice"}, {Username: "aaron"}, {Username: "carol"}}})
	if _, err := d.db.PinKey(ctx, "carol", carolKey); err != nil {
		t.Fatal(err)
	}
	if user, ok := d.keyring.authorize(carolKey); !ok || user != "carol" {
		t.Fatalf("carol: authorize = %q, %v", user, ok)
	}
}

// TestStoredRosterFailsClosed restarts a daemon with no server: it
// applies the roster of its last sync, so an ex-friend and a kicked
// member stay out, and nobody's files are taken without asking until
// it syncs. With no roster kept at all, nobody is admitted.
func TestStoredRosterFailsClosed(t *testing.T) {
	d := newStoreDaemon(t)
	ctx := context.Background()
	keys := make(map[string]ed25519.PublicKey)
	for _, u := range []string{"alice", "carol", "dave", "erin"} {
		keys[u] = newKey(t)
		if _, err := d.db.PinKey(ctx, u, keys[u]); err != nil {
			t.Fatal(err)
		}
	}
	const gid = "00112233445566778899aabbccddeeff"
	// Before any roster: nobody.
	for u, k := range keys {
		if _, ok := d.keyring.authorize(k); ok {
			t.Errorf("%s admitted with no roster at all", u)
		}
	}
	if d.transfers.autoAccept(ctx, "alice") {
		t.Error("files auto-accepted with no roster at all")
	}
	// The last sync: alice is a friend, erin is in #team; carol was
	// removed as a friend and dave kicked from #team before it.
	err := d.db.SaveRoster(ctx, history.Roster{
		Friends: []history.RosterFriend{{Username: "alice"}},
		Groups:  []history.RosterGroup{{ID: gid, Name: "team", Owner: "bob", Members: []string{"bob", "erin"}}},
		Synced:  time.Now().Add(-time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.feed.loadRoster(ctx); err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]bool{"alice": true, "erin": true, "carol": false, "dave": false} {
		if user, ok := d.keyring.authorize(keys[u]); ok != want || (ok && user != u) {
			t.Errorf("authorize(%s) = %q, %v; want %v", u, user, ok, want)
		}
	}
	if d.transfers.autoAccept(ctx, "alice") {
		t.Error("a friend's files auto-accepted on the roster kept on disk, before this run synced")
	}
	in := envelope.Message{ID: "ffeeddccbbaa99887766554433221100", From: "dave", To: "bob", Group: gid, Sent: time.Now(), Kind: history.KindText, Body: []byte("still here?")}
	if werr := d.messages.receiveDirect(ctx, in.From, in); werr == nil || werr.Code != wire.CodeForbidden {
		t.Errorf("a kicked member's group message: %v, want forbidden", werr)
	}
	in.Group, in.From = "", "carol"
	if werr := d.messages.receiveDirect(ctx, in.From, in); werr == nil {
		t.Error("an ex-friend's message was taken")
	}
	in.From, in.Body = "alice", []byte("hi")
	if werr := d.messages.receiveDirect(ctx, in.From, in); werr != nil {
		t.Errorf("a friend's message: %v", werr)
	}
	// Once this run has synced, friends' files go straight in again.
	if _, err := d.roster.Sync(ctx, serverSays{friends: []string{"alice"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !d.transfers.autoAccept(ctx, "alice") || d.transfers.autoAccept(ctx, "erin") {
		t.Error("after the sync, alice's files should be taken and erin's (no friend) not")
	}
}

// serverSays answers a roster sync with the friends it lists.
type serverSays struct{ friends []string }

func (s serverSays) Call(_ context.Context, op string, _, resp any) error {
	if fl, ok := resp.(*wire.FriendsListResponse); ok && op == wire.OpFriendsList {
		for _, f := range s.friends {
			fl.Friends = append(fl.Friends, wire.Friend{Username: f})
		}
	}
	return nil
}
