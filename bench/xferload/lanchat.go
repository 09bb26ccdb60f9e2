package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// startTimeout bounds how long a process may take to come up.
const startTimeout = 20 * time.Second

var (
	reListening   = regexp.MustCompile(`(?m)^rendezvous listening on (\S+)`)
	reFingerprint = regexp.MustCompile(`(?m)^certificate fingerprint \(sha256\): ([0-9a-f]+)`)
	reDaemonUp    = regexp.MustCompile(`(?m)^lanchat daemon running; local API on (\S+)`)
)

// lanchatReady checks that this lanchat has the commands the benchmark
// drives, and says why not when it has not.
func lanchatReady(ctx context.Context, bin string) error {
	lanchat := filepath.Join(bin, "lanchat")
	if _, err := os.Stat(lanchat); err != nil {
		return fmt.Errorf("no %s (run make build)", lanchat)
	}
	for _, c := range []string{"send-file", "transfers"} {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, err := exec.CommandContext(ctx, lanchat, "help", c).CombinedOutput()
		cancel()
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if err != nil || strings.Contains(string(out), "not available") {
			return fmt.Errorf("`lanchat help %s` says %q (%v)", c, first, err)
		}
	}
	return nil
}

// daemonTakes checks that this lanchat's daemon has every flag in args
// (the words starting with "-"), as `lanchat daemon --help` lists them,
// so that a row needing a newer daemon says so rather than how the
// daemon failed.
func daemonTakes(ctx context.Context, bin string, args []string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(bin, "lanchat"), "daemon", "--help").CombinedOutput()
	if err != nil {
		return fmt.Errorf("`lanchat daemon --help`: %v", err)
	}
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name == "" {
			continue
		}
		if !regexp.MustCompile(`(?m)^\s*--?` + regexp.QuoteMeta(name) + `(\s|$)`).Match(out) {
			return fmt.Errorf("this lanchat's daemon has no --%s flag (`lanchat daemon --help` does not list it)", name)
		}
	}
	return nil
}

// placement says where the server and the two daemons run: their
// network namespaces ("" for this one) and listening addresses.
type placement struct {
	serverNS, serverListen string
	aliceNS, aliceListen   string
	bobNS, bobListen       string
}

// loopback runs everything on 127.0.0.1 in this namespace.
var loopback = placement{
	serverListen: "127.0.0.1:0",
	aliceListen:  "127.0.0.1:0",
	bobListen:    "127.0.0.1:0",
}

// onLink runs the server and alice in the link's namespace a, bob in b.
func onLink(l *link) placement {
	return placement{
		serverNS: l.a, serverListen: linkAddrA + ":0",
		aliceNS: l.a, aliceListen: linkAddrA + ":0",
		bobNS: l.b, bobListen: linkAddrB + ":0",
	}
}

// cluster is a rendezvous server and two lanchat daemons: alice sends,
// bob receives into his downloads folder, accepting from contacts
// automatically.
type cluster struct {
	bin        string
	ps         *procs
	dir        string
	daemonArgs []string // given to both daemons besides the usual flags
	say        func(format string, args ...any)

	server      *proc
	addr        string
	fingerprint string
	alice, bob  *daemon
}

// daemon is one user with a data directory and a running daemon.
type daemon struct {
	name      string
	password  string
	home      string
	downloads string
	proc      *proc
	api       *api.Client
}

// startCluster starts the server and both daemons under dir, the
// daemons given daemonArgs besides the usual flags, registers alice and
// bob and makes them friends.
func startCluster(ctx context.Context, ps *procs, bin, dir string, at placement, daemonArgs []string, say func(string, ...any)) (*cluster, error) {
	c := &cluster{bin: bin, ps: ps, dir: dir, daemonArgs: daemonArgs, say: say}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return c, err
	}
	// Password hashing is made cheap: logging in is not what is measured.
	p, err := ps.start("rendezvous", at.serverNS, nil, filepath.Join(bin, "rendezvous"), "serve",
		"--listen", at.serverListen, "--data", filepath.Join(dir, "server"), "--argon2-memory", "256", "--argon2-time", "1")
	if err != nil {
		return c, err
	}
	c.server = p
	if c.addr, err = p.waitOutput(ctx, reListening, startTimeout); err != nil {
		return c, err
	}
	if ap, err := netip.ParseAddrPort(c.addr); err != nil || (!ap.Addr().IsLoopback() && at.serverNS == "") {
		return c, fmt.Errorf("the server listens on %q, not on loopback", c.addr)
	}
	if c.fingerprint, err = p.waitOutput(ctx, reFingerprint, startTimeout); err != nil {
		return c, err
	}
	if c.alice, err = c.startDaemon(ctx, "alice", at.aliceNS, at.aliceListen); err != nil {
		return c, err
	}
	if c.bob, err = c.startDaemon(ctx, "bob", at.bobNS, at.bobListen); err != nil {
		return c, err
	}
	if err := befriend(ctx, c.alice, c.bob); err != nil {
		return c, err
	}
	say("lanchat: server pid %d on %s, alice's daemon pid %d, bob's pid %d (downloads %s)",
		c.server.pid(), c.addr, c.alice.proc.pid(), c.bob.proc.pid(), c.bob.downloads)
	return c, nil
}

// startDaemon runs name's daemon, waits for its local API and its link
// to the server, and registers name through the API.
func (c *cluster) startDaemon(ctx context.Context, name, ns, listen string) (*daemon, error) {
	d := &daemon{
		name:      name,
		password:  "xferload-password-of-" + name,
		home:      filepath.Join(c.dir, name),
		downloads: filepath.Join(c.dir, name+"-downloads"),
	}
	if err := os.MkdirAll(d.downloads, 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"--home", d.home, "daemon", "--server", c.addr, "--server-fingerprint", c.fingerprint,
		"--listen", listen, "--no-mdns", "--downloads", d.downloads}, c.daemonArgs...)
	p, err := c.ps.start("lanchat-"+name, ns, nil, filepath.Join(c.bin, "lanchat"), args...)
	if err != nil {
		return nil, err
	}
	d.proc = p
	sock, err := p.waitOutput(ctx, reDaemonUp, startTimeout)
	if err != nil {
		return nil, err
	}
	d.api = api.NewClient(sock)
	rctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := waitServerLink(rctx, d); err != nil {
		return nil, err
	}
	if _, err := d.api.Register(rctx, api.RegisterRequest{Username: name, Password: d.password}); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	return d, nil
}

// waitServerLink polls d's daemon until its link to the server is up:
// registering needs it.
func waitServerLink(ctx context.Context, d *daemon) error {
	for {
		st, err := d.api.Status(ctx)
		if err == nil && st.ServerConnected {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s's daemon did not connect to the server (last error: %v)", d.name, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// befriend makes a and b friends (a asks, b accepts) and waits until each
// daemon lists the other as an online friend.
func befriend(ctx context.Context, a, b *daemon) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if _, err := a.api.Friend(ctx, api.FriendAdd, b.name); err != nil {
		return fmt.Errorf("%s adds %s: %w", a.name, b.name, err)
	}
	if _, err := b.api.Friend(ctx, api.FriendAccept, a.name); err != nil {
		return fmt.Errorf("%s accepts %s: %w", b.name, a.name, err)
	}
	for _, p := range [][2]*daemon{{a, b}, {b, a}} {
		if err := waitOnlineFriend(ctx, p[0], p[1].name); err != nil {
			return err
		}
	}
	return nil
}

// waitOnlineFriend polls d's friend list until friend is in it, online.
func waitOnlineFriend(ctx context.Context, d *daemon, friend string) error {
	for {
		fs, err := d.api.Friends(ctx)
		if err == nil && slices.ContainsFunc(fs, func(f api.Friend) bool {
			return f.Username == friend && f.Presence.Status == api.Online
		}) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never saw %s as an online friend (last error: %v)", d.name, friend, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sendFile runs `lanchat send-file bob PATH` on alice's side and waits
// for it to exit: 0 means bob has the whole verified file. It returns the
// elapsed time, the process (for its command line) and what went wrong.
// Both daemons are watched meanwhile.
func (c *cluster) sendFile(ctx context.Context, path string, timeout time.Duration) (result, *proc, error) {
	res := result{cpu: [2]time.Duration{-1, -1}, rss: [2]int64{-1, -1}}
	wa, wb := startWatch(c.alice.proc.pid()), startWatch(c.bob.proc.pid())
	start := time.Now()
	p, err := c.ps.start("send-file", "", nil, filepath.Join(c.bin, "lanchat"), "--home", c.alice.home, "send-file", c.bob.name, path)
	if err == nil {
		err = p.wait(ctx, timeout)
	}
	res.elapsed = time.Since(start)
	var werr error
	res.cpu[0], res.rss[0], werr = wa.stop()
	var werr2 error
	res.cpu[1], res.rss[1], werr2 = wb.stop()
	if err == nil {
		if e := errors.Join(werr, werr2); e != nil {
			err = fmt.Errorf("reading the daemons' /proc files: %w", e)
		}
	}
	return res, p, err
}

// transfer is one entry of `lanchat --json transfers`.
type transfer struct {
	ID        string  `json:"id"`
	Direction string  `json:"direction"`
	Peer      string  `json:"peer"`
	State     string  `json:"state"`
	Total     int64   `json:"total"`
	Done      int64   `json:"done"`
	Rate      float64 `json:"rate"`
}

// transfers runs `lanchat --json transfers` for d.
func (c *cluster) transfers(ctx context.Context, d *daemon) ([]transfer, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "lanchat"), "--home", d.home, "--json", "transfers")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			stderr = strings.TrimSpace(string(ee.Stderr))
		}
		return nil, fmt.Errorf("lanchat --json transfers (%s): %v %s", d.name, err, stderr)
	}
	return parseTransfers(out)
}

// parseTransfers decodes the JSON array `lanchat --json transfers`
// prints.
func parseTransfers(b []byte) ([]transfer, error) {
	var ts []transfer
	if err := json.Unmarshal(b, &ts); err != nil {
		return nil, fmt.Errorf("lanchat --json transfers: %w", err)
	}
	return ts, nil
}

// latest returns the last listed transfer in the given direction whose
// total is total, or nil.
func latest(ts []transfer, direction string, total int64) *transfer {
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Direction == direction && ts[i].Total == total {
			return &ts[i]
		}
	}
	return nil
}

// stop stops the daemons and the server, by their process ids.
func (c *cluster) stop() error {
	var errs []error
	for _, d := range []*daemon{c.bob, c.alice} {
		if d == nil {
			continue
		}
		if d.api != nil {
			d.api.Close()
		}
		if d.proc != nil {
			errs = append(errs, d.proc.stop())
		}
	}
	if c.server != nil {
		errs = append(errs, c.server.stop())
	}
	return errors.Join(errs...)
}

// commands describes how the cluster was started, for the report.
func (c *cluster) commands() []string {
	var out []string
	if c.server != nil {
		out = append(out, "server: `"+c.server.command()+"`")
	}
	for _, d := range []*daemon{c.alice, c.bob} {
		if d != nil && d.proc != nil {
			out = append(out, d.name+"'s daemon: `"+d.proc.command()+"`")
		}
	}
	out = append(out, "alice and bob registered through their daemons' local API (POST /v1/register, what `lanchat register` does); alice asked bob to be friends, bob accepted (`lanchat friend add bob`, `lanchat friend accept alice`)")
	return out
}
