package e2e

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/direct"
)

// rssBytes returns the resident set of process pid, from /proc.
func rssBytes(t *testing.T, pid int) uint64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS for process %d", pid)
	return 0
}

// TestHostileContactMemory plays a contact that opens every stream it
// may on its connection and on four more connections beside it, each
// declaring the largest frame there is (and, on the control streams, the
// start of an offer). Bob's daemon grows by less than 32 MiB resident and
// goes on serving alice. (What a contact that sends all it declares may
// hold is its budget: peer/daemon's TestContactSendingLargeFrames.)
func TestHostileContactMemory(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc")
	}
	srv, us := startUsers(t, "bob")
	bob := us[0]
	alice := newUser(t, srv, "alice")
	alice.start(t)
	alice.register(t)
	befriendUsers(t, alice, bob)
	mallory := newPeer(t, "mallory")
	mallory.register(t, srv)
	acceptPeer(t, bob, mallory)

	tr, addr, bobKey := directAs(t, mallory, bob)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	pid := bob.daemon.cmd.Process.Pid
	before := rssBytes(t, pid)
	contact, err := tr.Dial(ctx, addr, "bob", bobKey)
	if err != nil {
		t.Fatalf("dial bob's daemon: %v", err)
	}
	conns := []*direct.Conn{contact}
	for range 4 {
		c, err := tr.Dial(ctx, addr, "bob", bobKey)
		if err != nil {
			t.Fatalf("another connection to bob's daemon: %v", err)
		}
		conns = append(conns, c)
	}
	message := binary.BigEndian.AppendUint32(nil, 512<<10)
	offer := binary.BigEndian.AppendUint32(nil, 16<<20)
	offer = append(offer, `{"t":"event","op":"transfer.offer","body":{"entries":[`...)
	offer = append(offer, make([]byte, 1<<10)...)
	data := binary.BigEndian.AppendUint32(nil, 16<<20)
	const perConn = direct.DefaultMaxIncomingStreams
	open := func(c *direct.Conn, kind direct.StreamKind, n int, head []byte) {
		for range n {
			s, err := c.OpenStream(ctx, kind)
			if err != nil {
				t.Fatalf("open a stream: %v", err)
			}
			// Bob may refuse the stream while it is written.
			go func() {
				s.SetWriteDeadline(time.Now().Add(10 * time.Second))
				s.Write(head)
			}()
		}
	}
	open(contact, direct.StreamMessage, perConn/2, message)
	open(contact, direct.StreamTransfer, perConn/2, offer)
	for _, c := range conns[1:] {
		open(c, direct.StreamTransfer, perConn, data)
	}
	var grown uint64
	for range 10 {
		time.Sleep(200 * time.Millisecond)
		if r := rssBytes(t, pid); r > before {
			grown = max(grown, r-before)
		}
	}
	t.Logf("bob's daemon: %.1f MiB resident before, grew by %.1f MiB", float64(before)/(1<<20), float64(grown)/(1<<20))
	if grown >= 32<<20 {
		t.Errorf("bob's daemon grew by %d MiB resident, want under 32 MiB", grown>>20)
	}

	// Alice is still served, directly.
	alice.must(t, "send", "bob", "still there?")
	bob.waitMessage(t, "alice", "still there?", 10*time.Second)
}
