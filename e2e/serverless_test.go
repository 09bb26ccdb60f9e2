package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// TestServerDown stops the server while alice and bob are connected: they
// keep chatting directly; a message for carol, who is offline, waits in
// alice's outbox and reaches her once the server is back.
func TestServerDown(t *testing.T) {
	srv, us := startUsers(t, "alice", "bob", "carol")
	alice, bob, carol := us[0], us[1], us[2]
	befriendUsers(t, alice, bob)
	befriendUsers(t, alice, carol)
	alice.must(t, "send", "bob", "before the outage")
	bob.waitMessage(t, "alice", "before the outage", 10*time.Second)
	if out := alice.must(t, "doctor"); !strings.Contains(out, "ok    server") || !strings.Contains(out, "ok    direct bob") {
		t.Fatalf("doctor with everything up:\n%s", out)
	}
	carol.stop(t)

	srv.signal(syscall.SIGTERM)
	srv.wait(t, 20*time.Second)
	eventually(t, 15*time.Second, func() (bool, string) {
		var st api.Status
		alice.mustJSON(t, &st, "status")
		return !st.ServerConnected, "alice still thinks the server is connected"
	})

	// doctor explains the outage and still finds the direct path.
	out, _, code := alice.lc(t, "", "doctor")
	if code == 0 || !strings.Contains(out, "FAIL  server") || !strings.Contains(out, "cannot reach") ||
		!strings.Contains(out, "ok    direct bob") {
		t.Fatalf("doctor during the outage: exit %d\n%s", code, out)
	}

	out = alice.must(t, "send", "bob", "the server is down")
	if !strings.Contains(out, "(direct)") {
		t.Fatalf("send during the outage: %q", out)
	}
	bob.waitMessage(t, "alice", "the server is down", 10*time.Second)
	if out := bob.must(t, "send", "alice", "still here"); !strings.Contains(out, "(direct)") {
		t.Fatalf("bob's send during the outage: %q", out)
	}
	alice.waitMessage(t, "bob", "still here", 10*time.Second)

	out = alice.must(t, "send", "carol", "for carol, later")
	if !strings.Contains(out, "queued") {
		t.Fatalf("send to offline carol without a server: %q", out)
	}
	var st api.Status
	alice.mustJSON(t, &st, "status")
	if st.Outbox != 1 {
		t.Fatalf("alice's outbox: %d, want 1", st.Outbox)
	}
	alice.waitState(t, "carol", "for carol, later", "queued", time.Second)

	// The server comes back on the same address with the same data.
	back := startRendezvous(t, srv.addr, srv.data)
	if back.fp != srv.fp {
		t.Fatalf("server came back with another certificate")
	}
	eventually(t, 45*time.Second, func() (bool, string) {
		alice.mustJSON(t, &st, "status")
		return st.ServerConnected && st.Outbox == 0, "alice has not reconnected and flushed her outbox"
	})
	carol.start(t)
	carol.waitMessage(t, "alice", "for carol, later", 20*time.Second)
	alice.waitState(t, "carol", "for carol, later", "delivered", 20*time.Second)
	// Nothing sent during the outage was duplicated by the resync.
	for _, text := range []string{"before the outage", "the server is down"} {
		if n := len(withText(bob.history(t, "alice"), text)); n != 1 {
			t.Errorf("bob has %d copies of %q", n, text)
		}
	}
}
