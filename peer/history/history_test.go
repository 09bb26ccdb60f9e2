package history

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// t0 is a fixed base time with sub-millisecond precision, to show times
// round-trip exactly.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// openTest opens a fresh store in a temporary directory and closes it when
// the test ends.
func openTest(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

// id makes the n-th test message id.
func id(n int) string { return fmt.Sprintf("%032x", n) }

// gid is a test group id.
const gid = "00112233445566778899aabbccddeeff"

// in makes an incoming direct message from user, sent and received at
// t0+d.
func in(n int, from, body string, d time.Duration) Message {
	return Message{ID: id(n), Conversation: Direct(from), From: from, Body: body, Sent: at(d), Received: at(d), Via: ViaDirect}
}

// out makes an outgoing message from "self" in conv, written at t0+d.
func out(n int, conv, body string, d time.Duration) Message {
	return Message{ID: id(n), Conversation: conv, From: "self", Body: body, Sent: at(d), Received: at(d)}
}

func addIn(t testing.TB, s *Store, m Message) {
	t.Helper()
	ok, err := s.AddIncoming(context.Background(), m)
	mustNil(t, err)
	if !ok {
		t.Fatalf("AddIncoming %s: not inserted", m.ID)
	}
}

func addOut(t testing.TB, s *Store, m Message, to ...string) {
	t.Helper()
	ok, err := s.AddOutgoing(context.Background(), m, to)
	mustNil(t, err)
	if !ok {
		t.Fatalf("AddOutgoing %s: not inserted", m.ID)
	}
}

// The SQLite setup itself is tested in internal/sqlitedb; here, that the
// history brings a new file to its schema with secure_delete on, and
// refuses a newer one.
func TestOpenSchema(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	for name, want := range map[string]int{"user_version": schemaVersion, "secure_delete": 1} {
		var got int
		mustNil(t, s.w.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got))
		if got != want {
			t.Errorf("PRAGMA %s = %d, want %d", name, got, want)
		}
	}
	_, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion+1))
	mustNil(t, err)
	mustNil(t, s.Close())
	if _, err := Open(ctx, path); !errors.Is(err, sqlitedb.ErrNewer) {
		t.Errorf("Open of a newer schema: %v, want ErrNewer", err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(ctx, path)
	mustNil(t, err)
	aliceKey, bobKey := key(1), key(2)
	_, err = s.PinKey(ctx, "alice", aliceKey)
	mustNil(t, err)
	mustNil(t, s.SetDisplayName(ctx, "alice", "Alice A."))
	mustNil(t, s.MarkVerified(ctx, "alice", aliceKey))
	mustNil(t, s.RememberAddr(ctx, "alice", "192.0.2.1:4242"))
	_, err = s.PinKey(ctx, "bob", bobKey)
	mustNil(t, err)
	_, err = s.PinKey(ctx, "bob", key(3))
	mustNil(t, err)
	addIn(t, s, in(1, "alice", "lunch at noon?", 0))
	addOut(t, s, out(2, Direct("alice"), "yes!", time.Minute), "alice")
	addOut(t, s, out(3, Group(gid), "hello team", 2*time.Minute), "alice", "bob")
	mustNil(t, s.SetConversationName(ctx, Group(gid), "team"))
	mustNil(t, s.Done(ctx, id(2), "alice", ViaRelay))
	mustNil(t, s.Attempted(ctx, id(3), "bob", at(time.Hour)))
	mustNil(t, s.SavePrekey(ctx, Prekey{ID: "pk1", Secret: []byte("secret"), Created: at(0), Expires: at(time.Hour)}))
	mustNil(t, s.Close())

	s, err = Open(ctx, path)
	mustNil(t, err)
	defer s.Close()
	alice, err := s.Contact(ctx, "alice")
	mustNil(t, err)
	if alice.DisplayName != "Alice A." || !alice.Verified || string(alice.IdentityKey) != string(aliceKey) ||
		len(alice.Addrs) != 1 || alice.Addrs[0] != "192.0.2.1:4242" {
		t.Errorf("alice = %+v", alice)
	}
	if held, err := s.Held(ctx, "bob"); err != nil || !held {
		t.Errorf("Held(bob) = %v, %v; want true", held, err)
	}
	h, err := s.History(ctx, Direct("alice"), 10, "")
	mustNil(t, err)
	if len(h) != 2 || h[0].ID != id(1) || h[1].ID != id(2) || h[1].State != StateSent || h[1].Via != ViaRelay ||
		!h[0].Sent.Equal(at(0)) || !h[0].Received.Equal(at(0)) {
		t.Errorf("history = %+v", h)
	}
	p, err := s.Pending(ctx, "alice", 10)
	mustNil(t, err)
	if len(p) != 1 || p[0].Message.ID != id(3) {
		t.Errorf("pending for alice = %+v", p)
	}
	mustNil(t, s.Trust(ctx, "bob", key(3)))
	p, err = s.Pending(ctx, "bob", 10)
	mustNil(t, err)
	if len(p) != 1 || p[0].Attempts != 1 || !p[0].NextAttempt.Equal(at(time.Hour)) {
		t.Errorf("pending for bob = %+v", p)
	}
	r, err := s.Recent(ctx, 10)
	mustNil(t, err)
	if len(r) != 2 || r[0].Name != "team" || r[1].Name != "Alice A." || r[1].Unread != 1 {
		t.Errorf("recent = %+v", r)
	}
	found, err := s.Search(ctx, "lunch", "", 10)
	mustNil(t, err)
	if len(found) != 1 || found[0].ID != id(1) {
		t.Errorf("search = %+v", found)
	}
	pk, err := s.Prekey(ctx, "pk1")
	mustNil(t, err)
	if string(pk.Secret) != "secret" || !pk.Created.Equal(at(0)) || !pk.Expires.Equal(at(time.Hour)) {
		t.Errorf("prekey = %+v", pk)
	}
}
