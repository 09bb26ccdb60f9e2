package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// TestDirectThenRelayed sends alice → bob directly while both daemons run,
// then with bob's daemon stopped (relayed), and checks bob finds the
// relayed message exactly once, unread, when he comes back.
func TestDirectThenRelayed(t *testing.T) {
	_, alice, bob := startFriends(t)

	text := "hello bob 👋\nsecond line"
	out, _, code := alice.lc(t, text, "send", "bob", "-")
	if code != 0 || !strings.Contains(out, "(direct)") {
		t.Fatalf("direct send: exit %d, %q; want it to say direct", code, out)
	}
	got := bob.waitMessage(t, "alice", text, 10*time.Second)
	if got.From != "alice" || got.Via != "direct" || got.Outgoing {
		t.Fatalf("bob got %+v", got)
	}
	alice.waitState(t, "bob", text, "delivered", 10*time.Second)
	var st api.Status
	alice.mustJSON(t, &st, "status")
	if len(st.Peers) != 1 || st.Peers[0] != "bob" {
		t.Fatalf("alice's direct peers: %v", st.Peers)
	}

	bob.stop(t)
	eventually(t, 10*time.Second, func() (bool, string) {
		alice.mustJSON(t, &st, "status")
		return len(st.Peers) == 0, "alice still lists a direct connection to bob"
	})
	away := "while you were away"
	out = alice.must(t, "send", "bob", away)
	if !strings.Contains(out, "(relayed)") {
		t.Fatalf("send to offline bob: %q; want relayed", out)
	}
	alice.waitState(t, "bob", away, "sent", 5*time.Second)

	bob.start(t)
	if n := bob.unreadEventually(t, "alice", 1, 15*time.Second); n != 1 {
		t.Fatalf("bob's unread count with alice: %d, want 1", n)
	}
	got = bob.waitMessage(t, "alice", away, 5*time.Second)
	if got.Via != "relay" {
		t.Fatalf("relayed message arrived via %q", got.Via)
	}
	if n := bob.unread(t, "alice"); n != 0 {
		t.Fatalf("unread after reading the history: %d, want 0", n)
	}
	// bob's receipt reaches alice: delivered.
	alice.waitState(t, "bob", away, "delivered", 15*time.Second)

	// A restart of bob's daemon must not bring the message back twice.
	bob.stop(t)
	bob.start(t)
	time.Sleep(time.Second)
	if n := len(withText(bob.history(t, "alice"), away)); n != 1 {
		t.Fatalf("after a restart bob has %d copies, want 1", n)
	}

	// The line-mode chat shows recent history and sends each line.
	out, errs, code := bob.lc(t, "chat line one\nchat line two\n/quit\n", "chat", "alice")
	if code != 0 || !strings.Contains(out, away) {
		t.Fatalf("chat: exit %d, stdout %q, stderr %q; want the history shown", code, out, errs)
	}
	alice.waitMessage(t, "bob", "chat line one", 10*time.Second)
	alice.waitMessage(t, "bob", "chat line two", 10*time.Second)

	// Search across conversations finds it by a word.
	var found []api.Message
	bob.mustJSON(t, &found, "search", "away")
	if len(found) != 1 || found[0].Text != away {
		t.Fatalf("search: %+v", found)
	}
}

// unreadEventually waits until the unread count of target reaches want
// and returns the count it saw last.
func (u *user) unreadEventually(t *testing.T, target string, want int, timeout time.Duration) int {
	t.Helper()
	n := -1
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if n = u.unread(t, target); n >= want {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n
}
