package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/api/apitest"
)

// now is the clock every test runs at; times in fixtures are relative to
// it, in UTC.
var now = time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	time.Local = time.UTC
	timeNow = func() time.Time { return now }
	os.Exit(m.Run())
}

// shortHome returns a data directory short enough for its socket path.
func shortHome(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lccli")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// harness is a fake daemon (the real API handler over a fake Service on a
// real socket) and a way to run the CLI against it.
type harness struct {
	t    *testing.T
	svc  *apitest.Service
	home string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, svc: &apitest.Service{}, home: shortHome(t)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	socket := socketPath(h.home)
	// Listen returns once the socket answers: no wait for it to appear.
	ln, err := api.Listen(socket)
	if err != nil {
		cancel()
		t.Fatalf("the fake daemon did not start: %v", err)
	}
	go func() {
		done <- api.ServeListener(ctx, ln, api.NewHandler(h.svc, api.Parts{Library: h.svc, Rich: h.svc, Rooms: h.svc}, nil))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return h
}

// result is what one run of the CLI did.
type result struct {
	stdout, stderr string
	code           int
}

// run runs the CLI in-process with --home set and stdin as given.
func (h *harness) run(stdin string, args ...string) result {
	h.t.Helper()
	return h.runCtx(h.t.Context(), strings.NewReader(stdin), args...)
}

func (h *harness) runCtx(ctx context.Context, stdin io.Reader, args ...string) result {
	var out, errb bytes.Buffer
	code := runEnv(ctx, append([]string{"--home", h.home}, args...), stdin, &out, &errb, noEnv)
	return result{out.String(), errb.String(), code}
}

func noEnv(string) string { return "" }

// ok fails the test unless r succeeded, and returns its stdout.
func (r result) ok(t *testing.T) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// contains fails the test unless s holds every want.
func contains(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q:\n%s", w, s)
		}
	}
}

// fromJSON decodes --json output.
func fromJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("--json output does not parse as %T: %v\n%s", v, err, s)
	}
	return v
}

// syncBuffer is a bytes.Buffer that a running command and the test can
// share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until s() contains want.
func waitFor(t *testing.T, s func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q in:\n%s", want, s())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestNoDaemon(t *testing.T) {
	home := shortHome(t)
	var out, errb bytes.Buffer
	code := runEnv(t.Context(), []string{"--home", home, "status"}, strings.NewReader(""), &out, &errb, noEnv)
	want := "lanchat: no daemon running for " + home + "; start one with: lanchat --home " + home + " daemon --server HOST:PORT\n"
	if code != 1 || errb.String() != want || out.Len() != 0 {
		t.Errorf("exit %d, stderr %q, stdout %q; want 1, %q", code, errb.String(), out.String(), want)
	}

	// A socket file left by a dead daemon reads the same.
	makeStale(t, socketPath(home))
	errb.Reset()
	code = runEnv(t.Context(), []string{"--home", home, "friends"}, strings.NewReader(""), &out, &errb, noEnv)
	if code != 1 || errb.String() != want {
		t.Errorf("stale socket: exit %d, stderr %q", code, errb.String())
	}
}

func TestUsageErrors(t *testing.T) {
	// No daemon runs: a usage error must be found before connecting.
	h := &harness{t: t, svc: &apitest.Service{}, home: shortHome(t)}
	tests := [][]string{
		{},
		{"frobnicate"},
		{"friend"},
		{"friend", "poke", "bob"},
		{"friend", "add"},
		{"friend", "add", "bob", "carol"},
		{"send", "bob"},
		{"send"},
		{"history"},
		{"history", "bob", "--limit", "many"},
		{"users", "search"},
		{"status", "extra"},
		{"friends", "--bogus"},
		{"group", "invite", "team"},
		{"group", "rename", "team"},
		{"group", "members"},
		{"profile", "set"},
		{"profile"},
		{"verify"},
		{"chat"},
		{"register", "alice"}, // stdin is not a terminal and no --password-stdin
		{"login", "alice"},
		{"passwd"},
		{"--nope", "status"},
		{"help", "frobnicate"},
		{"daemon", "--mdns-interval", "-1s"},
		{"daemon", "--mdns-interval", "two"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := h.run("", args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2\nstderr: %s", r.code, r.stderr)
			}
			if r.stderr == "" {
				t.Error("nothing on stderr")
			}
			if strings.Contains(r.stderr, "no daemon") {
				t.Errorf("usage error reported as no daemon: %s", r.stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	h := &harness{t: t, svc: &apitest.Service{}, home: shortHome(t)}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		out := h.run("", args...).ok(t)
		contains(t, out, "Usage:", "lanchat [--home DIR] [--json] COMMAND", "friend requests", "group members")
	}
	for _, c := range commands {
		words := strings.Fields(c.name)
		for _, args := range [][]string{append([]string{"help"}, words...), append(words, "--help"), append(words, "-h")} {
			r := h.run("", args...)
			out := r.ok(t)
			contains(t, out, "Usage: lanchat "+c.name, "Example:\n  ", "lanchat", "--json")
		}
	}
	contains(t, h.run("", "help", "group").ok(t), "group create NAME", "group kick NAME USER")
	contains(t, h.run("", "history", "--help").ok(t), "--limit", "--search")
	contains(t, h.run("", "daemon", "--help").ok(t), "--ask-files")
}
