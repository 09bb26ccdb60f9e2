package transfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanchat/lanchat/internal/testbed"
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

// placement says where the server and the two daemons run: their
// network namespaces ("" for this one) and listening hosts.
type placement struct {
	serverNS, aliceNS, bobNS string
	serverHost, bobHost      string // alice listens where the server does
}

// loopback runs everything on 127.0.0.1 in this namespace.
var loopback = placement{serverHost: "127.0.0.1", bobHost: "127.0.0.1"}

// onLink runs the server and alice in the link's namespace a, bob in b.
func onLink(l *testbed.Link) placement {
	return placement{serverNS: l.A, aliceNS: l.A, bobNS: l.B, serverHost: l.AddrA, bobHost: l.AddrB}
}

// cluster is a rendezvous server and two lanchat daemons: alice sends,
// bob receives into his downloads folder, accepting from contacts
// automatically.
type cluster struct {
	dir        string
	server     *testbed.Server
	alice, bob *testbed.Daemon
	downloads  string // bob's
}

// startCluster starts the server and both daemons under dir, registers
// alice and bob and makes them friends. On an error it returns what it
// started, for stop.
func startCluster(ctx context.Context, bin, dir string, at placement) (*cluster, error) {
	c := &cluster{dir: dir, downloads: filepath.Join(dir, "bob-downloads")}
	// Password hashing is made cheap: logging in is not what is measured.
	srv, err := testbed.StartServerCmd(ctx, at.serverNS, bin, at.serverHost+":0", filepath.Join(dir, "server"), "--argon2-memory", "256", "--argon2-time", "1")
	if err != nil {
		return c, err
	}
	c.server = srv
	if ap, err := netip.ParseAddrPort(srv.Addr); err != nil || (!ap.Addr().IsLoopback() && at.serverNS == "") {
		return c, fmt.Errorf("the server listens on %q, not on loopback", srv.Addr)
	}
	for _, u := range []struct {
		d        **testbed.Daemon
		name     string
		ns, host string
	}{{&c.alice, "alice", at.aliceNS, at.serverHost}, {&c.bob, "bob", at.bobNS, at.bobHost}} {
		downloads := filepath.Join(dir, u.name+"-downloads")
		if err := os.MkdirAll(downloads, 0o755); err != nil {
			return c, err
		}
		if *u.d, err = testbed.StartDaemon(ctx, u.ns, bin, u.name, filepath.Join(dir, u.name), "--server", srv.Addr,
			"--server-fingerprint", srv.Fingerprint, "--listen", u.host+":0", "--no-mdns", "--downloads", downloads); err != nil {
			return c, err
		}
		if err := (*u.d).Register(ctx); err != nil {
			return c, err
		}
	}
	return c, testbed.Befriend(ctx, c.alice, c.bob)
}

// stop stops the daemons and the server, by their process ids.
func (c *cluster) stop() error {
	var errs []error
	for _, d := range []*testbed.Daemon{c.bob, c.alice} {
		if d != nil {
			errs = append(errs, d.Stop())
		}
	}
	if c.server != nil {
		errs = append(errs, c.server.Stop())
	}
	return errors.Join(errs...)
}

// sendFile runs `lanchat send-file bob PATH` on alice's side and waits
// for it to exit: 0 means bob has the whole verified file. It returns the
// elapsed time and both daemons' usage, the process (for its command
// line) and what went wrong.
func (b *benchmark) sendFile(ctx context.Context, c *cluster, path string, timeout time.Duration) (result, *testbed.Process, error) {
	res := result{cpu: [2]time.Duration{-1, -1}, rss: [2]int64{-1, -1}}
	wa, wb := testbed.StartWatch(c.alice.PID()), testbed.StartWatch(c.bob.PID())
	start := time.Now()
	p, err := b.spawn("send-file", "", nil, filepath.Join(b.cfg.Bin, "lanchat"), "--home", c.alice.Home, "send-file", c.bob.Name, path)
	if err == nil {
		err = p.Wait(ctx, timeout)
	}
	res.elapsed = time.Since(start)
	var werr [2]error
	res.cpu[0], res.rss[0], werr[0] = wa.Stop()
	res.cpu[1], res.rss[1], werr[1] = wb.Stop()
	if e := errors.Join(werr[:]...); err == nil && e != nil {
		err = fmt.Errorf("reading the daemons' /proc files: %w", e)
	}
	return res, p, err
}

// transfer is one entry of `lanchat --json transfers`.
type transfer struct {
	ID        string  `json:"id"`
	Direction string  `json:"direction"`
	State     string  `json:"state"`
	Total     int64   `json:"total"`
	Done      int64   `json:"done"`
	Rate      float64 `json:"rate"`
}

// received returns the last transfer of total bytes that `lanchat
// --json transfers` lists as received by d, or nil.
func (b *benchmark) received(ctx context.Context, d *testbed.Daemon, total int64) (*transfer, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(b.cfg.Bin, "lanchat"), "--home", d.Home, "--json", "transfers").Output()
	if err != nil {
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("lanchat --json transfers (%s): %w", d.Name, err)
	}
	ts, err := parseTransfers(out)
	if err != nil {
		return nil, err
	}
	return latest(ts, "receive", total), nil
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

// commands describes how the cluster was started, for the report.
func (c *cluster) commands() []string {
	var out []string
	if c.server != nil {
		out = append(out, "server: `"+c.server.Command()+"`")
	}
	for _, d := range []*testbed.Daemon{c.alice, c.bob} {
		if d != nil {
			out = append(out, d.Name+"'s daemon: `"+d.Command()+"`")
		}
	}
	return append(out, "alice and bob registered through their daemons' local API (POST /v1/register, what `lanchat register` does); alice asked bob to be friends, bob accepted (`lanchat friend add bob`, `lanchat friend accept alice`)")
}
