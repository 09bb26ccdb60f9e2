package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// t0 is a fixed base time with sub-millisecond precision, to show times
// round-trip exactly.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// openTest opens a fresh store in a temporary directory and closes it when
// the test ends.
func openTest(t *testing.T) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rendezvous.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func testUser(name string) User {
	return User{
		Name:         name,
		DisplayName:  "Display " + name,
		Email:        name + "@example.org",
		Phone:        "+1555" + name,
		PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
		IdentityKey:  []byte("identity-" + name),
		Prekey: keys.SignedPrekey{
			Public:    []byte("prekey-" + name),
			Created:   1700000000,
			Expires:   1700086400,
			Signature: []byte("sig-" + name),
		},
		Created: at(0),
	}
}

func addUsers(t *testing.T, s suiteStore, names ...string) {
	t.Helper()
	for _, n := range names {
		mustNil(t, s.CreateUser(context.Background(), testUser(n)))
	}
}

// The SQLite setup itself is tested in internal/sqlitedb; here, that the
// store brings a new file to its schema and refuses a newer one.
func TestOpenSchema(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	var v int
	mustNil(t, s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v))
	if v != schemaVersion {
		t.Errorf("user_version = %d, want %d", v, schemaVersion)
	}
	_, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion+1))
	mustNil(t, err)
	mustNil(t, s.Close())
	if _, err := Open(ctx, path); !errors.Is(err, sqlitedb.ErrNewer) {
		t.Errorf("Open of a newer schema: %v, want ErrNewer", err)
	}
}

func TestReopenKeepsData(t *testing.T) { eachBackend(t, testReopenKeepsData) }

func testReopenKeepsData(t *testing.T, b backend) {
	ctx := context.Background()
	path := b.location(t)
	s, err := b.open(ctx, path)
	mustNil(t, err)
	addUsers(t, s, "alice", "bob", "carol")
	mustNil(t, s.SetLastSeen(ctx, "alice", at(time.Hour)))
	mustNil(t, s.CreateSession(ctx, Session{TokenHash: []byte("tok"), User: "alice", Created: at(0), Expires: at(time.Hour)}))
	mustNil(t, s.CreateFriendRequest(ctx, FriendRequest{From: "alice", To: "bob", At: at(1)}))
	mustNil(t, s.AcceptFriendRequest(ctx, "alice", "bob", at(2)))
	mustNil(t, s.CreateFriendRequest(ctx, FriendRequest{From: "carol", To: "alice", At: at(3)}))
	g := Group{ID: "00112233445566778899aabbccddeeff", Name: "team", Owner: "alice", Created: at(4)}
	mustNil(t, s.CreateGroup(ctx, g))
	mustNil(t, s.CreateInvite(ctx, Invite{Group: g, User: "carol", By: "alice", At: at(5)}))
	ok, err := s.PutRelay(ctx, RelayMessage{Recipient: "bob", ID: "m1", Sender: "alice", Envelope: []byte("sealed"), Created: at(6)}, Quota{})
	mustNil(t, err)
	if !ok {
		t.Fatal("PutRelay: not inserted")
	}
	mustNil(t, s.Close())

	s, err = b.open(ctx, path)
	mustNil(t, err)
	defer s.Close()
	u, err := s.User(ctx, "alice")
	mustNil(t, err)
	want := testUser("alice")
	want.LastSeen = at(time.Hour)
	checkUser(t, u, want)
	sess, err := s.Session(ctx, []byte("tok"))
	mustNil(t, err)
	if sess.User != "alice" || !sess.Expires.Equal(at(time.Hour)) {
		t.Errorf("session = %+v", sess)
	}
	if ok, err := s.AreFriends(ctx, "bob", "alice"); err != nil || !ok {
		t.Errorf("AreFriends = %v, %v", ok, err)
	}
	if _, err := s.FriendRequest(ctx, "carol", "alice"); err != nil {
		t.Error(err)
	}
	gg, err := s.Group(ctx, "team")
	mustNil(t, err)
	if gg.Members != 1 || gg.Owner != "alice" {
		t.Errorf("group = %+v", gg)
	}
	inv, err := s.Invites(ctx, "carol")
	mustNil(t, err)
	if len(inv) != 1 {
		t.Errorf("invites = %+v", inv)
	}
	msgs, err := s.PendingRelay(ctx, "bob", 0, 10)
	mustNil(t, err)
	if len(msgs) != 1 || string(msgs[0].Envelope) != "sealed" {
		t.Errorf("relay = %+v", msgs)
	}
	// Sequence numbers keep increasing across a reopen, even after the
	// last message was deleted.
	_, err = s.AckRelay(ctx, "bob", []RelayRef{{Sender: "alice", ID: "m1"}}, nil, at(0))
	mustNil(t, err)
	_, err = s.PutRelay(ctx, RelayMessage{Recipient: "bob", ID: "m2", Sender: "alice", Created: at(7)}, Quota{})
	mustNil(t, err)
	msgs2, err := s.PendingRelay(ctx, "bob", 0, 10)
	mustNil(t, err)
	if len(msgs2) != 1 || msgs2[0].Seq <= msgs[0].Seq {
		t.Errorf("seq after reopen = %+v, before %d", msgs2, msgs[0].Seq)
	}
}

func TestConcurrentWriters(t *testing.T) { eachStore(t, testConcurrentWriters) }

func testConcurrentWriters(t *testing.T, s suiteStore) {
	ctx := context.Background()
	addUsers(t, s, "alice", "bob")
	const (
		goroutines = 50
		each       = 10
	)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each*2)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				m := RelayMessage{Recipient: "bob", ID: fmt.Sprintf("g%d-m%d", g, i), Sender: "alice",
					Envelope: []byte("x"), Created: at(time.Duration(i))}
				ok, err := s.PutRelay(ctx, m, Quota{MaxCount: goroutines * each, MaxBytes: 1 << 20})
				if err != nil {
					errs <- err
				} else if !ok {
					errs <- fmt.Errorf("%s not inserted", m.ID)
				}
				// Mix in other writes and reads.
				if err := s.SetLastSeen(ctx, "alice", at(time.Duration(g))); err != nil {
					errs <- err
				}
				if _, err := s.PendingRelay(ctx, "bob", 0, 5); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	msgs, err := s.PendingRelay(ctx, "bob", 0, goroutines*each+10)
	mustNil(t, err)
	if len(msgs) != goroutines*each {
		t.Fatalf("stored %d, want %d", len(msgs), goroutines*each)
	}
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Seq <= msgs[i-1].Seq {
			t.Fatalf("seq not increasing at %d", i)
		}
	}
	checkTotals(t, s, "bob", goroutines*each, goroutines*each)
}

// TestConcurrentStores has two stores (as the server and the admin command
// would, or two nodes) write the same database at once.
func TestConcurrentStores(t *testing.T) { eachBackend(t, testConcurrentStores) }

func testConcurrentStores(t *testing.T, be backend) {
	ctx := context.Background()
	path := be.location(t)
	a, err := be.open(ctx, path)
	mustNil(t, err)
	defer a.Close()
	b, err := be.open(ctx, path)
	mustNil(t, err)
	defer b.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, s := range []suiteStore{a, b, a, b} {
		wg.Go(func() {
			for j := range 20 {
				m := RelayMessage{Recipient: "bob", ID: fmt.Sprintf("%d-%d", i, j), Sender: "alice", Created: at(0)}
				if _, err := s.PutRelay(ctx, m, Quota{MaxCount: 80}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	msgs, err := b.PendingRelay(ctx, "bob", 0, 100)
	mustNil(t, err)
	if len(msgs) != 80 {
		t.Errorf("stored %d, want 80", len(msgs))
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"a", "b", true},
		{"ab", "ac", true},
		{"a\U0010FFFF", "b", true},
		{"\U0010FFFF", "", false},
		{"\uD7FF", "\uE000", true},
		{"é", "ê", true},
	} {
		got, ok := prefixEnd(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestContextCanceled(t *testing.T) { eachStore(t, testContextCanceled) }

func testContextCanceled(t *testing.T, s suiteStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.CreateUser(ctx, testUser("alice")); err == nil {
		t.Error("CreateUser with canceled context succeeded")
	}
	if _, err := s.User(ctx, "alice"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("User with canceled context: %v", err)
	}
	names, err := s.Users(context.Background())
	mustNil(t, err)
	if len(names) != 0 {
		t.Errorf("users = %v", names)
	}
}

func errorsIsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
