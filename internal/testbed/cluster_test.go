package testbed

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// TestCluster starts a server and two daemons, befriended, and sends one
// message from one to the other.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := Build(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := StartCluster(ctx, t, bin, t.TempDir(), []string{"alice", "bob"}, true,
		[]string{"--argon2-memory", "256", "--argon2-time", "1"},
		[]string{"--listen", "127.0.0.1:0", "--no-mdns"})
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := c.Daemons[0], c.Daemons[1]
	if _, err := alice.API.Send(ctx, api.SendRequest{Target: "bob", Text: "hello from the bed"}); err != nil {
		t.Fatal(err)
	}
	err = poll(ctx, 50*time.Millisecond, func() (bool, error) {
		ms, err := bob.API.History(ctx, "alice", 10, "", "")
		return slices.ContainsFunc(ms, func(m api.Message) bool { return m.Text == "hello from the bed" }), err
	})
	if err != nil {
		t.Fatalf("bob never got the message: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if !alice.Exited() || !bob.Exited() || !c.Server.Exited() {
		t.Error("a process still runs after Stop")
	}
}

func TestFreshLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "server")
	for _, want := range []string{dir + ".log", dir + ".2.log", dir + ".3.log"} {
		got := freshLog(dir)
		if got != want {
			t.Fatalf("freshLog = %s, want %s", got, want)
		}
		if err := os.WriteFile(got, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
