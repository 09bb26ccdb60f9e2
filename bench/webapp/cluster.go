package webapp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

var (
	reListening   = regexp.MustCompile(`(?m)^rendezvous listening on (\S+)`)
	reFingerprint = regexp.MustCompile(`(?m)^certificate fingerprint \(sha256\): ([0-9a-f]+)`)
	reDaemonUp    = regexp.MustCompile(`(?m)^lanchat daemon running; local API on (\S+)`)
)

// cluster is the server and the two daemons of a run, in one temporary
// directory. It signals only the processes it started, by their ids.
type cluster struct {
	dir   string
	keep  bool
	procs []*exec.Cmd
	peers []*peer
}

// peer is one user: a data directory, a daemon and its API client.
type peer struct {
	name string
	home string
	api  *api.Client
}

// startCluster starts a server and daemons for alice and bob, registers
// both and makes them friends.
func startCluster(ctx context.Context, cfg config) (*cluster, error) {
	dir, err := os.MkdirTemp("", "lanchat-webbench.")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, keep: cfg.keep}
	ok := false
	defer func() {
		if !ok {
			c.stop()
		}
	}()
	say("starting a rendezvous server and daemons for alice and bob in %s", dir)
	srvLog := filepath.Join(dir, "rendezvous.log")
	if err := c.start(filepath.Join(cfg.bin, "rendezvous"), srvLog, "serve", "--listen", "127.0.0.1:0",
		"--data", filepath.Join(dir, "server"), "--argon2-memory", "256", "--argon2-time", "1"); err != nil {
		return nil, err
	}
	addr, err := waitLog(ctx, srvLog, reListening)
	if err != nil {
		return nil, err
	}
	fp, err := waitLog(ctx, srvLog, reFingerprint)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"alice", "bob"} {
		p := &peer{name: name, home: filepath.Join(dir, name)}
		log := filepath.Join(dir, name+".log")
		if err := c.start(filepath.Join(cfg.bin, "lanchat"), log, "--home", p.home, "daemon",
			"--server", addr, "--server-fingerprint", fp, "--listen", "127.0.0.1:0", "--no-mdns",
			"--downloads", filepath.Join(dir, name+"-downloads")); err != nil {
			return nil, err
		}
		socket, err := waitLog(ctx, log, reDaemonUp)
		if err != nil {
			return nil, err
		}
		p.api = api.NewClient(socket)
		// The daemon prints its socket as it starts serving it: wait
		// until it answers.
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, err := p.api.Status(ctx); err == nil {
				break
			} else if time.Now().After(deadline) || !errors.Is(err, api.ErrNoDaemon) {
				return nil, fmt.Errorf("%s's daemon: %w", name, err)
			}
		}
		if _, err := p.api.Register(ctx, api.RegisterRequest{Username: name, Password: "webload-password-" + name}); err != nil {
			return nil, fmt.Errorf("register %s: %w", name, err)
		}
		c.peers = append(c.peers, p)
	}
	alice, bob := c.peers[0], c.peers[1]
	if _, err := alice.api.Friend(ctx, api.FriendAdd, "bob"); err != nil {
		return nil, fmt.Errorf("friend request: %w", err)
	}
	if _, err := bob.api.Friend(ctx, api.FriendAccept, "alice"); err != nil {
		return nil, fmt.Errorf("accept: %w", err)
	}
	// A first message opens the direct connection, so the timed ones
	// measure the steady path.
	if err := sendAndWait(ctx, alice, bob, "webload warm-up"); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// start runs bin with args, its output in logPath.
func (c *cluster) start(bin, logPath string, args ...string) error {
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	c.procs = append(c.procs, cmd)
	return nil
}

// stop ends the processes, daemons first, and removes the directory.
func (c *cluster) stop() {
	for _, p := range c.peers {
		p.api.Close()
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		cmd := c.procs[i]
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	c.procs = nil
	if c.keep {
		say("kept %s", c.dir)
		return
	}
	os.RemoveAll(c.dir)
}

// waitLog waits until the file at path matches re and returns the first
// submatch.
func waitLog(ctx context.Context, path string, re *regexp.Regexp) (string, error) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(path)
		if m := re.FindSubmatch(b); m != nil {
			return string(m[1]), nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	b, _ := os.ReadFile(path)
	return "", fmt.Errorf("no %s in %s within 20s:\n%s", re, path, b)
}

// sendAndWait sends text from a to b through the API and waits until b's
// daemon has it.
func sendAndWait(ctx context.Context, a, b *peer, text string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ev, err := b.api.Events(ctx)
	if err != nil {
		return err
	}
	defer ev.Close()
	if _, err := a.api.Send(ctx, api.SendRequest{Target: b.name, Text: text}); err != nil {
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
