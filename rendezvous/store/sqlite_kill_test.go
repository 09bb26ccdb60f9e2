//go:build unix

package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGKILLLosesNothing runs a child process that relays messages and
// reports each one PutRelay returned for, kills it with SIGKILL mid-stream,
// and checks that every reported message is in the reopened store.
func TestSIGKILLLosesNothing(t *testing.T) {
	if os.Getenv("LANCHAT_STORE_KILL_CHILD") != "" {
		t.Skip("child")
	}
	path := filepath.Join(t.TempDir(), "rendezvous.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LANCHAT_STORE_KILL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	mustNil(t, err)
	mustNil(t, cmd.Start())
	var acked []string
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(30 * time.Second)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
			acked = append(acked, id)
		}
		if len(acked) >= 50 || time.Now().After(deadline) {
			break
		}
	}
	mustNil(t, cmd.Process.Signal(syscall.SIGKILL))
	// Take what was written before the kill landed, then reap.
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
			acked = append(acked, id)
		}
	}
	cmd.Wait()
	if len(acked) == 0 {
		t.Fatal("child acknowledged nothing")
	}

	s, err := Open(context.Background(), path)
	mustNil(t, err)
	defer s.Close()
	msgs, err := s.PendingRelay(context.Background(), "bob", 0, 1_000_000)
	mustNil(t, err)
	have := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		have[m.ID] = true
	}
	for _, id := range acked {
		if !have[id] {
			t.Errorf("acknowledged %s lost", id)
		}
	}
	t.Logf("%d acknowledged, %d stored", len(acked), len(msgs))
}

// TestKilledWriterChild is the child of TestSIGKILLLosesNothing.
func TestKilledWriterChild(t *testing.T) {
	path := os.Getenv("LANCHAT_STORE_KILL_CHILD")
	if path == "" {
		t.Skip("only run as a child")
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		id := fmt.Sprintf("m%d", i)
		if _, err := s.PutRelay(context.Background(), RelayMessage{Recipient: "bob", ID: id, Sender: "alice",
			Envelope: make([]byte, 512), Created: time.Now()}, Quota{}); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("ACK %s\n", id)
	}
}
