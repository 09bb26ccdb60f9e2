package testbed

import (
	"context"
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

// StartTimeout bounds how long a server or daemon may take to come up.
const StartTimeout = 20 * time.Second

// The lines the binaries print once they are up.
var (
	ReListening   = regexp.MustCompile(`rendezvous listening on (\S+)`)
	ReFingerprint = regexp.MustCompile(`certificate fingerprint \(sha256\): ([0-9a-f]{64})`)
	ReMetrics     = regexp.MustCompile(`msg="metrics listening" addr=(\S+)`)
	ReDaemonUp    = regexp.MustCompile(`local API on (\S+)`)
)

// Build compiles ./cmd/... of the module this package is in into dir and
// returns dir.
func Build(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("find the module: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), "./cmd/...")
	cmd.Dir = strings.TrimSpace(string(out))
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the binaries: %v\n%s", err, b)
	}
	return dir, nil
}

// freshLog is the path of a log beside dir that no earlier process of
// this bed wrote: dir.log, or dir.2.log, dir.3.log, ... after a restart,
// so that a stopped process's output stays readable.
func freshLog(dir string) string {
	p := dir + ".log"
	for i := 2; ; i++ {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p
		}
		p = fmt.Sprintf("%s.%d.log", dir, i)
	}
}

// Server is a running rendezvous server.
type Server struct {
	*Process
	Addr        string // host:port it listens on
	Fingerprint string // its certificate's SHA-256, hex
	Metrics     string // host:port of /metrics, "" unless asked for
	Data        string // its data directory
}

// StartServer runs "rendezvous serve --listen listen --data data extra..."
// from binDir, its log beside data (see freshLog), and waits until it listens. With
// "--metrics" among extra it also waits for the metrics listener.
func StartServer(ctx context.Context, binDir, listen, data string, extra ...string) (*Server, error) {
	return StartServerCmd(ctx, "", binDir, listen, data, extra...)
}

// StartServerCmd is StartServer inside network namespace ns ("" for
// this one).
func StartServerCmd(ctx context.Context, ns, binDir, listen, data string, extra ...string) (*Server, error) {
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("start rendezvous: %w", err)
	}
	args := append([]string{"serve", "--listen", listen, "--data", data}, extra...)
	p, err := StartCmd("rendezvous", freshLog(data), Command(ns, filepath.Join(binDir, "rendezvous"), args...))
	if err != nil {
		return nil, err
	}
	s := &Server{Process: p, Data: data}
	if s.Fingerprint, err = p.WaitLine(ctx, ReFingerprint, StartTimeout); err == nil {
		s.Addr, err = p.WaitLine(ctx, ReListening, StartTimeout)
	}
	if err == nil && slices.Contains(extra, "--metrics") {
		s.Metrics, err = p.WaitLine(ctx, ReMetrics, StartTimeout)
	}
	if err != nil {
		p.Stop()
		return nil, err
	}
	return s, nil
}

// Daemon is one user with a data directory and a running lanchat daemon,
// driven through its local API.
type Daemon struct {
	*Process
	Name     string
	Password string
	Home     string
	API      *api.Client
}

// StartDaemon runs "lanchat --home home daemon args..." from binDir in
// namespace ns ("" for this one), its log beside home, and waits for its
// local API.
func StartDaemon(ctx context.Context, ns, binDir, name, home string, args ...string) (*Daemon, error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("start %s's daemon: %w", name, err)
	}
	argv := append([]string{"--home", home, "daemon"}, args...)
	p, err := StartCmd(name, freshLog(home), Command(ns, filepath.Join(binDir, "lanchat"), argv...))
	if err != nil {
		return nil, err
	}
	sock, err := p.WaitLine(ctx, ReDaemonUp, StartTimeout)
	if err != nil {
		p.Stop()
		return nil, err
	}
	return &Daemon{Process: p, Name: name, Password: "password-of-" + name, Home: home, API: api.NewClient(sock)}, nil
}

// Register creates the daemon's account once its link to the server is
// up.
func (d *Daemon) Register(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	if err := poll(ctx, 20*time.Millisecond, func() (bool, error) {
		st, err := d.API.Status(ctx)
		return err == nil && st.ServerConnected, err
	}); err != nil {
		return fmt.Errorf("%s's daemon did not connect to the server: %w", d.Name, err)
	}
	if _, err := d.API.Register(ctx, api.RegisterRequest{Username: d.Name, Password: d.Password}); err != nil {
		return fmt.Errorf("register %s: %w", d.Name, err)
	}
	return nil
}

// Listen is where the daemon's direct listener is bound, or "?".
func (d *Daemon) Listen(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := d.API.Status(ctx)
	if err != nil || st.Listen == "" {
		return "?"
	}
	return st.Listen
}

// Stop closes the API client and stops the daemon.
func (d *Daemon) Stop() error {
	d.API.Close()
	return d.Process.Stop()
}

// Befriend makes a and b friends (a asks, b accepts) and waits until
// each lists the other as an online friend.
func Befriend(ctx context.Context, a, b *Daemon) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	if _, err := a.API.Friend(ctx, api.FriendAdd, b.Name); err != nil {
		return fmt.Errorf("%s adds %s: %w", a.Name, b.Name, err)
	}
	if _, err := b.API.Friend(ctx, api.FriendAccept, a.Name); err != nil {
		return fmt.Errorf("%s accepts %s: %w", b.Name, a.Name, err)
	}
	for _, p := range [][2]*Daemon{{a, b}, {b, a}} {
		if err := poll(ctx, 50*time.Millisecond, func() (bool, error) {
			fs, err := p[0].API.Friends(ctx)
			return err == nil && slices.ContainsFunc(fs, func(f api.Friend) bool {
				return f.Username == p[1].Name && f.Presence.Status == api.Online
			}), err
		}); err != nil {
			return fmt.Errorf("%s never saw %s as an online friend: %w", p[0].Name, p[1].Name, err)
		}
	}
	return nil
}

// poll calls cond every interval until it holds or ctx ends; then it
// says what cond last failed with.
func poll(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}

// Cluster is a rendezvous server and daemons on loopback, all in one
// directory, stopped and removed through its Owner.
type Cluster struct {
	Bin     string // where the binaries are
	Dir     string
	Server  *Server
	Daemons []*Daemon
}

// StartCluster starts a server on 127.0.0.1:0 with serverArgs, then a
// daemon for each name with daemonArgs (after --server and its
// fingerprint), registered; with befriend, every pair are friends and
// online. owner stops every process, daemons first, when it cleans up.
// On an error it returns what it started too, for Stop.
func StartCluster(ctx context.Context, owner Owner, binDir, dir string, names []string, befriend bool, serverArgs, daemonArgs []string) (*Cluster, error) {
	c := &Cluster{Bin: binDir, Dir: dir}
	owner.Cleanup(func() {
		if err := c.Stop(); err != nil {
			owner.Logf("stop the cluster: %v", err)
		}
	})
	var err error
	if c.Server, err = StartServer(ctx, binDir, "127.0.0.1:0", filepath.Join(dir, "server"), serverArgs...); err != nil {
		return c, err
	}
	if ap, err := netip.ParseAddrPort(c.Server.Addr); err != nil || !ap.Addr().IsLoopback() {
		return c, fmt.Errorf("the server listens on %q, not on loopback", c.Server.Addr)
	}
	owner.Logf("server pid %d on %s, fingerprint %s", c.Server.PID(), c.Server.Addr, c.Server.Fingerprint)
	for _, name := range names {
		if _, err := c.AddDaemon(ctx, name, daemonArgs...); err != nil {
			return c, err
		}
	}
	if befriend {
		for i, a := range c.Daemons {
			for _, b := range c.Daemons[i+1:] {
				if err := Befriend(ctx, a, b); err != nil {
					return c, err
				}
			}
		}
	}
	return c, nil
}

// AddDaemon starts and registers one more user of the cluster's server.
func (c *Cluster) AddDaemon(ctx context.Context, name string, args ...string) (*Daemon, error) {
	args = append([]string{"--server", c.Server.Addr, "--server-fingerprint", c.Server.Fingerprint}, args...)
	d, err := StartDaemon(ctx, "", c.Bin, name, filepath.Join(c.Dir, name), args...)
	if err != nil {
		return nil, err
	}
	c.Daemons = append(c.Daemons, d)
	return d, d.Register(ctx)
}

// Stop stops every process of the cluster, daemons first, newest first,
// each by its process id, and says what went wrong. Calling it again
// does nothing.
func (c *Cluster) Stop() error {
	var errs []error
	for _, d := range slices.Backward(c.Daemons) {
		errs = append(errs, d.Stop())
	}
	if c.Server != nil {
		errs = append(errs, c.Server.Stop())
	}
	return errors.Join(errs...)
}
