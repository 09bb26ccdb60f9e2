package history

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"testing"
	"time"
)

// key makes a distinct test identity key.
func key(n byte) []byte { return bytes.Repeat([]byte{n}, ed25519.PublicKeySize) }

func pin(t *testing.T, s *Store, user string, k []byte, want PinResult) {
	t.Helper()
	got, err := s.PinKey(context.Background(), user, k)
	mustNil(t, err)
	if got != want {
		t.Fatalf("PinKey(%s, key %d) = %v, want %v", user, k[0], got, want)
	}
}

func contact(t *testing.T, s *Store, user string) Contact {
	t.Helper()
	c, err := s.Contact(context.Background(), user)
	mustNil(t, err)
	return c
}

func held(t *testing.T, s *Store, user string) bool {
	t.Helper()
	h, err := s.Held(context.Background(), user)
	mustNil(t, err)
	return h
}

func TestKeyPinning(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	before := time.Now()

	// First sight pins.
	pin(t, s, "alice", key(1), PinNew)
	c := contact(t, s, "alice")
	if !bytes.Equal(c.IdentityKey, key(1)) || c.PendingKey != nil || c.Verified || !c.KeyChangedAt.IsZero() ||
		c.Pinned.Before(before) {
		t.Fatalf("after first sight: %+v", c)
	}
	if held(t, s, "alice") {
		t.Fatal("held after first sight")
	}
	pin(t, s, "alice", key(1), PinSame)

	// Verified until the key changes; only the pinned key can be
	// marked verified.
	wantErr(t, s.MarkVerified(ctx, "alice", key(2)), ErrNotPinned)
	mustNil(t, s.MarkVerified(ctx, "alice", key(1)))
	if !contact(t, s, "alice").Verified {
		t.Fatal("not verified")
	}
	pin(t, s, "alice", key(2), PinChanged)
	c = contact(t, s, "alice")
	if !bytes.Equal(c.IdentityKey, key(1)) || !bytes.Equal(c.PendingKey, key(2)) || c.Verified ||
		c.KeyChangedAt.Before(before) {
		t.Fatalf("after change: %+v", c)
	}
	if !held(t, s, "alice") {
		t.Fatal("not held after key change")
	}
	// Seeing the pending key again raises no new alarm and does not end
	// the hold.
	pin(t, s, "alice", key(2), PinPending)
	if !held(t, s, "alice") {
		t.Fatal("hold ended without Trust")
	}
	wantErr(t, s.MarkVerified(ctx, "alice", key(1)), ErrHeld)
	wantErr(t, s.MarkVerified(ctx, "alice", key(2)), ErrHeld)

	// Only the pending key can be trusted.
	wantErr(t, s.Trust(ctx, "alice", key(1)), ErrNotPending)
	wantErr(t, s.Trust(ctx, "alice", key(9)), ErrNotPending)
	// A third key replaces the pending one; trusting the second is now
	// refused, so a key the user never saw is not accepted by mistake.
	pin(t, s, "alice", key(3), PinChanged)
	wantErr(t, s.Trust(ctx, "alice", key(2)), ErrNotPending)
	mustNil(t, s.Trust(ctx, "alice", key(3)))
	c = contact(t, s, "alice")
	if !bytes.Equal(c.IdentityKey, key(3)) || c.PendingKey != nil || c.Verified {
		t.Fatalf("after trust: %+v", c)
	}
	if held(t, s, "alice") {
		t.Fatal("held after Trust")
	}
	wantErr(t, s.Trust(ctx, "alice", key(3)), ErrNotPending)
	pin(t, s, "alice", key(3), PinSame)
	pin(t, s, "alice", key(1), PinChanged)

	// Unknown contacts.
	if held(t, s, "nobody") {
		t.Error("unknown user held")
	}
	wantErr(t, s.Trust(ctx, "nobody", key(1)), ErrNotFound)
	wantErr(t, s.MarkVerified(ctx, "nobody", key(1)), ErrNotFound)
	wantErr(t, s.SetDisplayName(ctx, "nobody", "N"), ErrNotFound)
	_, err := s.Contact(ctx, "nobody")
	wantErr(t, err, ErrNotFound)
}

// TestKeyChangedBack changes alice's key and then back to the pinned one
// (she logged in elsewhere, then back): nothing is left held, nothing
// left to trust.
func TestKeyChangedBack(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	pin(t, s, "alice", key(1), PinNew)
	pin(t, s, "alice", key(2), PinChanged)
	pin(t, s, "alice", key(1), PinRestored)
	c := contact(t, s, "alice")
	if !bytes.Equal(c.IdentityKey, key(1)) || c.PendingKey != nil || c.Held() || c.Verified {
		t.Fatalf("after the key came back: %+v", c)
	}
	if held(t, s, "alice") {
		t.Fatal("held after the key came back to the pinned one")
	}
	wantErr(t, s.Trust(ctx, "alice", key(2)), ErrNotPending)
	wantErr(t, s.Trust(ctx, "alice", key(1)), ErrNotPending)
	pin(t, s, "alice", key(1), PinSame)
	// A new change after that is an alarm again.
	pin(t, s, "alice", key(3), PinChanged)
	mustNil(t, s.Trust(ctx, "alice", key(3)))
	if held(t, s, "alice") {
		t.Fatal("held after trusting the latest key")
	}
}

// TestSameKey pins one key for two contacts, as a hand-edited table or a
// lying server would: both are held, each names the other, neither can
// be marked verified, and a pending key that is another contact's cannot
// be trusted.
func TestSameKey(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	pin(t, s, "alice", key(1), PinNew)
	pin(t, s, "aaron", key(1), PinNew)
	pin(t, s, "carol", key(3), PinNew)
	for _, tc := range []struct{ user, other string }{{"alice", "aaron"}, {"aaron", "alice"}} {
		c := contact(t, s, tc.user)
		if !slices.Equal(c.SameKey, []string{tc.other}) || !c.Held() {
			t.Errorf("%s: SameKey %v, Held %v; want [%s], held", tc.user, c.SameKey, c.Held(), tc.other)
		}
		if !held(t, s, tc.user) {
			t.Errorf("%s is not held", tc.user)
		}
		wantErr(t, s.MarkVerified(ctx, tc.user, key(1)), ErrHeld)
	}
	cs, err := s.Contacts(ctx)
	mustNil(t, err)
	for _, c := range cs {
		if want := c.Username != "carol"; (len(c.SameKey) > 0) != want {
			t.Errorf("Contacts: %s has SameKey %v", c.Username, c.SameKey)
		}
	}
	if held(t, s, "carol") || contact(t, s, "carol").Held() {
		t.Error("carol is held for others' shared key")
	}
	// The outbox holds copies for them too.
	_, err = s.AddOutgoing(ctx, out(1, Direct("aaron"), "x", 0), []string{"aaron"})
	mustNil(t, err)
	_, err = s.Pending(ctx, "aaron", 10)
	wantErr(t, err, ErrHeld)
	rs, err := s.PendingRecipients(ctx)
	mustNil(t, err)
	if len(rs) != 0 {
		t.Errorf("PendingRecipients = %v, want none", rs)
	}
	// carol's key changes to alice's: trusting it is refused.
	pin(t, s, "carol", key(1), PinChanged)
	wantErr(t, s.Trust(ctx, "carol", key(1)), ErrKeyShared)
	// When aaron's key changes and the user trusts the new one, alice is
	// alone with key 1 again.
	pin(t, s, "aaron", key(4), PinChanged)
	mustNil(t, s.Trust(ctx, "aaron", key(4)))
	if c := contact(t, s, "alice"); c.Held() || len(c.SameKey) != 0 {
		t.Errorf("alice after aaron moved to another key: %+v", c)
	}
}

func TestPinKeyInvalid(t *testing.T) {
	s, _ := openTest(t)
	for _, c := range []struct {
		user string
		key  []byte
	}{
		{"alice", nil},
		{"alice", key(1)[:31]},
		{"alice", append(key(1), 0)},
		{"Alice", key(1)}, // not canonical
		{"al", key(1)},
		{"al ice", key(1)},
		{"", key(1)},
	} {
		_, err := s.PinKey(context.Background(), c.user, c.key)
		wantErr(t, err, ErrInvalid)
	}
	cs, err := s.Contacts(context.Background())
	mustNil(t, err)
	if len(cs) != 0 {
		t.Errorf("contacts = %+v", cs)
	}
}

func TestContactsAndAddrs(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	pin(t, s, "carol", key(3), PinNew)
	pin(t, s, "alice", key(1), PinNew)
	pin(t, s, "bob", key(2), PinNew)
	mustNil(t, s.SetDisplayName(ctx, "bob", "Bob 🎸"))
	wantErr(t, s.RememberAddr(ctx, "nobody", "192.0.2.1:1"), ErrNotFound)
	wantErr(t, s.RememberAddr(ctx, "alice", ""), ErrInvalid)

	for i := range 10 {
		mustNil(t, s.RememberAddr(ctx, "alice", fmt.Sprintf("192.0.2.%d:4242", i)))
	}
	// Seeing an older address again makes it the most recent.
	mustNil(t, s.RememberAddr(ctx, "alice", "192.0.2.5:4242"))
	mustNil(t, s.RememberAddr(ctx, "bob", "[2001:db8::1]:4242"))

	want := []string{"192.0.2.5:4242", "192.0.2.9:4242", "192.0.2.8:4242", "192.0.2.7:4242",
		"192.0.2.6:4242", "192.0.2.4:4242", "192.0.2.3:4242", "192.0.2.2:4242"}
	if got := contact(t, s, "alice").Addrs; !slices.Equal(got, want) {
		t.Errorf("alice addrs = %q, want %q", got, want)
	}
	cs, err := s.Contacts(ctx)
	mustNil(t, err)
	var names []string
	for _, c := range cs {
		names = append(names, c.Username)
	}
	if !slices.Equal(names, []string{"alice", "bob", "carol"}) {
		t.Fatalf("contacts = %q", names)
	}
	if !slices.Equal(cs[0].Addrs, want) || !slices.Equal(cs[1].Addrs, []string{"[2001:db8::1]:4242"}) ||
		cs[2].Addrs != nil || cs[1].DisplayName != "Bob 🎸" || !bytes.Equal(cs[2].IdentityKey, key(3)) {
		t.Errorf("contacts = %+v", cs)
	}
}
