package e2e

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	_ "modernc.org/sqlite"
)

// TestPrekeyRotation runs bob's daemon with a prekey lifetime of seconds:
// the server's directory shows a new signed prekey before the old one
// expires, and the old secret leaves bob's history database once the
// relay retention after its expiry has passed.
func TestPrekeyRotation(t *testing.T) {
	srv := startServer(t)
	bob := newUser(t, srv, "bob")
	bob.extra = []string{"--prekey-lifetime", "4s", "--relay-retention", "3s"}
	bob.start(t)
	bob.register(t)
	carol := newPeer(t, "carol")
	carol.register(t, srv)
	carol.call(t, wire.OpFriendRequest, wire.UserRequest{Username: "bob"}, nil)
	bob.must(t, "friend", "accept", "carol")

	prekeyOfBob := func() string {
		var kr wire.KeysResponse
		carol.call(t, wire.OpKeysGet, wire.UserRequest{Username: "bob"}, &kr)
		if err := kr.Prekey.Verify(kr.IdentityKey, "bob", time.Now()); err != nil {
			t.Fatalf("bob's published prekey: %v", err)
		}
		return kr.Prekey.ID()
	}
	first := prekeyOfBob()
	eventually(t, 15*time.Second, func() (bool, string) {
		return prekeyOfBob() != first, "bob's prekey was not rotated"
	})

	db, err := sql.Open("sqlite", "file:"+filepath.Join(bob.home, "history.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := func() []string {
		rows, err := db.Query(`SELECT id FROM prekeys`)
		if err != nil {
			t.Fatalf("read bob's prekeys: %v", err)
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		return ids
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		ids := stored()
		return !slices.Contains(ids, first), fmt.Sprintf("the first prekey's secret is still stored: %v", ids)
	})
	// The current one is kept.
	if cur := prekeyOfBob(); !slices.Contains(stored(), cur) {
		t.Fatalf("the published prekey %s has no secret in bob's database", cur)
	}
}
