package rendezvous

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// TestKeysGetMany: one request answers for many users, exactly as
// keys.get would for each: the keys of friends, co-members, either side
// of a pending request and oneself; every other name, existing or not,
// disabled or a stranger, is only listed as missing.
func TestKeysGetMany(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	dave := ts.register(t, "dave")
	ts.register(t, "erin") // a stranger to alice
	ts.register(t, "gone")
	if err := ts.store.SetDisabled(context.Background(), "gone", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	befriend(t, alice, bob)
	call[wire.Group](t, alice.c, wire.OpGroupCreate, wire.GroupRequest{Group: "team"})
	call[wire.Empty](t, alice.c, wire.OpGroupInvite, wire.GroupUserRequest{Group: "team", Username: "carol"})
	call[wire.Group](t, carol.c, wire.OpGroupJoin, wire.GroupRequest{Group: "team"})
	call[wire.FriendRequestResponse](t, dave.c, wire.OpFriendRequest, wire.UserRequest{Username: "alice"})

	got := call[wire.KeysGetManyResponse](t, alice.c, wire.OpKeysGetMany, wire.KeysGetManyRequest{
		Usernames: []string{"Bob", "carol", "dave", "alice", "erin", "gone", "nobody", "bob"}})
	var names []string
	for _, k := range got.Keys {
		names = append(names, k.Username)
	}
	if want := []string{"bob", "carol", "dave", "alice"}; !slices.Equal(names, want) {
		t.Errorf("keys for %v, want %v (in the order asked, each once)", names, want)
	}
	if want := []string{"erin", "gone", "nobody"}; !slices.Equal(got.Missing, want) {
		t.Errorf("missing %v, want %v", got.Missing, want)
	}
	ids := map[string]ed25519.PublicKey{"bob": bob.identity.Public().(ed25519.PublicKey), "carol": carol.identity.Public().(ed25519.PublicKey),
		"dave": dave.identity.Public().(ed25519.PublicKey), "alice": alice.identity.Public().(ed25519.PublicKey)}
	for _, k := range got.Keys {
		if !bytes.Equal(k.IdentityKey, ids[k.Username]) {
			t.Errorf("%s: identity key %x, want %x", k.Username, k.IdentityKey, ids[k.Username])
		}
		if err := k.Prekey.Verify(k.IdentityKey, k.Username, time.Now()); err != nil {
			t.Errorf("%s: prekey does not verify: %v", k.Username, err)
		}
		// The same answer as keys.get's.
		one := keysOf(t, alice.c, k.Username)
		if !bytes.Equal(one.Prekey.Public, k.Prekey.Public) {
			t.Errorf("%s: prekey differs from keys.get's", k.Username)
		}
	}
}

func TestKeysGetManyBounds(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	many := make([]string, wire.MaxKeysBatch+1)
	for i := range many {
		many[i] = fmt.Sprintf("user%d", i)
	}
	for _, tc := range []struct {
		name  string
		names []string
		field string
	}{
		{"none", nil, "usernames"},
		{"too many", many, "usernames"},
		{"a bad name", []string{"bob", "a b"}, "usernames[1]"},
		{"an empty name", []string{""}, "usernames[0]"},
		{"a long name", []string{strings.Repeat("x", 100)}, "usernames[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if werr := callErr(t, alice.c, wire.OpKeysGetMany, wire.KeysGetManyRequest{Usernames: tc.names}, wire.CodeInvalid); werr.Field != tc.field {
				t.Errorf("field %q, want %q", werr.Field, tc.field)
			}
		})
	}
	// The most a request may name is answered.
	got := call[wire.KeysGetManyResponse](t, alice.c, wire.OpKeysGetMany, wire.KeysGetManyRequest{Usernames: many[:wire.MaxKeysBatch]})
	if len(got.Keys) != 0 || len(got.Missing) != wire.MaxKeysBatch {
		t.Errorf("%d keys and %d missing, want 0 and %d", len(got.Keys), len(got.Missing), wire.MaxKeysBatch)
	}
}
