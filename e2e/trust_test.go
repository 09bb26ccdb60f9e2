package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	_ "modernc.org/sqlite"
)

// loginElsewhere logs u in from a new machine (a fresh data directory, so
// a new identity key) and returns that machine's user.
func loginElsewhere(t *testing.T, srv *rendezvous, u *user) *user {
	t.Helper()
	m := newUser(t, srv, u.name)
	m.password = u.password
	m.start(t)
	// The daemon says where its API is a moment before it listens.
	eventually(t, 10*time.Second, func() (bool, string) {
		_, err := os.Stat(filepath.Join(m.home, "daemon.sock"))
		return err == nil, fmt.Sprintf("no API socket: %v", err)
	})
	if out, errs, code := m.lc(t, u.password+"\n", "login", u.name, "--password-stdin"); code != 0 {
		t.Fatalf("%s: login from a new machine: exit %d\n%s%s", u.name, code, out, errs)
	}
	return m
}

// waitKeyEvents waits until watch has printed n key.changed events.
func waitKeyEvents(t *testing.T, watch *proc, n int) {
	t.Helper()
	eventually(t, 15*time.Second, func() (bool, string) {
		return strings.Count(watch.output(), `"type":"key.changed"`) >= n, "watch printed:\n" + watch.output()
	})
}

// friend returns what u's friends list says of name.
func (u *user) friend(t *testing.T, name string) api.Friend {
	t.Helper()
	var fs []api.Friend
	u.mustJSON(t, &fs, "friends")
	for _, f := range fs {
		if f.Username == name {
			return f
		}
	}
	t.Fatalf("%s has no friend %s: %+v", u.name, name, fs)
	return api.Friend{}
}

// TestTrustRefusesSecondKeyChange changes bob's key twice, the second time
// between alice's verify and her trust: the trust of the number she
// compared is refused, and the trust of the latest key, after comparing
// it, leaves nothing held.
func TestTrustRefusesSecondKeyChange(t *testing.T) {
	srv, alice, bob := startFriends(t)
	watch := start(t, "lanchat", "--home", alice.home, "--json", "watch")
	time.Sleep(500 * time.Millisecond) // let the stream open

	bob.stop(t)
	laptop := loginElsewhere(t, srv, bob)
	waitKeyEvents(t, watch, 1)
	var compared api.Verification
	alice.mustJSON(t, &compared, "verify", "bob")
	if !compared.KeyChanged {
		t.Fatalf("verify after the key change: %+v", compared)
	}

	// The server swaps the key again before alice trusts.
	laptop.stop(t)
	phone := loginElsewhere(t, srv, bob)
	waitKeyEvents(t, watch, 2)
	out, errs, code := alice.lc(t, "", "trust", "bob", "--safety-number", compared.SafetyNumber)
	if code == 0 {
		t.Fatalf("trust went through although the key changed again since alice compared it:\n%s", out)
	}
	if !strings.Contains(errs, "changed again since you compared it") {
		t.Fatalf("trust after a second change: %q", errs)
	}
	// The API refuses the fingerprint of the key she compared too.
	c := api.NewClient(filepath.Join(alice.home, "daemon.sock"))
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := c.Trust(ctx, "bob", api.KeyRequest{Fingerprint: compared.Fingerprint})
	var aerr *api.Error
	if !errors.As(err, &aerr) || aerr.Code != api.CodeKeyChanged ||
		aerr.Message != "the key changed again since you compared it; run lanchat verify bob" {
		t.Fatalf("API trust of the compared key after a second change: %v", err)
	}
	if f := alice.friend(t, "bob"); !f.Held {
		t.Fatalf("bob is no longer held after a refused trust: %+v", f)
	}
	// Without a terminal, trust wants the number.
	if errs := alice.fails(t, "trust", "bob"); !strings.Contains(errs, "--safety-number") {
		t.Fatalf("trust with no number and no terminal: %q", errs)
	}

	// Alice compares the latest number and trusts it: nothing is held.
	held := "sent while the key was unconfirmed"
	alice.must(t, "send", "bob", held)
	var latest api.Verification
	alice.mustJSON(t, &latest, "verify", "bob")
	if !latest.KeyChanged || latest.SafetyNumber == compared.SafetyNumber {
		t.Fatalf("verify after the second change: %+v (first change: %s)", latest, compared.SafetyNumber)
	}
	if latest.Fingerprint == compared.Fingerprint || len(latest.Fingerprint) != 64 {
		t.Fatalf("fingerprints: compared %s, latest %s", compared.Fingerprint, latest.Fingerprint)
	}
	alice.must(t, "trust", "bob", "--safety-number", latest.SafetyNumber)
	if f := alice.friend(t, "bob"); f.Held {
		t.Fatalf("bob is still held after trust: %+v", f)
	}
	phone.waitMessage(t, "alice", held, 20*time.Second)
	phone.must(t, "send", "alice", "from the phone")
	alice.waitMessage(t, "bob", "from the phone", 20*time.Second)
	if f := alice.friend(t, "bob"); f.Held {
		t.Fatalf("bob is held again after trust and a resync: %+v", f)
	}
}

// TestKeyChangedBackNothingHeld logs bob in elsewhere (a new key) and then
// back on his first machine (the key alice pinned): nothing stays held,
// and messages flow both ways.
func TestKeyChangedBackNothingHeld(t *testing.T) {
	srv, alice, bob := startFriends(t)
	var first api.Verification
	alice.mustJSON(t, &first, "verify", "bob")
	watch := start(t, "lanchat", "--home", alice.home, "--json", "watch")
	time.Sleep(500 * time.Millisecond) // let the stream open

	laptop := loginElsewhere(t, srv, bob)
	waitKeyEvents(t, watch, 1)
	if f := alice.friend(t, "bob"); !f.Held {
		t.Fatalf("bob is not held after his key changed: %+v", f)
	}
	laptop.stop(t)
	// Back on the first machine, with the first key.
	if out, errs, code := bob.lc(t, bob.password+"\n", "login", "bob", "--password-stdin"); code != 0 {
		t.Fatalf("login back on the first machine: exit %d\n%s%s", code, out, errs)
	}
	// The key is the one alice pinned again: nothing is left to trust.
	var v api.Verification
	eventually(t, 15*time.Second, func() (bool, string) {
		alice.mustJSON(t, &v, "verify", "bob")
		return !v.KeyChanged && v.SafetyNumber == first.SafetyNumber,
			fmt.Sprintf("verify after the key came back: %+v; want the first number %s, unchanged", v, first.SafetyNumber)
	})
	alice.must(t, "send", "bob", "welcome back")
	bob.waitMessage(t, "alice", "welcome back", 20*time.Second)
	bob.must(t, "send", "alice", "back on my desk")
	alice.waitMessage(t, "bob", "back on my desk", 20*time.Second)
	if f := alice.friend(t, "bob"); f.Held {
		t.Fatalf("bob is held although his key is the one alice pinned: %+v", f)
	}
	if out := alice.must(t, "friends"); strings.Contains(out, "CHANGED") {
		t.Fatalf("friends shows a change although the key is the pinned one:\n%s", out)
	}
	if errs := alice.fails(t, "trust", "bob", "--safety-number", first.SafetyNumber); !strings.Contains(errs, "not changed") {
		t.Fatalf("trust with nothing to trust: %q", errs)
	}
	if !strings.Contains(watch.output(), `"restored":true`) {
		t.Fatalf("watch did not say the key came back:\n%s", watch.output())
	}
}

// TestExFriendOfferWaitsServerDown restarts bob's daemon while the server
// is down, after alice removed him as a friend while his daemon was away
// (they still share a group, so she may still reach him): his roster on
// disk is older than the server's, so her offer waits for bob's accept
// instead of landing in his downloads.
func TestExFriendOfferWaitsServerDown(t *testing.T) {
	srv, alice, bob, downloads := pairForFiles(t)
	alice.must(t, "group", "create", "team")
	alice.must(t, "group", "invite", "team", "bob")
	bob.must(t, "group", "join", "team")
	// A direct message teaches alice's daemon where bob's listens.
	alice.must(t, "send", "bob", "hello")
	bob.waitMessage(t, "alice", "hello", 10*time.Second)

	bob.stop(t)
	alice.must(t, "friend", "remove", "bob")
	srv.signal(syscall.SIGTERM)
	srv.wait(t, 20*time.Second)
	bob.start(t)

	src := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(src, []byte("from an ex-friend"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := alice.sendNoWait(t, "bob", src)
	bob.waitTransfer(t, id, 30*time.Second, "offered", func(tr api.Transfer) bool { return tr.State != "" })
	// Give an automatic accept time to happen.
	time.Sleep(2 * time.Second)
	tr := bob.waitTransfer(t, id, time.Second, "offered", func(tr api.Transfer) bool { return true })
	if tr.State != "offered" {
		t.Fatalf("bob's daemon took the ex-friend's file without asking: %+v", tr)
	}
	if _, err := os.Stat(filepath.Join(downloads, "note.txt")); err == nil {
		t.Fatalf("the ex-friend's file is in bob's downloads without his accept")
	}
	bob.must(t, "accept", id)
	bob.waitTransfer(t, id, 30*time.Second, "done", func(tr api.Transfer) bool { return tr.State == "done" })
	if b, err := os.ReadFile(filepath.Join(downloads, "note.txt")); err != nil || string(b) != "from an ex-friend" {
		t.Fatalf("after accept: %q, %v", b, err)
	}
}

// TestSharedKeyRefused gives amy, by hand in alice's contact table, the
// key alice pinned for bob: bob's connection and messages are refused
// rather than filed under amy (the first match), and watch and friends
// say why. Once alice trusts the key the server gives for amy, bob's
// message comes through.
func TestSharedKeyRefused(t *testing.T) {
	srv := startServer(t)
	alice, bob, amy := newUser(t, srv, "alice"), newUser(t, srv, "bob"), newUser(t, srv, "amy")
	for _, u := range []*user{alice, bob, amy} {
		u.start(t)
		u.register(t)
	}
	befriendUsers(t, alice, bob)
	befriendUsers(t, alice, amy)
	amy.stop(t)
	alice.stop(t)

	db, err := sql.Open("sqlite", filepath.Join(alice.home, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`UPDATE contacts SET identity_key = (SELECT identity_key FROM contacts WHERE username = 'bob')
		WHERE username = 'amy'`)
	db.Close()
	if err != nil {
		t.Fatalf("hand-edit alice's contacts: %v", err)
	}

	alice.start(t)
	eventually(t, 10*time.Second, func() (bool, string) {
		_, err := os.Stat(filepath.Join(alice.home, "daemon.sock"))
		return err == nil, fmt.Sprintf("no API socket: %v", err)
	})
	watch := start(t, "lanchat", "--home", alice.home, "--json", "watch")
	time.Sleep(500 * time.Millisecond) // let the stream open
	bob.must(t, "send", "alice", "it is bob")

	time.Sleep(3 * time.Second) // what would be taken has had time to arrive
	for _, who := range []string{"amy", "bob"} {
		if ms := alice.history(t, who); len(ms) != 0 {
			t.Fatalf("alice took a message under %s from a key pinned for two contacts: %+v", who, ms)
		}
	}
	ev := waitEvent(t, watch, api.EventKeyShared, 20*time.Second)
	if k := ev.KeyChange; k == nil || k.User != "amy" || len(k.SameKey) != 1 || k.SameKey[0] != "bob" {
		t.Fatalf("key.shared event: %+v", ev.KeyChange)
	}
	for _, who := range []string{"amy", "bob"} {
		if f := alice.friend(t, who); !f.Held || len(f.SameKey) != 1 {
			t.Fatalf("friends says of %s: %+v", who, f)
		}
	}
	out := alice.must(t, "friends")
	if !strings.Contains(out, "SHARED") || !strings.Contains(out, "WARNING: bob's identity key is also pinned for amy") {
		t.Fatalf("friends does not warn of the shared key:\n%s", out)
	}
	// The server gives amy's own key: alice compares and trusts it, and
	// bob's key is bob's alone again.
	var v api.Verification
	alice.mustJSON(t, &v, "verify", "amy")
	if !v.KeyChanged {
		t.Fatalf("verify amy: %+v", v)
	}
	alice.must(t, "trust", "amy", "--safety-number", v.SafetyNumber)
	alice.waitMessage(t, "bob", "it is bob", 20*time.Second)
	if f := alice.friend(t, "bob"); f.Held || len(f.SameKey) != 0 {
		t.Fatalf("bob after amy's key was trusted: %+v", f)
	}
}
