package e2e

import (
	"strings"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
)

// TestAccountsAndFriends registers three users through their daemons and
// walks friend requests: accepted, rejected, and the clear errors a user
// gets for a taken name, a wrong password and a stranger.
func TestAccountsAndFriends(t *testing.T) {
	srv := startServer(t)
	alice, bob, carol := newUser(t, srv, "alice"), newUser(t, srv, "bob"), newUser(t, srv, "carol")
	// Without a daemon every command says how to start one.
	if errs := alice.fails(t, "status"); !strings.Contains(errs, "no daemon running") || !strings.Contains(errs, "lanchat --home") {
		t.Fatalf("status without a daemon: %q", errs)
	}
	for _, u := range []*user{alice, bob, carol} {
		u.start(t)
		u.register(t)
	}

	// The same name, in another case, from another home.
	dup := newUser(t, srv, "Alice")
	dup.start(t)
	_, errs, code := dup.lc(t, "another-password\n", "register", "Alice", "--password-stdin")
	if code == 0 || !strings.Contains(errs, "taken") {
		t.Fatalf("duplicate register: exit %d, stderr %q; want a 'taken' error", code, errs)
	}
	_, errs, code = dup.lc(t, "wrong-password\n", "login", "alice", "--password-stdin")
	if code == 0 || !strings.Contains(strings.ToLower(errs), "password") {
		t.Fatalf("wrong password: exit %d, stderr %q; want an error about the password", code, errs)
	}
	if out := dup.fails(t, "send", "alice", "hi"); !strings.Contains(out, "not logged in") {
		t.Fatalf("send while logged out: %q", out)
	}

	// A stranger cannot be written to, and nothing waits in the outbox.
	errs = alice.fails(t, "send", "bob", "before we are friends")
	if !strings.Contains(errs, "not your friend") {
		t.Fatalf("send to a stranger: %q", errs)
	}
	var st api.Status
	alice.mustJSON(t, &st, "status")
	if st.Outbox != 0 {
		t.Fatalf("outbox after a refused send: %d, want 0", st.Outbox)
	}

	// alice → bob: accepted.
	alice.must(t, "friend", "add", "bob")
	var reqs api.FriendRequests
	bob.mustJSON(t, &reqs, "friend", "requests")
	if len(reqs.Incoming) != 1 || reqs.Incoming[0].User != "alice" {
		t.Fatalf("bob's incoming requests: %+v", reqs)
	}
	bob.must(t, "friend", "accept", "alice")
	var fs []api.Friend
	alice.mustJSON(t, &fs, "friends")
	if !hasFriend(fs, "bob") {
		t.Fatalf("alice's friends after accept: %+v", fs)
	}
	if out := alice.must(t, "friends"); !strings.Contains(out, "bob") || !strings.Contains(out, "online") {
		t.Fatalf("alice's friends list:\n%s", out)
	}

	// alice → carol: rejected.
	alice.must(t, "friend", "add", "carol")
	carol.must(t, "friend", "reject", "alice")
	alice.mustJSON(t, &fs, "friends")
	if hasFriend(fs, "carol") {
		t.Fatalf("carol rejected but is alice's friend: %+v", fs)
	}
	if errs := alice.fails(t, "send", "carol", "hello?"); !strings.Contains(errs, "not your friend") {
		t.Fatalf("send to carol after a rejection: %q", errs)
	}
	carol.mustJSON(t, &reqs, "friend", "requests")
	if len(reqs.Incoming) != 0 {
		t.Fatalf("carol still has requests after rejecting: %+v", reqs)
	}

	// A data directory holds one account: its key and history.
	carol.must(t, "logout")
	_, errs, code = carol.lc(t, alice.password+"\n", "login", "alice", "--password-stdin")
	if code == 0 || !strings.Contains(errs, "belongs to carol") {
		t.Fatalf("login as alice in carol's directory: exit %d, %q", code, errs)
	}
	if _, errs, code := carol.lc(t, carol.password+"\n", "login", "carol", "--password-stdin"); code != 0 {
		t.Fatalf("carol logs in again: %s", errs)
	}

	// Search finds users by prefix.
	var us []api.User
	alice.mustJSON(t, &us, "users", "search", "car")
	if len(us) != 1 || us[0].Username != "carol" {
		t.Fatalf("search car: %+v", us)
	}

	// Invalid text is refused before anything is stored.
	if errs := alice.fails(t, "send", "bob", "-"); !strings.Contains(errs, "empty") {
		t.Fatalf("empty text: %q", errs)
	}
	_, errs, code = alice.lc(t, "bad \xff\xfe utf-8", "send", "bob", "-")
	if code == 0 || !strings.Contains(errs, "UTF-8") {
		t.Fatalf("invalid UTF-8: exit %d, %q", code, errs)
	}
	_, errs, code = alice.lc(t, strings.Repeat("x", 64<<10+1), "send", "bob", "-")
	if code == 0 || !strings.Contains(errs, "64 KiB") {
		t.Fatalf("text over 64 KiB: exit %d, %q", code, errs)
	}
	if n := len(alice.history(t, "bob")); n != 0 {
		t.Fatalf("refused sends left %d messages in history", n)
	}
}

// TestCopiedKeyCannotRegister is issue 14 item 2 end to end: mallory, a
// user of the same server, learns alice's public identity key and prekey
// and tries to register a second account, or move her own, onto them, so
// that alice's friends would file alice's messages under mallory's name.
// The server refuses both, and refuses strangers alice's keys at all.
func TestCopiedKeyCannotRegister(t *testing.T) {
	srv := startServer(t)
	alice := newUser(t, srv, "alice")
	alice.start(t)
	alice.register(t)

	mallory := newPeer(t, "mallory")
	mallory.register(t, srv)
	// A stranger is not told alice's keys.
	var kr wire.KeysResponse
	if err := mallory.try(wire.OpKeysGet, wire.UserRequest{Username: "alice"}, &kr); !isCode(err, wire.CodeNotFound) {
		t.Fatalf("keys.get of a stranger: %v, want not_found", err)
	}
	// A friend request makes them related enough for the daemon to pin.
	mallory.call(t, wire.OpFriendRequest, wire.UserRequest{Username: "alice"}, nil)
	mallory.call(t, wire.OpKeysGet, wire.UserRequest{Username: "alice"}, &kr)

	clone := newPeer(t, "mallory2")
	clone.connect(t, srv)
	err := clone.try(wire.OpRegister, wire.RegisterRequest{
		Username: "mallory2", Password: clone.password,
		IdentityKey: kr.IdentityKey, Prekey: kr.Prekey, KeyProof: clone.proof(t),
	}, nil)
	if !isCode(err, wire.CodeInvalid) || !strings.Contains(err.Error(), "key_proof") {
		t.Fatalf("register with alice's key and prekey: %v, want invalid key_proof", err)
	}
	// Nor may mallory move her own account onto alice's key.
	mallory.connect(t, srv)
	err = mallory.try(wire.OpLogin, wire.LoginRequest{
		Username: "mallory", Password: mallory.password,
		IdentityKey: kr.IdentityKey, Prekey: &kr.Prekey, KeyProof: mallory.proof(t),
	}, nil)
	if !isCode(err, wire.CodeInvalid) || !strings.Contains(err.Error(), "key_proof") {
		t.Fatalf("login with alice's key: %v, want invalid key_proof", err)
	}
	var us []api.User
	alice.mustJSON(t, &us, "users", "search", "mallory")
	if len(us) != 1 || us[0].Username != "mallory" {
		t.Fatalf("users named mallory*: %+v", us)
	}
}
