package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// startTimeout bounds how long a process may take to come up.
const startTimeout = 20 * time.Second

var (
	reListening   = regexp.MustCompile(`(?m)^rendezvous listening on (\S+)`)
	reFingerprint = regexp.MustCompile(`(?m)^certificate fingerprint \(sha256\): ([0-9a-f]+)`)
	reMetrics     = regexp.MustCompile(`msg="metrics listening" addr=(\S+)`)
	reDaemonUp    = regexp.MustCompile(`(?m)^lanchat daemon running; local API on (\S+)`)
)

// cluster is the server and daemons of one run, all in one temporary
// directory.
type cluster struct {
	bin         string
	requestRate float64 // the server's --request-rate, 0 for its default
	logLevel    string  // the daemons' --log-level
	dir         string
	keep        bool
	stderr      io.Writer

	server      *proc
	addr        string // the server's host:port
	fingerprint string
	metrics     string // host:port of the server's /metrics
	peers       []*peer
}

// peer is one user with a data directory and a running daemon.
type peer struct {
	name     string
	password string
	home     string
	listen   string // the --listen the daemon was started with
	proc     *proc
	api      *api.Client
	events   *arrivals // messages arriving at this user; nil until watched
}

// newCluster makes the temporary directory.
func newCluster(cfg *config, stderr io.Writer) (*cluster, error) {
	dir, err := os.MkdirTemp("", "lanchat-msgbench.")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	return &cluster{bin: cfg.bin, requestRate: cfg.requestRate, logLevel: cfg.logLevel, dir: dir, keep: cfg.keep, stderr: stderr}, nil
}

// say prints a progress line.
func (c *cluster) say(format string, args ...any) {
	fmt.Fprintf(c.stderr, "== "+format+"\n", args...)
}

// startServer runs "rendezvous serve" on a free 127.0.0.1 port. Password
// hashing is made cheap: registering is not what is measured.
func (c *cluster) startServer(ctx context.Context) error {
	args := []string{"serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(c.dir, "server"),
		"--metrics", "127.0.0.1:0", "--argon2-memory", "256", "--argon2-time", "1"}
	if c.requestRate > 0 {
		args = append(args, "--request-rate", strconv.FormatFloat(c.requestRate, 'f', -1, 64))
	}
	p, err := startProc("rendezvous", filepath.Join(c.dir, "rendezvous.log"), filepath.Join(c.bin, "rendezvous"), args...)
	if err != nil {
		return err
	}
	c.server = p
	addr, err := p.waitOutput(ctx, reListening, startTimeout)
	if err != nil {
		return err
	}
	if ap, err := netip.ParseAddrPort(addr); err != nil || ap.Addr() != netip.AddrFrom4([4]byte{127, 0, 0, 1}) {
		return fmt.Errorf("the server listens on %q, not on 127.0.0.1", addr)
	}
	fp, err := p.waitOutput(ctx, reFingerprint, startTimeout)
	if err != nil {
		return err
	}
	metrics, err := p.waitOutput(ctx, reMetrics, startTimeout)
	if err != nil {
		return err
	}
	if ap, err := netip.ParseAddrPort(metrics); err != nil || !ap.Addr().IsLoopback() || !ap.Addr().Is4() {
		return fmt.Errorf("the server's metrics listen on %q, not on 127.0.0.1", metrics)
	}
	c.addr, c.fingerprint, c.metrics = addr, fp, metrics
	c.say("server pid %d on %s (metrics on %s), fingerprint %s", p.pid(), addr, metrics, fp)
	return nil
}

// startPeer runs name's daemon with its direct listener on listen, waits
// for its local API, and registers name through it.
func (c *cluster) startPeer(ctx context.Context, name, listen string) (*peer, error) {
	u := &peer{
		name:     name,
		password: "msgload-password-of-" + name,
		home:     filepath.Join(c.dir, name),
		listen:   listen,
	}
	p, err := startProc(name, filepath.Join(c.dir, name+".log"), filepath.Join(c.bin, "lanchat"),
		"--home", u.home, "daemon", "--server", c.addr, "--server-fingerprint", c.fingerprint,
		"--listen", listen, "--no-mdns", "--log-level", c.logLevel)
	if err != nil {
		return nil, err
	}
	u.proc = p
	c.peers = append(c.peers, u)
	sock, err := p.waitOutput(ctx, reDaemonUp, startTimeout)
	if err != nil {
		return nil, err
	}
	u.api = api.NewClient(sock)
	rctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := waitServerLink(rctx, u); err != nil {
		return nil, err
	}
	if _, err := u.api.Register(rctx, api.RegisterRequest{Username: name, Password: u.password}); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	c.say("%s: daemon pid %d, direct listener %s", name, p.pid(), u.directAddr(ctx))
	return u, nil
}

// waitServerLink polls u's daemon until its link to the server is up:
// registering needs it.
func waitServerLink(ctx context.Context, u *peer) error {
	for {
		st, err := u.api.Status(ctx)
		if err == nil && st.ServerConnected {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s's daemon did not connect to the server (last error: %v)", u.name, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// directAddr is where the daemon's direct listener is bound, or "?".
func (u *peer) directAddr(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := u.api.Status(ctx)
	if err != nil || st.Listen == "" {
		return "?"
	}
	return st.Listen
}

// befriend makes a and b friends (a asks, b accepts) and waits until each
// daemon lists the other as an online friend.
func befriend(ctx context.Context, a, b *peer) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if _, err := a.api.Friend(ctx, api.FriendAdd, b.name); err != nil {
		return fmt.Errorf("%s adds %s: %w", a.name, b.name, err)
	}
	if _, err := b.api.Friend(ctx, api.FriendAccept, a.name); err != nil {
		return fmt.Errorf("%s accepts %s: %w", b.name, a.name, err)
	}
	for _, p := range [][2]*peer{{a, b}, {b, a}} {
		if err := waitOnlineFriend(ctx, p[0], p[1].name); err != nil {
			return err
		}
	}
	return nil
}

// waitOnlineFriend polls u's friend list until friend is in it, online.
func waitOnlineFriend(ctx context.Context, u *peer, friend string) error {
	for {
		fs, err := u.api.Friends(ctx)
		if err == nil && slices.ContainsFunc(fs, func(f api.Friend) bool {
			return f.Username == friend && f.Presence.Status == api.Online
		}) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never saw %s as an online friend (last error: %v)", u.name, friend, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
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
	var errs []error
	for _, u := range slices.Backward(c.peers) {
		if u.events != nil {
			u.events.close()
			u.events = nil
		}
		if u.api != nil {
			u.api.Close()
		}
		if err := u.proc.stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.server != nil {
		if err := c.server.stop(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
