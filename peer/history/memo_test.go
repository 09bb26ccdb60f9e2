package history

import (
	"bytes"
	"context"
	"slices"
	"testing"
)

// The contacts are answered from memory: a row changed behind the store's
// back is not seen until one of the store's writers forgets them.
func TestContactsKeptUntilWritten(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	pin(t, s, "alice", key(1), PinNew)
	if c := contact(t, s, "alice"); c.DisplayName != "" {
		t.Fatalf("display name %q, want none", c.DisplayName)
	}
	_, err := s.w.ExecContext(ctx, `UPDATE contacts SET display_name = 'behind' WHERE username = 'alice'`)
	mustNil(t, err)
	if c := contact(t, s, "alice"); c.DisplayName != "" {
		t.Fatalf("display name %q read again, want the kept one", c.DisplayName)
	}
	mustNil(t, s.RememberAddr(ctx, "alice", "127.0.0.1:1"))
	if c := contact(t, s, "alice"); c.DisplayName != "behind" || !slices.Equal(c.Addrs, []string{"127.0.0.1:1"}) {
		t.Fatalf("after RememberAddr: %q %v, want behind [127.0.0.1:1]", c.DisplayName, c.Addrs)
	}
}

// Every write to the contacts shows in the next read, through Contact,
// Contacts and Held alike.
func TestContactsForgottenOnEveryWrite(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	// Read first, so that each step below has something kept to forget.
	if _, err := s.Contact(ctx, "alice"); err == nil {
		t.Fatal("alice found before she was pinned")
	}
	if held(t, s, "alice") {
		t.Fatal("unknown alice held")
	}
	pin(t, s, "alice", key(1), PinNew)
	if cs, err := s.Contacts(ctx); err != nil || len(cs) != 1 || cs[0].Username != "alice" {
		t.Fatalf("contacts after PinKey: %v %v", cs, err)
	}
	mustNil(t, s.SetDisplayName(ctx, "alice", "Alice"))
	if c := contact(t, s, "alice"); c.DisplayName != "Alice" {
		t.Fatalf("display name %q after SetDisplayName", c.DisplayName)
	}
	mustNil(t, s.RememberAddr(ctx, "alice", "127.0.0.1:7"))
	if c := contact(t, s, "alice"); !slices.Equal(c.Addrs, []string{"127.0.0.1:7"}) {
		t.Fatalf("addresses %v after RememberAddr", c.Addrs)
	}
	mustNil(t, s.MarkVerified(ctx, "alice", key(1)))
	if c := contact(t, s, "alice"); !c.Verified {
		t.Fatal("not verified after MarkVerified")
	}
	pin(t, s, "alice", key(2), PinChanged)
	if c := contact(t, s, "alice"); !bytes.Equal(c.PendingKey, key(2)) || c.Verified || !held(t, s, "alice") {
		t.Fatalf("after a key change: pending %x verified %v held %v", c.PendingKey, c.Verified, held(t, s, "alice"))
	}
	pin(t, s, "alice", key(1), PinRestored)
	if held(t, s, "alice") {
		t.Fatal("held after PinRestored")
	}
	pin(t, s, "alice", key(3), PinChanged)
	mustNil(t, s.Trust(ctx, "alice", key(3)))
	if c := contact(t, s, "alice"); !bytes.Equal(c.IdentityKey, key(3)) || held(t, s, "alice") {
		t.Fatalf("after Trust: key %x held %v", c.IdentityKey, held(t, s, "alice"))
	}
	// A new contact pinned with alice's key holds both: the write of
	// one row changes what is read of another.
	pin(t, s, "mallory", key(3), PinNew)
	if !held(t, s, "alice") || !held(t, s, "mallory") {
		t.Fatal("alice and mallory share a key but are not both held")
	}
	if c := contact(t, s, "alice"); !slices.Equal(c.SameKey, []string{"mallory"}) {
		t.Fatalf("alice's same-key contacts %v, want [mallory]", c.SameKey)
	}
}

// What a caller gets is its own copy: changing it changes nothing kept.
func TestContactCopiesShareNothing(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	pin(t, s, "alice", key(1), PinNew)
	mustNil(t, s.RememberAddr(ctx, "alice", "127.0.0.1:1"))
	c := contact(t, s, "alice")
	c.IdentityKey[0] ^= 0xff
	c.Addrs[0] = "changed"
	cs, err := s.Contacts(ctx)
	mustNil(t, err)
	cs[0].IdentityKey[1] ^= 0xff
	if c := contact(t, s, "alice"); !bytes.Equal(c.IdentityKey, key(1)) || c.Addrs[0] != "127.0.0.1:1" {
		t.Fatalf("kept contact changed through a copy: %x %v", c.IdentityKey, c.Addrs)
	}
}

// A read that a write raced is returned but not kept.
func TestMemoReadRacingForgetNotKept(t *testing.T) {
	var m memo[int]
	ctx := context.Background()
	v, err := m.get(ctx, func(context.Context) (int, error) {
		m.forget() // the write, while the read is under way
		return 1, nil
	})
	mustNil(t, err)
	if v != 1 {
		t.Fatalf("got %d, want the read's 1", v)
	}
	v, _ = m.get(ctx, func(context.Context) (int, error) { return 2, nil })
	if v != 2 {
		t.Fatalf("got %d: the raced read was kept", v)
	}
	v, _ = m.get(ctx, func(context.Context) (int, error) { return 3, nil })
	if v != 2 {
		t.Fatalf("got %d: the read after it was not kept", v)
	}
}
