package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/testbed"
	"github.com/lanchat/lanchat/peer/api"
)

// This file drives real "lanchat daemon" processes through the real
// lanchat CLI, each user with a data directory of their own.

var reDaemonUp = testbed.ReDaemonUp

// user is one person with a data directory and, while it runs, a daemon.
type user struct {
	name     string
	password string
	home     string
	server   string // host:port of the rendezvous server
	fp       string // its certificate fingerprint
	extra    []string
	// host, when set, is the network namespace the daemon runs in (the
	// LAN test bed); then it listens on all addresses and uses mDNS.
	host *host
	// listen, when set, is the daemon's --listen address.
	listen string
	daemon *proc
}

// newUser prepares a user of srv with a fresh data directory.
func newUser(t *testing.T, srv *rendezvous, name string) *user {
	t.Helper()
	return &user{
		name:     name,
		password: "password-of-" + name,
		home:     filepath.Join(t.TempDir(), name),
		server:   srv.addr,
		fp:       srv.fp,
	}
}

// start runs the user's daemon and waits until its local API is up.
func (u *user) start(t *testing.T) {
	t.Helper()
	if u.daemon != nil {
		t.Fatalf("%s: daemon already running", u.name)
	}
	args := []string{"--home", u.home, "daemon", "--log-level", "debug"}
	if u.server != "" {
		args = append(args, "--server", u.server, "--server-fingerprint", u.fp)
	}
	switch {
	case u.listen != "":
		args = append(args, "--listen", u.listen)
	case u.host == nil:
		args = append(args, "--listen", "127.0.0.1:0")
	default:
		args = append(args, "--listen", "0.0.0.0:0")
	}
	if u.host == nil {
		args = append(args, "--no-mdns")
	}
	args = append(args, u.extra...)
	if u.host == nil {
		u.daemon = start(t, "lanchat", args...)
	} else {
		u.daemon = u.host.start(t, "lanchat", args...)
	}
	u.daemon.waitOutput(t, reDaemonUp, 20*time.Second)
}

// stop ends the user's daemon with SIGTERM and waits for it.
func (u *user) stop(t *testing.T) {
	t.Helper()
	if u.daemon == nil {
		return
	}
	u.daemon.signal(syscall.SIGTERM)
	if code := u.daemon.wait(t, 20*time.Second); code != 0 {
		t.Errorf("%s: daemon exited with %d:\n%s", u.name, code, u.daemon.output())
	}
	u.daemon = nil
}

// lc runs "lanchat --home HOME args..." with stdin and returns stdout,
// stderr and the exit code.
func (u *user) lc(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return u.lcWith(t, nil, stdin, args...)
}

// lcWith is lc with extra environment variables.
func (u *user) lcWith(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin("lanchat"), append([]string{"--home", u.home}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("%s: lanchat %s: %v", u.name, strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// must runs a command that has to succeed and returns its stdout.
func (u *user) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := u.lc(t, "", args...)
	if code != 0 {
		t.Fatalf("%s: lanchat %s: exit %d\nstdout: %s\nstderr: %s", u.name, strings.Join(args, " "), code, out, errs)
	}
	return out
}

// fails runs a command that has to fail and returns its stderr.
func (u *user) fails(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := u.lc(t, "", args...)
	if code == 0 {
		t.Fatalf("%s: lanchat %s succeeded, want a failure\nstdout: %s", u.name, strings.Join(args, " "), out)
	}
	if strings.TrimSpace(errs) == "" {
		t.Fatalf("%s: lanchat %s failed with nothing on stderr", u.name, strings.Join(args, " "))
	}
	return errs
}

// mustJSON runs a command with --json and decodes its output into v.
func (u *user) mustJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := u.must(t, append([]string{"--json"}, args...)...)
	// Decode into a zero value: fields left out of the JSON (omitempty)
	// must not keep what an earlier call put there.
	reflect.ValueOf(v).Elem().SetZero()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%s: lanchat --json %s: %v\n%s", u.name, strings.Join(args, " "), err, out)
	}
}

// register creates the account from the running daemon.
func (u *user) register(t *testing.T) {
	t.Helper()
	out, errs, code := u.lc(t, u.password+"\n", "register", u.name, "--password-stdin")
	if code != 0 || !strings.Contains(out, "registered and logged in as "+u.name) {
		t.Fatalf("%s: register: exit %d\n%s%s", u.name, code, out, errs)
	}
}

// befriend makes a and b friends through the CLI.
func befriendUsers(t *testing.T, a, b *user) {
	t.Helper()
	a.must(t, "friend", "add", b.name)
	b.must(t, "friend", "accept", a.name)
	eventually(t, 10*time.Second, func() (bool, string) {
		var fs []api.Friend
		a.mustJSON(t, &fs, "friends")
		return hasFriend(fs, b.name), fmt.Sprintf("%s's friends: %+v", a.name, fs)
	})
}

func hasFriend(fs []api.Friend, name string) bool {
	for _, f := range fs {
		if f.Username == name {
			return true
		}
	}
	return false
}

// history returns the conversation with target as u's daemon has it.
func (u *user) history(t *testing.T, target string) []api.Message {
	t.Helper()
	var ms []api.Message
	u.mustJSON(t, &ms, "history", target, "--limit", "1000")
	return ms
}

// withText returns the messages whose text is text.
func withText(ms []api.Message, text string) []api.Message {
	var out []api.Message
	for _, m := range ms {
		if m.Text == text {
			out = append(out, m)
		}
	}
	return out
}

// waitMessage waits until u's history with target holds text, and checks
// it is there exactly once.
func (u *user) waitMessage(t *testing.T, target, text string, timeout time.Duration) api.Message {
	t.Helper()
	var got []api.Message
	eventually(t, timeout, func() (bool, string) {
		got = withText(u.history(t, target), text)
		return len(got) > 0, fmt.Sprintf("%s has no %q from %s", u.name, text, target)
	})
	// A redelivery would show up as a second copy: give it a moment.
	time.Sleep(300 * time.Millisecond)
	got = withText(u.history(t, target), text)
	if len(got) != 1 {
		t.Fatalf("%s has %d copies of %q, want exactly 1", u.name, len(got), text)
	}
	return got[0]
}

// waitState waits until u's outgoing message text to target is in state.
func (u *user) waitState(t *testing.T, target, text, state string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, func() (bool, string) {
		ms := withText(u.history(t, target), text)
		if len(ms) != 1 {
			return false, fmt.Sprintf("%d copies of %q in %s's history with %s", len(ms), text, u.name, target)
		}
		return ms[0].State == state, fmt.Sprintf("%q is %s, want %s", text, ms[0].State, state)
	})
}

// unread returns the unread count of u's conversation with target.
func (u *user) unread(t *testing.T, target string) int {
	t.Helper()
	var cs []api.Conversation
	u.mustJSON(t, &cs, "recent")
	for _, c := range cs {
		if c.Target == target {
			return c.Unread
		}
	}
	return -1
}

// eventually retries cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var why string
	for {
		var ok bool
		if ok, why = cond(); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startServer starts a rendezvous server on a free loopback port, without
// a lobby: its users share nothing until they befriend or group.
// startLobbyServer (rooms_test.go) starts one with the default lobby.
func startServer(t *testing.T) *rendezvous {
	t.Helper()
	return startRendezvous(t, freeAddr(t), t.TempDir(), "--lobby", "")
}
