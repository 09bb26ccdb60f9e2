package webapp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lanchat/lanchat/internal/testbed"
	"github.com/lanchat/lanchat/peer/api"
)

// peer is one user: a data directory, a daemon and its API client.
type peer = testbed.Daemon

// cluster is the server and the two daemons of a run, started on the
// test bed in one temporary directory; it stops only the processes it
// started, by their ids.
type cluster struct {
	dir   string
	keep  bool
	owner testbed.Stack
	peers []*peer
}

// startCluster starts a server and daemons for alice and bob, registers
// both and makes them friends.
func startCluster(ctx context.Context, cfg config) (*cluster, error) {
	dir, err := os.MkdirTemp("", "lanchat-webbench.")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, keep: cfg.Keep, owner: testbed.Stack{W: progress}}
	say("starting a rendezvous server and daemons for alice and bob in %s", dir)
	bed, err := testbed.StartCluster(ctx, &c.owner, cfg.Bin, dir, []string{"alice", "bob"}, true,
		[]string{"--argon2-memory", "256", "--argon2-time", "1"}, []string{"--listen", "127.0.0.1:0", "--no-mdns"})
	if err == nil {
		c.peers = bed.Daemons
		// A first message opens the direct connection, so the timed ones
		// measure the steady path.
		err = sendAndWait(ctx, c.peers[0], c.peers[1], "webload warm-up")
	}
	if err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// stop ends the processes, daemons first, and removes the directory.
func (c *cluster) stop() {
	c.owner.Close()
	if c.keep {
		say("kept %s", c.dir)
		return
	}
	os.RemoveAll(c.dir)
}

// sendAndWait sends text from a to b through the API and waits until b's
// daemon has it.
func sendAndWait(ctx context.Context, a, b *peer, text string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ev, err := b.API.Events(ctx)
	if err != nil {
		return err
	}
	defer ev.Close()
	if _, err := a.API.Send(ctx, api.SendRequest{Target: b.Name, Text: text}); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return waitText(ev, text)
}

// waitText reads the stream until a message with text arrives.
func waitText(ev *api.EventStream, text string) error {
	for {
		e, err := ev.Next()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("%q did not arrive", text)
			}
			return err
		}
		if e.Type == api.EventMessage && e.Message != nil && e.Message.Text == text {
			return nil
		}
	}
}
