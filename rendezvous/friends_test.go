package rendezvous

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// This file tests friend requests and friendships (docs/protocol.md,
// friend.*). It also holds helpers that the presence, group, relay and
// directory tests share.

// collectEvents returns, in order, the bodies of the events named op up to
// and including the first one for which last reports true; events of other
// kinds are skipped. It fails if that event does not come within a few
// seconds.
func collectEvents[Body any](t *testing.T, c *client.Client, op string, last func(Body) bool) []Body {
	t.Helper()
	var got []Body
	timeout := time.After(5 * time.Second)
	for {
		select {
		case f, ok := <-c.Events():
			if !ok {
				t.Fatalf("waiting for %s: connection closed: %v (so far %+v)", op, c.Err(), got)
			}
			if f.Op != op {
				continue
			}
			var b Body
			if err := json.Unmarshal(f.Body, &b); err != nil {
				t.Fatalf("decode %s event %s: %v", op, f.Body, err)
			}
			got = append(got, b)
			if last(b) {
				return got
			}
		case <-timeout:
			t.Fatalf("no matching %s event within 5s; got %+v", op, got)
		}
	}
}

// waitEventWhere returns the next event named op whose body satisfies
// match, skipping every other event.
func waitEventWhere[Body any](t *testing.T, c *client.Client, op string, match func(Body) bool) Body {
	t.Helper()
	got := collectEvents(t, c, op, match)
	return got[len(got)-1]
}

// waitPresence waits until u is told that user has status.
func waitPresence(t *testing.T, u *testUser, user, status string) wire.Presence {
	t.Helper()
	return waitEventWhere(t, u.c, wire.EvPresence, func(p wire.Presence) bool {
		return p.Username == user && p.Status == status
	})
}

// settle makes a round trip on u's connection. The server runs one
// connection's requests in order and finishes what a request schedules
// after its reply (presence broadcasts, the pushes that follow a login)
// before it reads the next, so when settle returns that work is done.
// Relay delivery runs on its own goroutine and is not covered.
func settle(t *testing.T, u *testUser) {
	t.Helper()
	call[wire.Empty](t, u.c, wire.OpPing, wire.Empty{})
}

// makeFriends makes a and b friends, and waits until the presence exchange
// that follows is done. (Otherwise that exchange, which runs after b's
// accept reply, may reach a client after events the test causes next.)
func makeFriends(t *testing.T, a, b *testUser) {
	t.Helper()
	befriend(t, a, b)
	settle(t, b)
}

// storeUser creates an account straight in the store, with valid keys,
// for tests that need many accounts: no connection and no password hash.
func storeUser(t *testing.T, ts *testServer, name, display string) {
	t.Helper()
	priv, pk := newIdentity(t, name)
	u := store.User{
		Name:        name,
		DisplayName: display,
		IdentityKey: priv.Public().(ed25519.PublicKey),
		Prekey:      pk,
		Created:     time.Now().UTC(),
	}
	if err := ts.store.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("store user %s: %v", name, err)
	}
}

// friendNames lists the usernames in a friends.list reply.
func friendNames(fl wire.FriendsListResponse) []string {
	names := []string{}
	for _, f := range fl.Friends {
		names = append(names, f.Username)
	}
	return names
}

// checkRequests compares pending requests with want, given as
// "from>to:display name of the other side", and checks each has a time.
func checkRequests(t *testing.T, what string, got []wire.FriendRequestInfo, want ...string) {
	t.Helper()
	var g []string
	for _, r := range got {
		g = append(g, fmt.Sprintf("%s>%s:%s", r.From, r.To, r.DisplayName))
		if r.At.IsZero() {
			t.Errorf("%s: request %s>%s has no time", what, r.From, r.To)
		}
	}
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, g, want)
	}
}

// restartServer stops ts as an operator would and starts a new server on
// the same data directory: the same certificate and the same SQLite file.
func restartServer(t *testing.T, ts *testServer) *testServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	err := <-ts.done
	ts.done <- err // the first server's cleanup waits for it too
	if !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v, want ErrServerClosed", err)
	}
	if err := ts.store.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}

	cert, created, err := LoadOrCreateCertificate(ts.dir)
	if err != nil || created {
		t.Fatalf("reload certificate: created %v, %v", created, err)
	}
	st, err := store.Open(ctx, filepath.Join(ts.dir, "rendezvous.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{TLS: TLSConfig(cert), Password: testPassword, Logger: slog.New(slog.DiscardHandler)}, st)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	next := &testServer{srv: srv, store: st, addr: ln.Addr().String(), fp: Fingerprint(cert), dir: ts.dir, done: make(chan error, 1)}
	if next.fp != ts.fp {
		t.Fatalf("fingerprint changed across restart: %s, was %s", next.fp, ts.fp)
	}
	go func() { next.done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-next.done
		st.Close()
	})
	return next
}

// seedDB writes rows straight into the server's SQLite file, in one
// transaction, for the limit tests: through the store each row is a
// durable commit of its own, a few milliseconds apiece, and these tests
// need hundreds or a thousand. The server only counts such rows, so they
// hold the least that makes them valid (a user row may be a bare name).
func seedDB(t *testing.T, ts *testServer, fill func(exec func(query string, args ...any))) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(ts.dir, "rendezvous.db")+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	fill(func(query string, args ...any) {
		t.Helper()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("seed %q %v: %v", query, args, err)
		}
	})
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// seedFriendships gives user n friends, f0000, f0001, ...
func seedFriendships(t *testing.T, ts *testServer, user string, n int) {
	t.Helper()
	now := time.Now().UnixNano()
	seedDB(t, ts, func(exec func(string, ...any)) {
		for i := range n {
			a, b := user, fmt.Sprintf("f%04d", i)
			if b < a {
				a, b = b, a
			}
			exec(`INSERT INTO friendships (a, b, since) VALUES (?, ?, ?)`, a, b, now)
		}
	})
	if got, err := ts.store.Friends(context.Background(), user); err != nil || len(got) != n {
		t.Fatalf("after seeding, %s has %d friends (%v), want %d", user, len(got), err, n)
	}
}

func TestFriendRequestToOnlineUser(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")

	before := time.Now().Add(-time.Second)
	r := call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "Bob"})
	if r.Status != "pending" {
		t.Fatalf("status %q, want pending", r.Status)
	}
	ev := waitEvent[wire.FriendEvent](t, bob.c, wire.EvFriendRequest)
	if ev.Username != "alice" || ev.DisplayName != "User alice" {
		t.Errorf("friend.request event %+v, want from alice, \"User alice\"", ev)
	}
	if ev.At.Before(before) || ev.At.After(time.Now().Add(time.Second)) {
		t.Errorf("friend.request at %v, want about now", ev.At)
	}

	// Both sides see the request, with the other side's display name.
	fl := call[wire.FriendsListResponse](t, alice.c, wire.OpFriendsList, wire.Empty{})
	checkRequests(t, "alice outgoing", fl.Outgoing, "alice>bob:User bob")
	checkRequests(t, "alice incoming", fl.Incoming)
	if len(fl.Friends) != 0 {
		t.Errorf("alice friends %v, want none", friendNames(fl))
	}
	fl = call[wire.FriendsListResponse](t, bob.c, wire.OpFriendsList, wire.Empty{})
	checkRequests(t, "bob incoming", fl.Incoming, "alice>bob:User alice")
	checkRequests(t, "bob outgoing", fl.Outgoing)

	// A repeat changes nothing and sends nothing: the next request event
	// bob sees is carol's.
	for _, name := range []string{"bob", "BOB"} {
		r = call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: name})
		if r.Status != "pending" {
			t.Fatalf("repeat: status %q, want pending", r.Status)
		}
	}
	call[wire.FriendRequestResponse](t, carol.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"})
	if ev := waitEvent[wire.FriendEvent](t, bob.c, wire.EvFriendRequest); ev.Username != "carol" {
		t.Errorf("after a repeated request bob got a friend.request from %s, want only carol's", ev.Username)
	}
	fl = call[wire.FriendsListResponse](t, bob.c, wire.OpFriendsList, wire.Empty{})
	checkRequests(t, "bob incoming", fl.Incoming, "alice>bob:User alice", "carol>bob:User carol")
}

func TestFriendRequestToOfflineUser(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	bob.c.Close()

	call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"})

	// Pushed at the next login, and at every login while unanswered.
	var last *testUser
	for i := range 2 {
		last = ts.login(t, bob)
		ev := waitEvent[wire.FriendEvent](t, last.c, wire.EvFriendRequest)
		if ev.Username != "alice" || ev.DisplayName != "User alice" || ev.At.IsZero() {
			t.Fatalf("login %d: friend.request event %+v, want alice's", i+1, ev)
		}
	}

	// Once answered it is not pushed again: the next request event after
	// a login is carol's, sent after the login's pushes were done.
	call[wire.Empty](t, last.c, wire.OpFriendAccept, wire.UserRequest{Username: "alice"})
	again := ts.login(t, bob)
	settle(t, again)
	call[wire.FriendRequestResponse](t, carol.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"})
	if ev := waitEvent[wire.FriendEvent](t, again.c, wire.EvFriendRequest); ev.Username != "carol" {
		t.Errorf("after accepting, login pushed a friend.request from %s", ev.Username)
	}
}

func TestFriendRequestSurvivesRestart(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	bob.c.Close()
	call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"})

	ts2 := restartServer(t, ts)
	bob2 := ts2.login(t, bob)
	ev := waitEvent[wire.FriendEvent](t, bob2.c, wire.EvFriendRequest)
	if ev.Username != "alice" || ev.DisplayName != "User alice" {
		t.Fatalf("after restart: friend.request event %+v, want alice's", ev)
	}
	alice2 := ts2.login(t, alice)
	fl := call[wire.FriendsListResponse](t, alice2.c, wire.OpFriendsList, wire.Empty{})
	checkRequests(t, "alice outgoing after restart", fl.Outgoing, "alice>bob:User bob")

	call[wire.Empty](t, bob2.c, wire.OpFriendAccept, wire.UserRequest{Username: "alice"})
	if ev := waitEvent[wire.FriendEvent](t, alice2.c, wire.EvFriendAccepted); ev.Username != "bob" {
		t.Fatalf("friend.accepted from %s, want bob", ev.Username)
	}
}

func TestFriendAccept(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")

	call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"})
	call[wire.Empty](t, bob.c, wire.OpFriendAccept, wire.UserRequest{Username: "Alice"})

	ev := waitEvent[wire.FriendEvent](t, alice.c, wire.EvFriendAccepted)
	if ev.Username != "bob" || ev.DisplayName != "User bob" || ev.At.IsZero() {
		t.Errorf("friend.accepted event %+v, want from bob, \"User bob\"", ev)
	}
	// Presence both ways, sent after the accept.
	waitPresence(t, alice, "bob", wire.StatusOnline)
	waitPresence(t, bob, "alice", wire.StatusOnline)

	for _, tc := range []struct {
		me     *testUser
		friend string
	}{{alice, "bob"}, {bob, "alice"}} {
		fl := call[wire.FriendsListResponse](t, tc.me.c, wire.OpFriendsList, wire.Empty{})
		if len(fl.Friends) != 1 {
			t.Fatalf("%s friends %v, want [%s]", tc.me.name, friendNames(fl), tc.friend)
		}
		f := fl.Friends[0]
		if f.Username != tc.friend || f.DisplayName != "User "+tc.friend {
			t.Errorf("%s friend %+v, want %s", tc.me.name, f, tc.friend)
		}
		if f.Presence.Username != tc.friend || f.Presence.Status != wire.StatusOnline || f.Presence.Observed == "" {
			t.Errorf("%s sees %s's presence %+v, want online with an observed address", tc.me.name, tc.friend, f.Presence)
		}
		checkRequests(t, tc.me.name+" incoming", fl.Incoming)
		checkRequests(t, tc.me.name+" outgoing", fl.Outgoing)
	}
}

func TestFriendMutualRequestAccepts(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")

	call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"})
	r := call[wire.FriendRequestResponse](t, bob.c, wire.OpFriendRequest, wire.UserRequest{Username: "alice"})
	if r.Status != "accepted" {
		t.Fatalf("request back: status %q, want accepted", r.Status)
	}
	if ev := waitEvent[wire.FriendEvent](t, alice.c, wire.EvFriendAccepted); ev.Username != "bob" {
		t.Errorf("friend.accepted from %s, want bob", ev.Username)
	}
	waitPresence(t, alice, "bob", wire.StatusOnline)
	waitPresence(t, bob, "alice", wire.StatusOnline)
	for _, u := range []*testUser{alice, bob} {
		fl := call[wire.FriendsListResponse](t, u.c, wire.OpFriendsList, wire.Empty{})
		if len(fl.Friends) != 1 || len(fl.Incoming) != 0 || len(fl.Outgoing) != 0 {
			t.Errorf("%s: friends %v, incoming %v, outgoing %v; want one friend, no requests", u.name, friendNames(fl), fl.Incoming, fl.Outgoing)
		}
	}
	callErr(t, alice.c, wire.OpFriendAccept, wire.UserRequest{Username: "bob"}, wire.CodeNotFound)
}

func TestFriendErrors(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	makeFriends(t, alice, bob)
	ts.register(t, "gone")
	if err := ts.store.SetDisabled(context.Background(), "gone", true, time.Now()); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		as    *testUser
		op    string
		who   string
		code  string
		field string
	}{
		{"request unknown user", alice, wire.OpFriendRequest, "nobody", wire.CodeNotFound, "username"},
		{"request disabled user", alice, wire.OpFriendRequest, "gone", wire.CodeNotFound, "username"},
		{"request bad name", alice, wire.OpFriendRequest, "no such", wire.CodeInvalid, "username"},
		{"request self", alice, wire.OpFriendRequest, "alice", wire.CodeInvalid, "username"},
		{"request self other case", alice, wire.OpFriendRequest, "ALICE", wire.CodeInvalid, "username"},
		{"request friend", alice, wire.OpFriendRequest, "bob", wire.CodeConflict, ""},
		{"request friend other way", bob, wire.OpFriendRequest, "alice", wire.CodeConflict, ""},
		{"accept without request", alice, wire.OpFriendAccept, "carol", wire.CodeNotFound, ""},
		{"accept unknown user", alice, wire.OpFriendAccept, "nobody", wire.CodeNotFound, ""},
		{"accept bad name", alice, wire.OpFriendAccept, "x", wire.CodeInvalid, "username"},
		{"accept friend", alice, wire.OpFriendAccept, "bob", wire.CodeNotFound, ""},
		{"reject without request", alice, wire.OpFriendReject, "carol", wire.CodeNotFound, ""},
		{"remove non-friend", alice, wire.OpFriendRemove, "carol", wire.CodeNotFound, ""},
		{"remove unknown user", alice, wire.OpFriendRemove, "nobody", wire.CodeNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			werr := callErr(t, tc.as.c, tc.op, wire.UserRequest{Username: tc.who}, tc.code)
			if tc.field != "" && werr.Field != tc.field {
				t.Errorf("field %q, want %q", werr.Field, tc.field)
			}
		})
	}
	// None of that changed anything.
	fl := call[wire.FriendsListResponse](t, alice.c, wire.OpFriendsList, wire.Empty{})
	if fmt.Sprint(friendNames(fl)) != "[bob]" || len(fl.Incoming)+len(fl.Outgoing) != 0 {
		t.Errorf("alice after failed operations: friends %v, incoming %v, outgoing %v", friendNames(fl), fl.Incoming, fl.Outgoing)
	}
	fl = call[wire.FriendsListResponse](t, carol.c, wire.OpFriendsList, wire.Empty{})
	if len(fl.Friends)+len(fl.Incoming)+len(fl.Outgoing) != 0 {
		t.Errorf("carol after failed operations: %+v", fl)
	}
}

func TestFriendReject(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")

	// Rejecting an incoming request removes it for good.
	call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"})
	call[wire.Empty](t, bob.c, wire.OpFriendReject, wire.UserRequest{Username: "alice"})
	callErr(t, bob.c, wire.OpFriendAccept, wire.UserRequest{Username: "alice"}, wire.CodeNotFound)
	callErr(t, bob.c, wire.OpFriendReject, wire.UserRequest{Username: "alice"}, wire.CodeNotFound)
	for _, u := range []*testUser{alice, bob} {
		fl := call[wire.FriendsListResponse](t, u.c, wire.OpFriendsList, wire.Empty{})
		if len(fl.Friends)+len(fl.Incoming)+len(fl.Outgoing) != 0 {
			t.Errorf("%s after reject: %+v", u.name, fl)
		}
	}
	// The requester may ask again; it is a fresh pending request.
	if r := call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"}); r.Status != "pending" {
		t.Errorf("asking again after a reject: %q, want pending", r.Status)
	}

	// Rejecting one's own outgoing request withdraws it.
	call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "carol"})
	waitEvent[wire.FriendEvent](t, carol.c, wire.EvFriendRequest)
	call[wire.Empty](t, alice.c, wire.OpFriendReject, wire.UserRequest{Username: "carol"})
	fl := call[wire.FriendsListResponse](t, carol.c, wire.OpFriendsList, wire.Empty{})
	checkRequests(t, "carol incoming after withdrawal", fl.Incoming)
	fl = call[wire.FriendsListResponse](t, alice.c, wire.OpFriendsList, wire.Empty{})
	checkRequests(t, "alice outgoing after withdrawal", fl.Outgoing, "alice>bob:User bob")
	callErr(t, carol.c, wire.OpFriendAccept, wire.UserRequest{Username: "alice"}, wire.CodeNotFound)
	// Nor is it pushed at carol's next login.
	carol2 := ts.login(t, carol)
	settle(t, carol2)
	call[wire.FriendRequestResponse](t, bob.c, wire.OpFriendRequest, wire.UserRequest{Username: "carol"})
	if ev := waitEvent[wire.FriendEvent](t, carol2.c, wire.EvFriendRequest); ev.Username != "bob" {
		t.Errorf("withdrawn request from %s pushed at login", ev.Username)
	}
}

func TestFriendRemove(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)

	before := time.Now().Add(-time.Second)
	call[wire.Empty](t, alice.c, wire.OpFriendRemove, wire.UserRequest{Username: "BOB"})
	ev := waitEvent[wire.FriendEvent](t, bob.c, wire.EvFriendRemoved)
	if ev.Username != "alice" || ev.At.Before(before) {
		t.Errorf("friend.removed event %+v, want from alice, now", ev)
	}
	callErr(t, alice.c, wire.OpFriendRemove, wire.UserRequest{Username: "bob"}, wire.CodeNotFound)
	callErr(t, bob.c, wire.OpFriendRemove, wire.UserRequest{Username: "alice"}, wire.CodeNotFound)
	for _, u := range []*testUser{alice, bob} {
		fl := call[wire.FriendsListResponse](t, u.c, wire.OpFriendsList, wire.Empty{})
		if len(fl.Friends) != 0 {
			t.Errorf("%s still has friends %v", u.name, friendNames(fl))
		}
	}
	// They may become friends again.
	if r := call[wire.FriendRequestResponse](t, bob.c, wire.OpFriendRequest, wire.UserRequest{Username: "alice"}); r.Status != "pending" {
		t.Errorf("request after removal: %q, want pending", r.Status)
	}
}

// fillOutgoing gives user maxPendingOutgoing unanswered requests, to
// new accounts p000, p001, ...
func fillOutgoing(t *testing.T, ts *testServer, user string) {
	t.Helper()
	now := time.Now().UnixNano()
	seedDB(t, ts, func(exec func(string, ...any)) {
		for i := range maxPendingOutgoing {
			name := fmt.Sprintf("p%03d", i)
			exec(`INSERT INTO users (name, created) VALUES (?, ?)`, name, now)
			exec(`INSERT INTO friend_requests (from_user, to_user, at) VALUES (?, ?, ?)`, user, name, now+int64(i))
		}
	})
	if _, out, err := ts.store.FriendRequests(context.Background(), user); err != nil || len(out) != maxPendingOutgoing {
		t.Fatalf("after seeding, %s has %d outgoing requests (%v), want %d", user, len(out), err, maxPendingOutgoing)
	}
}

func TestFriendPendingLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	ts.register(t, "zoe")
	fillOutgoing(t, ts, "alice")

	callErr(t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "zoe"}, wire.CodeLimit)
	fl := call[wire.FriendsListResponse](t, alice.c, wire.OpFriendsList, wire.Empty{})
	if len(fl.Outgoing) != maxPendingOutgoing {
		t.Fatalf("%d outgoing requests, want %d", len(fl.Outgoing), maxPendingOutgoing)
	}
	// Withdrawing one makes room for exactly one more.
	call[wire.Empty](t, alice.c, wire.OpFriendReject, wire.UserRequest{Username: "p000"})
	if r := call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "zoe"}); r.Status != "pending" {
		t.Fatalf("after withdrawing one: %q, want pending", r.Status)
	}
	callErr(t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "p000"}, wire.CodeLimit)
}

func TestFriendRepeatRequestAtPendingLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	fillOutgoing(t, ts, "alice")

	// "A repeated request changes nothing": it adds no request, so the
	// limit on unanswered requests does not apply to it.
	r := call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "p042"})
	if r.Status != "pending" {
		t.Fatalf("repeat at the limit: status %q, want pending", r.Status)
	}
}

func TestFriendLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	seedFriendships(t, ts, "alice", maxFriends)

	// At the limit alice can neither ask nor accept.
	callErr(t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"}, wire.CodeLimit)
	call[wire.FriendRequestResponse](t, bob.c, wire.OpFriendRequest, wire.UserRequest{Username: "alice"})
	callErr(t, alice.c, wire.OpFriendAccept, wire.UserRequest{Username: "bob"}, wire.CodeLimit)
	// Asking back would accept: the same limit holds.
	callErr(t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"}, wire.CodeLimit)
	if ok, err := ts.store.AreFriends(context.Background(), "alice", "bob"); err != nil || ok {
		t.Fatalf("alice and bob friends: %v, %v; want false", ok, err)
	}
}

func TestFriendLimitHoldsForRequester(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	seedFriendships(t, ts, "alice", maxFriends-1)

	// With room for one more friend alice may ask two people.
	call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "bob"})
	call[wire.FriendRequestResponse](t, alice.c, wire.OpFriendRequest, wire.UserRequest{Username: "carol"})
	call[wire.Empty](t, bob.c, wire.OpFriendAccept, wire.UserRequest{Username: "alice"})
	// The second acceptance would give alice maxFriends+1 friends.
	callErr(t, carol.c, wire.OpFriendAccept, wire.UserRequest{Username: "alice"}, wire.CodeLimit)
	if got, err := ts.store.Friends(context.Background(), "alice"); err != nil || len(got) > maxFriends {
		t.Fatalf("alice has %d friends (%v), limit %d", len(got), err, maxFriends)
	}
}
