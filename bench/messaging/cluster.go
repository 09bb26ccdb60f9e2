package messaging

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"

	"github.com/lanchat/lanchat/internal/testbed"
	"github.com/lanchat/lanchat/peer/api"
)

// cluster is the server and daemons of one run, all in one temporary
// directory, started through the test bed.
type cluster struct {
	bin         string
	requestRate float64 // the server's --request-rate, 0 for its default
	logLevel    string  // the daemons' --log-level
	dir         string
	keep        bool
	stderr      io.Writer

	bed   *testbed.Cluster
	peers []*peer
}

// peer is one user with a data directory and a running daemon.
type peer struct {
	*testbed.Daemon
	name   string
	api    *api.Client
	events *arrivals // messages arriving at this user; nil until watched
}

// newCluster makes the temporary directory.
func newCluster(cfg *config, stderr io.Writer) (*cluster, error) {
	dir, err := os.MkdirTemp("", "lanchat-msgbench.")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	return &cluster{bin: cfg.Bin, requestRate: cfg.requestRate, logLevel: cfg.logLevel, dir: dir, keep: cfg.Keep, stderr: stderr}, nil
}

// say prints a progress line.
func (c *cluster) say(format string, args ...any) {
	fmt.Fprintf(c.stderr, "== "+format+"\n", args...)
}

// Logf and Cleanup make the cluster the test bed's owner; c.stop stops
// what the bed started.
func (c *cluster) Logf(format string, args ...any) { c.say(format, args...) }

// Cleanup does nothing: c.stop and c.remove clean up.
func (c *cluster) Cleanup(func()) {}

// server is the running server, or nil.
func (c *cluster) server() *testbed.Server {
	if c.bed == nil {
		return nil
	}
	return c.bed.Server
}

// startServer runs "rendezvous serve" on a free 127.0.0.1 port with its
// metrics. Password hashing is made cheap: registering is not what is
// measured.
func (c *cluster) startServer(ctx context.Context) error {
	args := []string{"--metrics", "127.0.0.1:0", "--argon2-memory", "256", "--argon2-time", "1"}
	if c.requestRate > 0 {
		args = append(args, "--request-rate", strconv.FormatFloat(c.requestRate, 'f', -1, 64))
	}
	bed, err := testbed.StartCluster(ctx, c, c.bin, c.dir, nil, false, args, nil)
	c.bed = bed
	return err
}

// startPeer runs name's daemon with its direct listener on listen, waits
// for its local API, and registers name through it.
func (c *cluster) startPeer(ctx context.Context, name, listen string) (*peer, error) {
	d, err := c.bed.AddDaemon(ctx, name, "--listen", listen, "--no-mdns", "--log-level", c.logLevel)
	if d == nil {
		return nil, err
	}
	u := &peer{Daemon: d, name: name, api: d.API}
	c.peers = append(c.peers, u)
	if err != nil {
		return nil, err
	}
	c.say("%s: daemon pid %d, direct listener %s", name, d.PID(), d.Listen(ctx))
	return u, nil
}

// befriend makes a and b friends and waits until each sees the other
// online.
func befriend(ctx context.Context, a, b *peer) error {
	return testbed.Befriend(ctx, a.Daemon, b.Daemon)
}

// port returns the port of a host:port address.
func port(hostport string) (string, error) {
	_, p, err := net.SplitHostPort(hostport)
	return p, err
}

// haveIPv6Loopback reports whether a UDP socket can be bound on [::1].
func haveIPv6Loopback() bool {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// stop stops every process this run started, daemons first, each by
// its process id, and returns what went wrong. Calling it again does
// nothing.
func (c *cluster) stop() error {
	for _, u := range slices.Backward(c.peers) {
		if u.events != nil {
			u.events.close()
			u.events = nil
		}
	}
	if c.bed == nil {
		return nil
	}
	return c.bed.Stop()
}

// remove deletes the temporary directory, unless asked to keep it.
func (c *cluster) remove() error {
	if c.keep {
		c.say("kept %s", c.dir)
		return nil
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("remove %s: %w", c.dir, err)
	}
	return nil
}
