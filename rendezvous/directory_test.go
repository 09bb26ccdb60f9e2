package rendezvous

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// This file tests the directory: users.search and keys.get.

func TestUsersSearch(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	me := ts.register(t, "searcher")
	for _, u := range []struct{ name, display string }{
		{"alice", "Alice Liddell"},
		{"alicia", "Zed"},
		{"bob", "ALICE Cooper"}, // matches "ali" by display name only
		{"carol", ""},
		{"a_b", "x"},
		{"axb", "x"}, // would match "a_" if _ were a wildcard
		{"pct", "100% real"},
		{"pcx", "100x"}, // would match "100%" if % were a wildcard
		{"alien", "Hidden"},
	} {
		storeUser(t, ts, u.name, u.display)
	}
	if err := ts.store.SetDisabled(context.Background(), "alien", true, time.Now()); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		query string
		want  string // "name:display ..."
	}{
		{"ali", "alice:Alice Liddell alicia:Zed bob:ALICE Cooper"},
		{"ALI", "alice:Alice Liddell alicia:Zed bob:ALICE Cooper"},
		{"Alice ", "alice:Alice Liddell bob:ALICE Cooper"},
		{"alice c", "bob:ALICE Cooper"},
		{"alicia", "alicia:Zed"},
		{"z", "alicia:Zed"},
		{"car", "carol:"},
		{"a_", "a_b:x"},
		{"100%", "pct:100% real"},
		{"100", "pct:100% real pcx:100x"},
		{"hid", ""}, // alien is disabled
		{"alien", ""},
		{"nobody", ""},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			r := call[wire.UsersSearchResponse](t, me.c, wire.OpUsersSearch, wire.UsersSearchRequest{Query: tc.query})
			if r.Users == nil {
				t.Error("users is null, want a list")
			}
			var got []string
			for _, u := range r.Users {
				got = append(got, u.Username+":"+u.DisplayName)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("search %q = %q, want %q", tc.query, g, tc.want)
			}
		})
	}
}

func TestUsersSearchLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	me := ts.register(t, "searcher")
	// Stored in reverse so that an unsorted result shows.
	const n = 25
	for i := n - 1; i >= 0; i-- {
		storeUser(t, ts, fmt.Sprintf("m%02d", i), "")
	}
	names := func(limit int) string {
		t.Helper()
		r := call[wire.UsersSearchResponse](t, me.c, wire.OpUsersSearch, wire.UsersSearchRequest{Query: "M", Limit: limit})
		var got []string
		for _, u := range r.Users {
			got = append(got, u.Username)
		}
		return strings.Join(got, " ")
	}
	first := func(k int) string {
		var s []string
		for i := range k {
			s = append(s, fmt.Sprintf("m%02d", i))
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct{ limit, want int }{
		{0, 20}, // the default
		{1, 1},
		{5, 5},
		{wire.MaxSearchLimit, n},
	} {
		if got := names(tc.limit); got != first(tc.want) {
			t.Errorf("limit %d: %q, want %q", tc.limit, got, first(tc.want))
		}
	}

	for _, tc := range []struct {
		name  string
		req   wire.UsersSearchRequest
		field string
	}{
		{"empty query", wire.UsersSearchRequest{}, "query"},
		{"blank query", wire.UsersSearchRequest{Query: "   "}, "query"},
		{"long query", wire.UsersSearchRequest{Query: strings.Repeat("m", wire.MaxSearchQuery+1)}, "query"},
		{"limit too big", wire.UsersSearchRequest{Query: "m", Limit: wire.MaxSearchLimit + 1}, "limit"},
		{"negative limit", wire.UsersSearchRequest{Query: "m", Limit: -1}, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if werr := callErr(t, me.c, wire.OpUsersSearch, tc.req, wire.CodeInvalid); werr.Field != tc.field {
				t.Errorf("field %q, want %q", werr.Field, tc.field)
			}
		})
	}
}

func TestKeysGet(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	ts.register(t, "gone")
	if err := ts.store.SetDisabled(context.Background(), "gone", true, time.Now()); err != nil {
		t.Fatal(err)
	}

	// Friends may fetch each other's keys (TestKeysGetOnlyRelated covers
	// who else may).
	befriend(t, alice, bob)
	k := call[wire.KeysResponse](t, bob.c, wire.OpKeysGet, wire.UserRequest{Username: "Alice"})
	if k.Username != "alice" {
		t.Errorf("username %q, want alice", k.Username)
	}
	if want := alice.identity.Public().(ed25519.PublicKey); !bytes.Equal(k.IdentityKey, want) {
		t.Errorf("identity key %x, want %x", k.IdentityKey, want)
	}
	if err := k.Prekey.Verify(k.IdentityKey, "alice", time.Now()); err != nil {
		t.Errorf("prekey does not verify: %v", err)
	}
	// It is alice's prekey, not one that merely verifies: another
	// identity's key rejects it.
	other, _ := newIdentity(t, "alice")
	if err := k.Prekey.Verify(other.Public().(ed25519.PublicKey), "alice", time.Now()); err == nil {
		t.Error("prekey verifies under an unrelated identity key")
	}
	if err := k.Prekey.Verify(k.IdentityKey, "bob", time.Now()); err == nil {
		t.Error("alice's prekey verifies for bob")
	}

	for _, tc := range []struct{ who, code string }{
		{"nobody", wire.CodeNotFound},
		{"gone", wire.CodeNotFound},
		{"a b", wire.CodeInvalid},
		{"", wire.CodeInvalid},
	} {
		if werr := callErr(t, bob.c, wire.OpKeysGet, wire.UserRequest{Username: tc.who}, tc.code); werr.Field != "username" {
			t.Errorf("keys.get %q: field %q, want username", tc.who, werr.Field)
		}
	}
}

// TestKeysGetOnlyRelated: keys.get answers only for users related to the
// asker (friends, co-members, a pending friend request either way), so an
// account cannot map every key announced on the LAN to a name.
func TestKeysGetOnlyRelated(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	dave := ts.register(t, "dave")

	// Strangers: the same answer as for no such user.
	if werr := callErr(t, bob.c, wire.OpKeysGet, wire.UserRequest{Username: "alice"}, wire.CodeNotFound); werr.Field != "username" {
		t.Errorf("field %q, want username", werr.Field)
	}
	// A pending request, asked either way.
	call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"})
	keysOf(t, bob.c, "alice")
	keysOf(t, alice.c, "bob")
	// Friends.
	call[wire.Empty](t, bob.c, wire.OpFriendAccept, wire.UserRequest{Username: "alice"})
	keysOf(t, bob.c, "alice")
	// Co-members; an invitation alone is not enough.
	call[wire.Group](t, carol.c, wire.OpGroupCreate, wire.GroupRequest{Group: "team"})
	call[wire.Empty](t, carol.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "dave"})
	callErr(t, dave.c, wire.OpKeysGet, wire.UserRequest{Username: "carol"}, wire.CodeNotFound)
	call[wire.Group](t, dave.c, wire.OpGroupJoin, wire.GroupRequest{Group: "team"})
	keysOf(t, dave.c, "carol")
	keysOf(t, carol.c, "dave")
	callErr(t, dave.c, wire.OpKeysGet, wire.UserRequest{Username: "alice"}, wire.CodeNotFound)
	// One's own keys.
	keysOf(t, dave.c, "dave")
}
