// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb
// in a temporary directory, a server listening only on a Unix socket in
// that directory, stopped and removed when the tests end. PostgreSQL
// refuses to run as root, so when the tests run as root the cluster runs
// as the unprivileged user nobody (through runuser) in a directory that
// user owns.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoPostgres reports that the PostgreSQL server binaries are not
// installed.
var ErrNoPostgres = errors.New("PostgreSQL server binaries (initdb, postgres, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin; install the Debian package postgresql")

// runAs is the account the cluster runs as when the tests run as root.
const runAs = "nobody"

// Cluster is one running throwaway PostgreSQL server.
type Cluster struct {
	dir    string // owns data/ and the socket
	bin    string // directory of initdb, pg_ctl, postgres
	user   string // OS account the server runs as; "" for the current one
	dbUser string // the cluster's superuser role
	seq    atomic.Int64
}

// BinDir finds the directory holding initdb, pg_ctl and postgres: that of
// initdb on PATH (symbolic links followed), else Debian's
// /usr/lib/postgresql/<version>/bin, newest version first.
func BinDir() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if p, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(p))
		}
	}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(debian, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range append(dirs, debian...) {
		if hasAll(d, "initdb", "pg_ctl", "postgres") {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

// hasAll reports whether dir holds all the named programs.
func hasAll(dir string, names ...string) bool {
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			return false
		}
	}
	return true
}

// Start creates and starts a cluster in a new temporary directory. Stop
// it with Stop, which also removes the directory.
func Start(ctx context.Context) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	// As root the directory goes under /tmp, which the cluster's account
	// can traverse whatever TMPDIR says.
	parent := ""
	if os.Geteuid() == 0 {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	c := &Cluster{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup(runAs)
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root needs the account %s: %w", runAs, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		c.user = runAs
		c.dbUser = runAs
	} else {
		u, err := user.Current()
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		c.dbUser = u.Username
	}
	data := filepath.Join(dir, "data")
	if err := c.run(ctx, "initdb", "-D", data, "-U", c.dbUser, "--auth=trust",
		"--no-sync", "--encoding=UTF8", "--locale=C"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// No TCP at all; the socket lives in dir, which only the cluster's
	// account (and root) may enter. The cluster is thrown away, so it
	// need not survive a crash of the machine: no fsync. A commit is still
	// a commit to every client, which is what tests that kill a node
	// rely on.
	opts := "-c listen_addresses='' -c unix_socket_directories=" + dir +
		" -c max_connections=200 -c shared_buffers=32MB -c fsync=off -c full_page_writes=off"
	if err := c.run(ctx, "pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-w",
		"-t", "60", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return c, nil
}

// run runs one of the cluster's binaries as the cluster's account.
func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	prog := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.user != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.user, "--", prog}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, prog, args...)
	}
	cmd.Dir = c.dir
	// pg_ctl leaves the server running after it exits; its own process
	// group keeps it out of the terminal's signals.
	ownGroup(cmd)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtest: %s: %w\n%s", name, err, out.Bytes())
	}
	return nil
}

// Stop stops the server (fast shutdown) and removes its directory.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "stop")
	if rerr := os.RemoveAll(c.dir); err == nil {
		err = rerr
	}
	return err
}

// DatabaseName returns the database a URL of this cluster names.
func DatabaseName(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(p.Path, "/")
}

// URL returns the connection URL of database db in the cluster.
func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(c.dbUser),
		Path:     "/" + db,
		RawQuery: url.Values{"host": {c.dir}, "sslmode": {"disable"}}.Encode(),
	}
	return u.String()
}

// CreateDatabase creates a new database with a fresh name and returns its
// URL. It is a copy of template, a database of the cluster nobody is
// connected to, or empty if template is "".
func (c *Cluster) CreateDatabase(ctx context.Context, template string) (string, error) {
	name := fmt.Sprintf("test%d", c.seq.Add(1))
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(ctx)
	q := "CREATE DATABASE " + name
	if template != "" {
		q += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, q); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return c.URL(name), nil
}
