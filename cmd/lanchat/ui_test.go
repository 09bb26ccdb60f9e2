package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/webui"
)

// uiDaemon serves the sign-in route as the daemon does: for srv, or, with
// srv nil, as a daemon started with --no-ui.
func uiDaemon(t *testing.T, srv *webui.Server) string {
	t.Helper()
	home := shortHome(t)
	mux := http.NewServeMux()
	mux.Handle("POST "+webui.SignInRoute, webui.SignInHandler(srv))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ln, err := api.Listen(socketPath(home))
	if err != nil {
		cancel()
		t.Fatalf("the fake daemon did not start: %v", err)
	}
	go func() { done <- api.ServeListener(ctx, ln, mux) }()
	t.Cleanup(func() { cancel(); <-done })
	return home
}

func newUIServer(t *testing.T) *webui.Server {
	t.Helper()
	ln, err := webui.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	srv, err := webui.New(ln, webui.Config{API: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func runIn(t *testing.T, home string, args ...string) result {
	t.Helper()
	h := &harness{t: t, home: home}
	return h.run("", args...)
}

func TestUIPrint(t *testing.T) {
	srv := newUIServer(t)
	home := uiDaemon(t, srv)
	first := strings.TrimSpace(runIn(t, home, "ui", "--print").ok(t))
	if !strings.HasPrefix(first, srv.URL()+"auth?token=") {
		t.Fatalf("ui --print printed %q; want a sign-in URL of %s", first, srv.URL())
	}
	second := strings.TrimSpace(runIn(t, home, "ui", "--print").ok(t))
	if second == first {
		t.Fatalf("two runs printed the same one-time URL")
	}
	var si webui.SignIn
	if err := json.Unmarshal([]byte(runIn(t, home, "ui", "--json").ok(t)), &si); err != nil || si.URL != srv.URL() || si.SignInURL == "" {
		t.Fatalf("ui --json: %+v, %v", si, err)
	}
}

func TestUIOff(t *testing.T) {
	home := uiDaemon(t, nil)
	r := runIn(t, home, "ui", "--print")
	if r.code != exitFailure || !strings.Contains(r.stderr, "--no-ui") {
		t.Fatalf("ui against a --no-ui daemon: exit %d, stderr %q; want 1 and a word on --no-ui", r.code, r.stderr)
	}
}

func TestUINoDaemon(t *testing.T) {
	r := runIn(t, shortHome(t), "ui", "--print")
	if r.code != exitFailure || !strings.Contains(r.stderr, "no daemon running") {
		t.Fatalf("ui without a daemon: exit %d, stderr %q", r.code, r.stderr)
	}
}
