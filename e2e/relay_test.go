package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// TestRelaySurvivesKill sends relayed messages in a loop, kills the server
// with SIGKILL right after an acknowledgement, restarts it, and checks that
// every acknowledged message reaches the recipient exactly once.
func TestRelaySurvivesKill(t *testing.T) {
	srv, alice, bob := startPeers(t)
	addr, data := srv.addr, srv.data
	bob.call(t, wire.OpLogout, wire.Empty{}, nil)
	bob.c.Close()

	// Keep sending until the server dies; remember what it acknowledged.
	acked := map[string]string{}
	var mu sync.Mutex
	killed := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 2000; i++ {
			text := fmt.Sprintf("message %d for bob", i)
			id, env, err := alice.sealMsg(bob, text)
			if err != nil {
				return
			}
			var resp wire.RelaySendResponse
			if err := alice.try(wire.OpRelaySend, relayOne("bob", id, env), &resp); err != nil || relayStatus(resp) != "queued" {
				return // the server died mid-request, or refused it: not acknowledged
			}
			mu.Lock()
			acked[id] = text
			n := len(acked)
			mu.Unlock()
			if n == 25 {
				close(killed)
			}
		}
	}()
	select {
	case <-killed:
	case <-time.After(60 * time.Second):
		t.Fatal("25 messages were not acknowledged within 60s")
	}
	srv.signal(syscall.SIGKILL)
	srv.wait(t, 10*time.Second)
	wg.Wait()
	mu.Lock()
	want := len(acked)
	mu.Unlock()
	t.Logf("%d messages acknowledged before SIGKILL", want)

	srv = startRendezvous(t, addr, data)
	bob.login(t, srv)
	got := bob.collectRelay(t, 2*time.Second, true)
	seen := map[string]int{}
	for _, ev := range got {
		msg, err := bob.open(ev, alice)
		if err != nil {
			t.Fatalf("open relayed message %s: %v", ev.ID, err)
		}
		seen[ev.ID]++
		if text, ok := acked[ev.ID]; ok && string(msg.Body) != text {
			t.Errorf("message %s: got %q, want %q", ev.ID, msg.Body, text)
		}
	}
	for id := range acked {
		if seen[id] != 1 {
			t.Errorf("acknowledged message %s delivered %d times", id, seen[id])
		}
	}
	// Anything beyond the acknowledged set was committed but its reply was
	// lost with the server; it may arrive, once.
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %s delivered %d times", id, n)
		}
	}

	// After the acknowledgements nothing is redelivered on a new session.
	bob.c.Close()
	bob.login(t, srv)
	if again := bob.collectRelay(t, time.Second, false); len(again) != 0 {
		t.Errorf("%d messages redelivered after acknowledgement", len(again))
	}
}

// TestRelayStoresNoPlaintext relays a message with a unique plaintext and
// searches every file in the server's data directory for it.
func TestRelayStoresNoPlaintext(t *testing.T) {
	srv, alice, bob := startPeers(t)
	addr, data := srv.addr, srv.data
	bob.call(t, wire.OpLogout, wire.Empty{}, nil)

	secret := fmt.Sprintf("the launch code is %d-%d", time.Now().UnixNano(), os.Getpid())
	id, env := alice.seal(t, bob, secret)
	var resp wire.RelaySendResponse
	alice.call(t, wire.OpRelaySend, relayOne("bob", id, env), &resp)
	if relayStatus(resp) != "queued" {
		t.Fatalf("relay status %q", relayStatus(resp))
	}
	// Stop the server cleanly so the WAL is checkpointed into the main
	// file too; both are searched either way.
	srv.signal(syscall.SIGTERM)
	if code := srv.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("server exited with %d", code)
	}
	needles := map[string][]byte{
		"message plaintext": []byte(secret),
		"alice's password":  []byte(alice.password),
	}
	files := 0
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files++
		for what, needle := range needles {
			if bytes.Contains(b, needle) {
				t.Errorf("%s found in %s", what, path)
			}
		}
		return nil
	})
	if files == 0 {
		t.Fatal("data directory is empty")
	}

	// The envelope itself is stored and opens for bob after a restart.
	srv = startRendezvous(t, addr, data)
	bob.login(t, srv)
	got := bob.collectRelay(t, time.Second, true)
	if len(got) != 1 {
		t.Fatalf("bob got %d messages, want 1", len(got))
	}
	msg, err := bob.open(got[0], alice)
	if err != nil || string(msg.Body) != secret {
		t.Fatalf("open: %q, %v", msg.Body, err)
	}
}
