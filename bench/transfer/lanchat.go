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

// startTimeout bounds how long a process may take to come up.
const startTimeout = testbed.StartTimeout

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
func onLink(l *testbed.Link) placement {
	return placement{
		serverNS: l.A, serverListen: l.AddrA + ":0",
		aliceNS: l.A, aliceListen: l.AddrA + ":0",
		bobNS: l.B, bobListen: l.AddrB + ":0",
	}
}

// cluster is a rendezvous server and two lanchat daemons: alice sends,
// bob receives into his downloads folder, accepting from contacts
// automatically.
type cluster struct {
	bin string
	ps  *procs
	dir string

	server     *testbed.Server
	alice, bob *daemon
}

// daemon is one user with a data directory and a running daemon.
type daemon struct {
	*testbed.Daemon
	name      string
	home      string
	downloads string
	proc      *proc
}

// startCluster starts the server and both daemons under dir, registers
// alice and bob and makes them friends.
func startCluster(ctx context.Context, ps *procs, bin, dir string, at placement, say func(string, ...any)) (*cluster, error) {
	c := &cluster{bin: bin, ps: ps, dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return c, err
	}
	// Password hashing is made cheap: logging in is not what is measured.
	srv, err := testbed.StartServerCmd(ctx, at.serverNS, bin, at.serverListen, filepath.Join(dir, "server"), "--argon2-memory", "256", "--argon2-time", "1")
	if err != nil {
		return c, err
	}
	c.server = srv
	if ap, err := netip.ParseAddrPort(srv.Addr); err != nil || (!ap.Addr().IsLoopback() && at.serverNS == "") {
		return c, fmt.Errorf("the server listens on %q, not on loopback", srv.Addr)
	}
	for _, u := range []struct {
		d          **daemon
		name       string
		ns, listen string
	}{{&c.alice, "alice", at.aliceNS, at.aliceListen}, {&c.bob, "bob", at.bobNS, at.bobListen}} {
		downloads := filepath.Join(dir, u.name+"-downloads")
		if err := os.MkdirAll(downloads, 0o755); err != nil {
			return c, err
		}
		d, err := testbed.StartDaemon(ctx, u.ns, bin, u.name, filepath.Join(dir, u.name), "--server", srv.Addr,
			"--server-fingerprint", srv.Fingerprint, "--listen", u.listen, "--no-mdns", "--downloads", downloads)
		if err != nil {
			return c, err
		}
		*u.d = &daemon{Daemon: d, name: u.name, home: d.Home, downloads: downloads, proc: d.Process}
		if err := d.Register(ctx); err != nil {
			return c, err
		}
	}
	if err := testbed.Befriend(ctx, c.alice.Daemon, c.bob.Daemon); err != nil {
		return c, err
	}
	say("lanchat: server pid %d on %s, alice's daemon pid %d, bob's pid %d (downloads %s)",
		srv.PID(), srv.Addr, c.alice.PID(), c.bob.PID(), c.bob.downloads)
	return c, nil
}

// sendFile runs `lanchat send-file bob PATH` on alice's side and waits
// for it to exit: 0 means bob has the whole verified file. It returns the
// elapsed time, the process (for its command line) and what went wrong.
// Both daemons are watched meanwhile.
func (c *cluster) sendFile(ctx context.Context, path string, timeout time.Duration) (result, *proc, error) {
	res := result{cpu: [2]time.Duration{-1, -1}, rss: [2]int64{-1, -1}}
	wa, wb := testbed.StartWatch(c.alice.PID()), testbed.StartWatch(c.bob.PID())
	start := time.Now()
	p, err := c.ps.start("send-file", "", nil, filepath.Join(c.bin, "lanchat"), "--home", c.alice.home, "send-file", c.bob.name, path)
	if err == nil {
		err = p.Wait(ctx, timeout)
	}
	res.elapsed = time.Since(start)
	var werr error
	res.cpu[0], res.rss[0], werr = wa.Stop()
	var werr2 error
	res.cpu[1], res.rss[1], werr2 = wb.Stop()
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
		if d != nil {
			errs = append(errs, d.Stop())
		}
	}
	if c.server != nil {
		errs = append(errs, c.server.Stop())
	}
	return errors.Join(errs...)
}

// commands describes how the cluster was started, for the report.
func (c *cluster) commands() []string {
	var out []string
	if c.server != nil {
		out = append(out, "server: `"+c.server.Command()+"`")
	}
	for _, d := range []*daemon{c.alice, c.bob} {
		if d != nil {
			out = append(out, d.name+"'s daemon: `"+d.Command()+"`")
		}
	}
	out = append(out, "alice and bob registered through their daemons' local API (POST /v1/register, what `lanchat register` does); alice asked bob to be friends, bob accepted (`lanchat friend add bob`, `lanchat friend accept alice`)")
	return out
}
