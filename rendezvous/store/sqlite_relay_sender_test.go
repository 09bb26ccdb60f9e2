package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// checkSenderTotals compares the per-sender running totals with the table.
func checkSenderTotals(t *testing.T, s suiteStore, recipient, sender string, wantCount int, wantBytes int64) {
	t.Helper()
	var count, bytes int64
	err := s.rawRow(context.Background(), `SELECT count, bytes FROM relay_sender_totals
		WHERE recipient = ? AND sender = ?`, recipient, sender).Scan(&count, &bytes)
	if err != nil && !errorsIsNotFound(err) {
		t.Fatal(err)
	}
	if count != int64(wantCount) || bytes != wantBytes {
		t.Errorf("totals of %s for %s = %d/%d, want %d/%d", sender, recipient, count, bytes, wantCount, wantBytes)
	}
}

func TestRelaySenderQuota(t *testing.T) { eachStore(t, testRelaySenderQuota) }

func testRelaySenderQuota(t *testing.T, s suiteStore) {
	ctx := context.Background()
	q := Quota{MaxCount: 100, MaxBytes: 1000, SenderCount: 2, SenderBytes: 25}
	from := func(sender, id string, n int) RelayMessage {
		m := relayMsg("bob", id, n, at(0))
		m.Sender = sender
		return m
	}
	put(t, s, from("mallory", "m1", 10), q)
	put(t, s, from("mallory", "m2", 10), q)
	_, err := s.PutRelay(ctx, from("mallory", "m3", 1), q)
	wantErr(t, err, ErrSenderQuota)
	// Others are not affected, nor is mallory's share for someone else.
	put(t, s, from("alice", "m3", 10), q)
	m := from("mallory", "m3", 1)
	m.Recipient = "carol"
	put(t, s, m, q)
	checkSenderTotals(t, s, "bob", "mallory", 2, 20)
	checkSenderTotals(t, s, "bob", "alice", 1, 10)
	// An ack frees the room; then the bytes bound holds.
	_, err = s.AckRelay(ctx, "bob", []RelayRef{{Sender: "mallory", ID: "m1"}}, nil, at(0))
	mustNil(t, err)
	checkSenderTotals(t, s, "bob", "mallory", 1, 10)
	_, err = s.PutRelay(ctx, from("mallory", "m4", 16), q)
	wantErr(t, err, ErrSenderQuota)
	put(t, s, from("mallory", "m4", 15), q)
	// Expiry keeps the totals too.
	_, _, err = s.ExpireRelay(ctx, at(time.Hour), at(time.Hour))
	mustNil(t, err)
	checkSenderTotals(t, s, "bob", "mallory", 0, 0)
	checkTotals(t, s, "bob", 0, 0)
}

func TestAckRelayRefused(t *testing.T) { eachStore(t, testAckRelayRefused) }

func testAckRelayRefused(t *testing.T, s suiteStore) {
	ctx := context.Background()
	put(t, s, relayMsg("bob", "m1", 5, at(0)), Quota{})
	put(t, s, relayMsg("bob", "m2", 5, at(0)), Quota{})
	n, err := s.AckRelay(ctx, "bob", fromAlice("m1"), append(fromAlice("m2", "nope"), RelayRef{Sender: "carol", ID: "m2"}), at(time.Minute))
	mustNil(t, err)
	if n != 2 {
		t.Fatalf("deleted %d, want 2", n)
	}
	drops, err := s.RelayDrops(ctx, "alice", 10)
	mustNil(t, err)
	if len(drops) != 1 || drops[0] != (RelayDrop{Sender: "alice", Recipient: "bob", ID: "m2", Reason: "refused", At: at(time.Minute)}) {
		t.Fatalf("drops = %+v, want one for m2 (only what was stored)", drops)
	}
	if d, _ := s.RelayDrops(ctx, "carol", 10); len(d) != 0 {
		t.Errorf("carol has notices for nothing she sent: %+v", d)
	}
	if d, _ := s.RelayDrops(ctx, "alice", 0); d != nil {
		t.Errorf("limit 0 = %+v", d)
	}
	// Only the sender's own notices are acknowledged.
	k, err := s.AckRelayDrops(ctx, "carol", []DropRef{{Recipient: "bob", ID: "m2"}})
	mustNil(t, err)
	if k != 0 {
		t.Errorf("carol acknowledged %d of alice's notices", k)
	}
	k, err = s.AckRelayDrops(ctx, "alice", []DropRef{{Recipient: "bob", ID: "m2"}})
	mustNil(t, err)
	if k != 1 {
		t.Errorf("acknowledged %d, want 1", k)
	}
}

// A version 1 database keeps its waiting envelopes and gains per-sender
// totals that match them.
func TestMigrateRelayToSenderScoped(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{Migrations: migrations[:1]})
	mustNil(t, err)
	for _, stmt := range []string{
		`INSERT INTO relay (recipient, msg_id, sender, envelope, size, created) VALUES ('bob', 'm1', 'alice', x'0102', 2, 1)`,
		`INSERT INTO relay (recipient, msg_id, sender, envelope, size, created) VALUES ('bob', 'm2', 'alice', x'010203', 3, 2)`,
		`INSERT INTO relay (recipient, msg_id, sender, envelope, size, created) VALUES ('bob', 'm3', 'carol', x'01', 1, 3)`,
	} {
		_, err := db.Writer().ExecContext(ctx, stmt)
		mustNil(t, err)
	}
	mustNil(t, db.Close())

	s, err := Open(ctx, path)
	mustNil(t, err)
	defer s.Close()
	msgs, err := s.PendingRelay(ctx, "bob", 0, 10)
	mustNil(t, err)
	if got := relayIDs(msgs); len(got) != 3 || got[0] != "m1" || got[2] != "m3" {
		t.Fatalf("pending after migration = %v", got)
	}
	checkTotals(t, s, "bob", 3, 6)
	checkSenderTotals(t, s, "bob", "alice", 2, 5)
	checkSenderTotals(t, s, "bob", "carol", 1, 1)
	// The same id from another sender is now another message, and the
	// triggers keep both totals.
	put(t, s, RelayMessage{Recipient: "bob", ID: "m1", Sender: "carol", Envelope: []byte("x"), Created: at(0)}, Quota{})
	checkSenderTotals(t, s, "bob", "carol", 2, 2)
	_, err = s.AckRelay(ctx, "bob", fromAlice("m1", "m2"), nil, at(0))
	mustNil(t, err)
	checkSenderTotals(t, s, "bob", "alice", 0, 0)
	checkTotals(t, s, "bob", 2, 2)
}
