package e2e

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// TestSecondLoginSignsOut logs bob in on a second machine: the first
// daemon is signed out, and does not sign the second one out in turn.
func TestSecondLoginSignsOut(t *testing.T) {
	srv, us := startUsers(t, "bob")
	bob := us[0]

	laptop := newUser(t, srv, "bob")
	laptop.start(t)
	out, errs, code := laptop.lc(t, bob.password+"\n", "login", "bob", "--password-stdin")
	if code != 0 {
		t.Fatalf("second login: exit %d: %s%s", code, out, errs)
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		var st api.Status
		bob.mustJSON(t, &st, "status")
		return !st.LoggedIn, "the first daemon is still logged in"
	})
	if errs := bob.fails(t, "send", "alice", "hi"); !strings.Contains(errs, "signed") {
		t.Fatalf("send on the signed-out daemon: %q; want it to say it was signed out", errs)
	}
	// Give the old daemon time to reconnect: it must not resume.
	time.Sleep(3 * time.Second)
	var st api.Status
	laptop.mustJSON(t, &st, "status")
	if !st.LoggedIn || !st.ServerConnected {
		t.Fatalf("the newer login lost its session: %+v", st)
	}
}

// TestKeyChangeHoldsMessages replaces bob's identity key (he logs in from
// a new machine without his old key): alice sees a key-change event, her
// messages to him and his to her are held until she trusts the new key.
func TestKeyChangeHoldsMessages(t *testing.T) {
	srv, alice, bob := startFriends(t)
	alice.must(t, "send", "bob", "to the old key")
	bob.waitMessage(t, "alice", "to the old key", 10*time.Second)
	var v api.Verification
	alice.mustJSON(t, &v, "verify", "bob")
	oldNumber := v.SafetyNumber

	watch := start(t, "lanchat", "--home", alice.home, "--json", "watch")
	time.Sleep(500 * time.Millisecond) // let the stream open

	bob.stop(t)
	newBob := newUser(t, srv, "bob")
	newBob.start(t)
	if out, errs, code := newBob.lc(t, bob.password+"\n", "login", "bob", "--password-stdin"); code != 0 {
		t.Fatalf("login from the new machine: %s%s", out, errs)
	}
	ev := waitEvent(t, watch, api.EventKeyChanged, 15*time.Second)
	if ev.KeyChange == nil || ev.KeyChange.User != "bob" {
		t.Fatalf("key change event: %+v", ev)
	}

	var fs []api.Friend
	alice.mustJSON(t, &fs, "friends")
	if len(fs) != 1 || !fs[0].Held {
		t.Fatalf("bob should be held: %+v", fs)
	}
	held := "sent while the key is unconfirmed"
	out := alice.must(t, "send", "bob", held)
	if !strings.Contains(out, "held:") {
		t.Fatalf("send to a held contact: %q", out)
	}
	newBob.must(t, "send", "alice", "hello from my new laptop")
	time.Sleep(2 * time.Second)
	if ms := newBob.history(t, "alice"); len(withText(ms, held)) != 0 {
		t.Fatalf("a held message reached the new key before trust")
	}
	if ms := alice.history(t, "bob"); len(withText(ms, "hello from my new laptop")) != 0 {
		t.Fatalf("a message from the new key was taken before trust")
	}

	alice.mustJSON(t, &v, "verify", "bob")
	if !v.KeyChanged || v.SafetyNumber == oldNumber {
		t.Fatalf("verify after the key change: %+v (old number %s)", v, oldNumber)
	}
	newNumber := v.SafetyNumber
	if errs := alice.fails(t, "verify", "bob", "--confirm"); !strings.Contains(errs, "trust") {
		t.Fatalf("confirming a changed key: %q", errs)
	}
	alice.must(t, "trust", "bob", "--safety-number", newNumber)
	alice.mustJSON(t, &v, "verify", "bob")
	if v.KeyChanged || v.SafetyNumber != newNumber {
		t.Fatalf("verify after trust: %+v, want the new number %s", v, newNumber)
	}
	newBob.waitMessage(t, "alice", held, 20*time.Second)
	alice.waitMessage(t, "bob", "hello from my new laptop", 20*time.Second)
	if errs := alice.fails(t, "trust", "bob", "--safety-number", newNumber); !strings.Contains(errs, "not changed") {
		t.Fatalf("trusting again: %q", errs)
	}
}

// waitEvent reads "lanchat --json watch" output until an event of type
// typ appears.
func waitEvent(t *testing.T, watch *proc, typ string, timeout time.Duration) api.Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(watch.output()))
		for sc.Scan() {
			var ev api.Event
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Type == typ {
				return ev
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s event within %v; watch printed:\n%s", typ, timeout, watch.output())
	return api.Event{}
}
