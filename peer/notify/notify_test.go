package notify

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

// sessionBus starts a private dbus-daemon and points
// DBUS_SESSION_BUS_ADDRESS at it.
func sessionBus(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not found: notifications are tested on a private session bus")
	}
	sock := filepath.Join(t.TempDir(), "bus")
	cmd := exec.Command(path, "--session", "--nofork", "--print-address=1", "--address=unix:path="+sock)
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
	addr := strings.TrimSpace(line)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	return addr
}

// fakeServer is an org.freedesktop.Notifications service on the bus.
type fakeServer struct {
	got chan [2]string
}

func (f *fakeServer) Notify(app string, id uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.got <- [2]string{summary, body}
	return 1, nil
}

func startFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatalf("fake server: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeServer{got: make(chan [2]string, 16)}
	if err := conn.Export(f, objectPath, busName); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(busName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v (%v)", busName, reply, err)
	}
	return f
}

// feed is a Source the test publishes to.
type feed chan api.Event

func (f feed) Subscribe(ctx context.Context) <-chan api.Event { return f }

func TestNotifyOverSessionBus(t *testing.T) {
	sessionBus(t)
	srv := startFakeServer(t)
	bus, err := Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()

	events := make(feed, 16)
	muted := func(c string) bool { return c == "#noisy" }
	n := New(events, bus, muted, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	defer func() { cancel(); close(events); <-done }()

	n.Focus("chat-1", "carol", true)
	msg := func(conv, from, text string, outgoing bool) api.Event {
		return api.Event{Type: api.EventMessage, Message: &api.Message{Conversation: conv, From: from, Text: text, Outgoing: outgoing}}
	}
	events <- msg("carol", "carol", "shown in a chat: quiet", false)
	events <- msg("#noisy", "dave", "muted: quiet", false)
	events <- msg("bob", "me", "my own: quiet", true)
	events <- msg("bob", "bob", "lunch?\nat noon", false)
	events <- api.Event{Type: api.EventFriendRequest, Friend: &api.FriendNote{User: "erin"}}
	events <- api.Event{Type: api.EventTransfer, Transfer: &api.Transfer{Direction: api.DirectionReceive, State: api.TransferOffered, Peer: "bob", Name: "report.pdf"}}

	want := [][2]string{
		{"bob", "lunch? at noon"},
		{"Friend request", "erin wants to be your friend"},
		{"File from bob", "bob offers report.pdf"},
	}
	for _, w := range want {
		select {
		case got := <-srv.got:
			if got != w {
				t.Fatalf("notification %q, want %q", got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no notification %q", w)
		}
	}

	// Once the chat closes carol's conversation, her messages notify.
	n.Focus("chat-1", "carol", false)
	events <- msg("carol", "carol", "now it shows", false)
	select {
	case got := <-srv.got:
		if got != [2]string{"carol", "now it shows"} {
			t.Fatalf("notification %q, want carol's", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification once the conversation was closed")
	}
}

func TestFocusExpires(t *testing.T) {
	n := New(make(feed), nil, nil, nil)
	now := time.Now()
	n.now = func() time.Time { return now }
	n.Focus("web", "bob", true)
	if !n.shown("bob") {
		t.Fatal("bob not shown right after focus")
	}
	n.Focus("web", "carol", true)
	if n.shown("bob") {
		t.Fatal("bob still shown after the client moved to carol")
	}
	now = now.Add(FocusTTL + time.Second)
	if n.shown("carol") {
		t.Fatal("focus outlived FocusTTL")
	}
}

func TestNoSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "none"))
	if _, err := Connect(); err == nil {
		t.Fatal("Connect succeeded without a bus")
	}
}
