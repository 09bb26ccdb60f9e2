package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
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

// groupDirectory is a fake server's directory of a group's members: each
// member's identity and current prekey, and the envelopes relayed.
type groupDirectory struct {
	mu      sync.Mutex
	ids     map[string]ed25519.PrivateKey
	prekeys map[string]keys.SignedPrekey
	relayed []wire.RelayEnvelope
}

func newGroupDirectory(t *testing.T, members []string) *groupDirectory {
	t.Helper()
	d := &groupDirectory{ids: map[string]ed25519.PrivateKey{}, prekeys: map[string]keys.SignedPrekey{}}
	for _, m := range members {
		_, id, _ := ed25519.GenerateKey(rand.Reader)
		d.ids[m] = id
		d.rotate(t, m)
	}
	return d
}

// add makes a new member.
func (d *groupDirectory) add(t *testing.T, user string) {
	t.Helper()
	_, id, _ := ed25519.GenerateKey(rand.Reader)
	d.mu.Lock()
	d.ids[user] = id
	d.mu.Unlock()
	d.rotate(t, user)
}

// rotate gives user a new prekey and returns it.
func (d *groupDirectory) rotate(t *testing.T, user string) keys.SignedPrekey {
	t.Helper()
	spk, _, err := keys.NewPrekey(d.ids[user], user, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.prekeys[user] = spk
	d.mu.Unlock()
	return spk
}

func (d *groupDirectory) keysOf(user string) wire.KeysResponse {
	return wire.KeysResponse{Username: user, IdentityKey: d.ids[user].Public().(ed25519.PublicKey), Prekey: d.prekeys[user]}
}

func (d *groupDirectory) handle(op string, req, resp any) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch op {
	case wire.OpKeysGet:
		u := req.(wire.UserRequest).Username
		if _, ok := d.ids[u]; !ok {
			return wire.Errorf(wire.CodeNotFound, "no user %s", u)
		}
		*resp.(*wire.KeysResponse) = d.keysOf(u)
	case wire.OpKeysGetMany:
		r := resp.(*wire.KeysGetManyResponse)
		for _, u := range req.(wire.KeysGetManyRequest).Usernames {
			if _, ok := d.ids[u]; ok {
				r.Keys = append(r.Keys, d.keysOf(u))
			} else {
				r.Missing = append(r.Missing, u)
			}
		}
	case wire.OpGroupsList:
		resp.(*wire.GroupsListResponse).Groups = []wire.Group{{ID: "00112233445566778899aabbccddeeff", Name: "team", Owner: "bob"}}
	case wire.OpGroupMembers:
		r := resp.(*wire.GroupMembersResponse)
		r.Members = append(r.Members, wire.Member{Username: "bob"})
		for u := range d.ids {
			r.Members = append(r.Members, wire.Member{Username: u})
		}
	case wire.OpRelaySend:
		d.relayed = append(d.relayed, req.(wire.RelaySendRequest).Envelopes...)
	}
	return nil
}

// lastTo is the last envelope relayed to user.
func (d *groupDirectory) lastTo(user string) wire.RelayEnvelope {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.relayed) - 1; i >= 0; i-- {
		if d.relayed[i].To == user {
			return d.relayed[i]
		}
	}
	return wire.RelayEnvelope{}
}

func count(calls []string, op string) int {
	n := 0
	for _, c := range calls {
		if c == op {
			n++
		}
	}
	return n
}

// TestGroupSendFetchesKeysTogetherAndKeepsThem: the first message to a
// group fetches the members' keys in one keys.get_many request, not one
// keys.get each; later messages fetch none, however much later, until
// the server pushes a change (key.changed, whose prekey is used at once
// without a request) or the link comes back.
func TestGroupSendFetchesKeysTogetherAndKeepsThem(t *testing.T) {
	u := newUnitDaemon(t)
	members := make([]string, 40)
	for i := range members {
		members[i] = fmt.Sprintf("m%02d", i)
	}
	dir := newGroupDirectory(t, members)
	u.fake.mu.Lock()
	u.fake.handle = dir.handle
	u.fake.mu.Unlock()
	u.roster.Load(history.Roster{Groups: []history.RosterGroup{{ID: "00112233445566778899aabbccddeeff", Name: "team", Owner: "bob",
		Members: append([]string{"bob"}, members...)}}})
	ctx := context.Background()
	send := func() {
		t.Helper()
		res, err := u.Send(ctx, api.SendRequest{Target: "#team", Text: "hello"})
		if err != nil || res.Via != api.ViaRelay {
			t.Fatalf("Send = %+v, %v; want every copy relayed", res, err)
		}
	}

	send()
	calls := u.fake.called()
	if n, m := count(calls, wire.OpKeysGetMany), count(calls, wire.OpKeysGet); n != 1 || m != 0 {
		t.Fatalf("first message: %d keys.get_many and %d keys.get, want 1 and 0", n, m)
	}
	send()
	if calls := u.fake.called(); count(calls, wire.OpKeysGetMany)+count(calls, wire.OpKeysGet) != 0 {
		t.Fatalf("second message fetched keys again: %v", calls)
	}

	// m07 logs in again: the push carries its new prekey.
	spk := dir.rotate(t, "m07")
	kc := wire.KeyChangedEvent{Username: "m07", IdentityKey: dir.ids["m07"].Public().(ed25519.PublicKey), Prekey: &spk}
	u.feed.handleServerEvent(ctx, &wire.Frame{Op: wire.EvKeyChanged, Body: mustJSON(t, kc)})
	send()
	if calls := u.fake.called(); count(calls, wire.OpKeysGetMany)+count(calls, wire.OpKeysGet) != 0 {
		t.Fatalf("a pushed prekey was fetched again: %v", calls)
	}
	if env := dir.lastTo("m07"); !sealedTo(t, env, spk) {
		t.Fatal("m07's copy is not sealed to the prekey the push carried")
	}

	// A pushed prekey that does not verify under the pinned key is not
	// used: the next message asks the directory.
	bad := spk
	bad.Expires++
	u.feed.handleServerEvent(ctx, &wire.Frame{Op: wire.EvKeyChanged, Body: mustJSON(t, wire.KeyChangedEvent{Username: "m07",
		IdentityKey: kc.IdentityKey, Prekey: &bad})})
	send()
	if calls := u.fake.called(); count(calls, wire.OpKeysGetMany) != 1 {
		t.Fatalf("after a bad push: %v, want one keys.get_many", calls)
	}

	// The link comes back: pushes may have been missed, so the next
	// sync fetches every member's keys again, together.
	u.feed.handleLink(ctx, link.Event{Kind: link.EventUp, Session: &wire.Session{Profile: wire.Profile{Username: "bob"}}})
	calls = u.fake.called()
	if n, m := count(calls, wire.OpKeysGetMany), count(calls, wire.OpKeysGet); n != 1 || m != 0 {
		t.Fatalf("after a reconnect: %d keys.get_many and %d keys.get (%v), want 1 and 0", n, m, calls)
	}
}

// sealedTo reports whether env was sealed to prekey: the envelope's
// header names the prekey.
func sealedTo(t *testing.T, env wire.RelayEnvelope, prekey keys.SignedPrekey) bool {
	t.Helper()
	h, err := envelope.Peek(env.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	return h.PrekeyID == prekey.ID()
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeyCacheHoldsUntilDropped: a cached prekey holds however long,
// until it nears its expiry or is dropped; what was read before a drop
// is not cached after it.
func TestKeyCacheHoldsUntilDropped(t *testing.T) {
	var c keyCache
	now := time.Now()
	pk := keys.SignedPrekey{Public: []byte{1}, Expires: now.Add(2 * time.Hour).Unix()}
	c.put("m", pk, c.generation())
	if _, ok := c.get("m", now.Add(90*time.Minute)); !ok {
		t.Fatal("the cached prekey went after 90 minutes though nothing changed")
	}
	if _, ok := c.get("m", now.Add(2*time.Hour-keyCacheMargin/2)); ok {
		t.Fatal("a prekey about to expire is still used")
	}
	gen := c.generation()
	c.drop("m")
	c.put("m", pk, gen)
	if _, ok := c.get("m", now); ok {
		t.Fatal("a prekey read before a drop was cached after it")
	}
	c.put("m", pk, c.generation())
	c.clear()
	if _, ok := c.get("m", now); ok {
		t.Fatal("clear kept a prekey")
	}
}
