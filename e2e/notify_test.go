package e2e

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/lanchat/lanchat/peer/api"
)

// fakeNotifications is an org.freedesktop.Notifications service on a
// private session bus: what a desktop would show.
type fakeNotifications struct{ got chan [2]string }

func (f *fakeNotifications) Notify(app string, id uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.got <- [2]string{summary, body}
	return 1, nil
}

// startSessionBus starts a dbus-daemon of the test's own, sets
// DBUS_SESSION_BUS_ADDRESS for the daemons the test starts, and owns the
// notification service on it.
func startSessionBus(t *testing.T) *fakeNotifications {
	t.Helper()
	path, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not found: notifications are tested on a private session bus")
	}
	cmd := exec.Command(path, "--session", "--nofork", "--print-address=1", "--address=unix:path="+filepath.Join(t.TempDir(), "bus"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon address: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", strings.TrimSpace(line))
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeNotifications{got: make(chan [2]string, 16)}
	if err := conn.Export(f, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own the notification service: %v %v", reply, err)
	}
	return f
}

func (f *fakeNotifications) want(t *testing.T, summary, body string) {
	t.Helper()
	select {
	case got := <-f.got:
		if got != [2]string{summary, body} {
			t.Fatalf("notification %q, want %q", got, [2]string{summary, body})
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no notification %q %q", summary, body)
	}
}

func TestDesktopNotifications(t *testing.T) {
	bus := startSessionBus(t)
	srv := startServer(t)
	alice, bob := newUser(t, srv, "alice"), newUser(t, srv, "bob")
	bob.extra = []string{"--no-notify"}
	for _, u := range []*user{alice, bob} {
		u.start(t)
		u.register(t)
	}
	befriendUsers(t, alice, bob)
	for len(bus.got) > 0 { // the friend request
		<-bus.got
	}

	bob.must(t, "send", "alice", "lunch?")
	bus.want(t, "bob", "lunch?")

	// While a client shows the conversation, it stays quiet.
	c := api.NewClient(filepath.Join(alice.home, "daemon.sock"))
	defer c.Close()
	ctx := context.Background()
	if err := c.Focus(ctx, api.FocusRequest{Client: "test", Conversation: "bob", Open: true}); err != nil {
		t.Fatal(err)
	}
	bob.must(t, "send", "alice", "seen in the chat")
	alice.waitMessage(t, "bob", "seen in the chat", 20*time.Second)
	if err := c.Focus(ctx, api.FocusRequest{Client: "test", Conversation: "bob", Open: false}); err != nil {
		t.Fatal(err)
	}
	bob.must(t, "send", "alice", "after the chat")
	bus.want(t, "bob", "after the chat") // not "seen in the chat"

	// bob runs with --no-notify: nothing of alice's reaches the bus.
	alice.must(t, "send", "bob", "to bob")
	bob.waitMessage(t, "alice", "to bob", 20*time.Second)
	select {
	case got := <-bus.got:
		t.Fatalf("a notification from bob's daemon, run with --no-notify: %q", got)
	case <-time.After(500 * time.Millisecond):
	}
}
