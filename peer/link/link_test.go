package link_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/password"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/link"
	"github.com/lanchat/lanchat/rendezvous"
	"github.com/lanchat/lanchat/rendezvous/client"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// Time limits of the tests. Links retry every few milliseconds, so
// anything that should happen does so well within eventTimeout.
const (
	eventTimeout = 10 * time.Second
	// quiet is how long the tests watch for something that must not
	// happen.
	quiet = 300 * time.Millisecond
)

// server is a real rendezvous server on 127.0.0.1 with a real SQLite store
// and a self-signed certificate, both kept in one directory so that the
// server can be stopped and started again at the same address, as after a
// restart.
type server struct {
	dir  string
	fp   string
	cert tls.Certificate
	addr string

	srv  *rendezvous.Server
	st   *store.SQLite
	done chan error
}

// startServer starts a server at addr ("" for a free port) with a new
// certificate. It is stopped with the test.
func startServer(t *testing.T, addr string) *server {
	t.Helper()
	s := &server{dir: t.TempDir(), addr: addr}
	cert, _, err := rendezvous.LoadOrCreateCertificate(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	s.cert, s.fp = cert, rendezvous.Fingerprint(cert)
	if s.addr == "" {
		s.addr = "127.0.0.1:0"
	}
	s.start(t)
	t.Cleanup(func() { s.stop(t) })
	return s
}

// start (re)starts the server at its address with its store.
func (s *server) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	st, err := store.Open(context.Background(), filepath.Join(s.dir, "rendezvous.db"))
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	srv, err := rendezvous.New(rendezvous.Config{
		TLS:      rendezvous.TLSConfig(s.cert),
		Password: password.Params{Memory: 64, Time: 1, Threads: 1}, // cheap for tests
		Logger:   testLogger(t, "server"),
	}, st)
	if err != nil {
		ln.Close()
		st.Close()
		t.Fatal(err)
	}
	s.srv, s.st, s.done = srv, st, make(chan error, 1)
	go func() { s.done <- srv.Serve(ln) }()
}

// stop shuts the server down, telling its clients, and closes the store.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		t.Errorf("server shutdown: %v", err)
	}
	if err := <-s.done; !errors.Is(err, rendezvous.ErrServerClosed) {
		t.Errorf("Serve returned %v", err)
	}
	if err := s.st.Close(); err != nil {
		t.Errorf("close store: %v", err)
	}
	s.srv = nil
}

// dial opens a plain client connection, as another device would.
func (s *server) dial(t *testing.T) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	c, err := client.Dial(ctx, s.addr, client.Options{Fingerprint: s.fp, ClientName: "elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testLogger logs to the test log with -v and nowhere otherwise.
func testLogger(t *testing.T, part string) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("part", part)
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// logBuffer collects a link's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// peer is a daemon's side of a link: it stores the pinned fingerprint and
// the session token the way the daemon does, and records every callback.
type peer struct {
	l    *link.Link
	logs logBuffer

	mu      sync.Mutex
	token   string
	pinErr  error
	pins    []string
	invalid int
	calls   []string // "session <token>" and "invalid", in order
}

// config is the link configuration of p to addr with fast back-off; tests
// adjust it before run.
func (p *peer) config(addr string) link.Config {
	return link.Config{
		Addr: addr,
		Pin: func(fp string) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.pins = append(p.pins, fp)
			return p.pinErr
		},
		Session: func() string {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.calls = append(p.calls, "session "+p.token)
			return p.token
		},
		OnSessionInvalid: func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.invalid++
			p.calls = append(p.calls, "invalid")
			p.token = "" // as the daemon forgets its token
		},
		ClientName:  "link-test",
		DialTimeout: 5 * time.Second,
		MinBackoff:  5 * time.Millisecond,
		MaxBackoff:  50 * time.Millisecond,
	}
}

// run makes the link and runs it until the test ends; the cleanup checks
// that Run returns nil and closes Events.
func (p *peer) run(t *testing.T, cfg link.Config) *link.Link {
	t.Helper()
	if cfg.Logger == nil {
		h := slog.NewTextHandler(io.MultiWriter(&p.logs, optionalLog(t)), &slog.HandlerOptions{Level: slog.LevelDebug})
		cfg.Logger = slog.New(h).With("part", "link")
	}
	p.l = link.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(eventTimeout):
			t.Fatal("Run did not return after its context ended")
		}
		for range p.l.Events() {
			// Events must be closed once Run has returned.
		}
	})
	return p.l
}

func optionalLog(t *testing.T) io.Writer {
	if testing.Verbose() {
		return logWriter{t}
	}
	return io.Discard
}

// start runs a link to s that pins on first use.
func start(t *testing.T, s *server) *peer {
	t.Helper()
	p := &peer{}
	p.run(t, p.config(s.addr))
	return p
}

func (p *peer) setToken(tok string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.token = tok
}

func (p *peer) getToken() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.token
}

func (p *peer) pinned() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.pins...)
}

func (p *peer) invalidCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.invalid
}

func (p *peer) callLog() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// next returns the link's next event.
func (p *peer) next(t *testing.T) link.Event {
	t.Helper()
	select {
	case ev, ok := <-p.l.Events():
		if !ok {
			t.Fatal("events closed")
		}
		return ev
	case <-time.After(eventTimeout):
		t.Fatalf("no event within %v", eventTimeout)
	}
	panic("unreachable")
}

// expect returns the next event that is not pushed by the server, which
// must be of kind.
func (p *peer) expect(t *testing.T, kind link.EventKind) link.Event {
	t.Helper()
	for {
		ev := p.next(t)
		if ev.Kind == link.EventServer {
			continue
		}
		if ev.Kind != kind {
			t.Fatalf("got event %s (err %v), want %s", kindName(ev.Kind), ev.Err, kindName(kind))
		}
		return ev
	}
}

// expectServer returns the next server event op; the link must stay up
// meanwhile.
func (p *peer) expectServer(t *testing.T, op string) link.Event {
	t.Helper()
	for {
		ev := p.next(t)
		if ev.Kind != link.EventServer {
			t.Fatalf("got event %s (err %v) while waiting for server event %s", kindName(ev.Kind), ev.Err, op)
		}
		if ev.Frame == nil {
			t.Fatal("server event without a frame")
		}
		if ev.Frame.Op == op {
			return ev
		}
	}
}

// noEvent checks that the link reports nothing but server events for a
// while.
func (p *peer) noEvent(t *testing.T, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-p.l.Events():
			if !ok {
				t.Fatal("events closed")
			}
			if ev.Kind != link.EventServer {
				t.Fatalf("unexpected event %s (err %v)", kindName(ev.Kind), ev.Err)
			}
		case <-timeout:
			return
		}
	}
}

func kindName(k link.EventKind) string {
	switch k {
	case link.EventUp:
		return "EventUp"
	case link.EventDown:
		return "EventDown"
	case link.EventServer:
		return "EventServer"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// register creates the account name through the link and stores its token.
func (p *peer) register(t *testing.T, name string) wire.Session {
	t.Helper()
	_, identity, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pk, _, err := keys.NewPrekey(identity, name, time.Now(), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server, err := keys.ParseServerID(p.l.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	proof, err := keys.SignProof(identity, name, server)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	sess, err := p.l.Authenticate(ctx, wire.OpRegister, wire.RegisterRequest{
		Username:    name,
		Password:    passwordOf(name),
		IdentityKey: identity.Public().(ed25519.PublicKey),
		Prekey:      pk,
		KeyProof:    proof,
	})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	p.setToken(sess.Token)
	return sess
}

func passwordOf(name string) string { return "pw-" + name + "-secret" }

// call runs op on the link, which must succeed.
func (p *peer) call(t *testing.T, op string, req, resp any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	if err := p.l.Call(ctx, op, req, resp); err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}

// wantOffline checks that Call fails at once with ErrOffline.
func wantOffline(t *testing.T, l *link.Link) {
	t.Helper()
	start := time.Now()
	err := l.Call(context.Background(), wire.OpPing, nil, nil)
	if !errors.Is(err, link.ErrOffline) {
		t.Fatalf("Call while down: err = %v, want ErrOffline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Call while down took %v to fail", d)
	}
}

// otherFingerprint is the fingerprint of a certificate no server uses.
func otherFingerprint(t *testing.T) string {
	t.Helper()
	cert, _, err := rendezvous.LoadOrCreateCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return rendezvous.Fingerprint(cert)
}

// freeAddr is an address where nothing listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestTrustOnFirstUse(t *testing.T) {
	s := startServer(t, "")
	p := start(t, s)
	l := p.l
	ev := p.expect(t, link.EventUp)
	if ev.Session != nil {
		t.Fatalf("EventUp with no token carries session %+v", ev.Session)
	}
	if got := p.pinned(); len(got) != 1 || got[0] != s.fp {
		t.Fatalf("Pin called with %q, want once with the server's fingerprint %s", got, s.fp)
	}
	if l.Fingerprint() != s.fp {
		t.Fatalf("Fingerprint() = %q, want %s", l.Fingerprint(), s.fp)
	}
	if !l.Connected() || l.HasSession() {
		t.Fatalf("Connected() = %v, HasSession() = %v; want up without a session", l.Connected(), l.HasSession())
	}
	p.call(t, wire.OpPing, nil, nil)

	// Reconnecting uses the pin: Pin is not called again.
	l.Reconnect()
	p.expect(t, link.EventDown)
	p.expect(t, link.EventUp)
	if got := p.pinned(); len(got) != 1 {
		t.Fatalf("Pin called %d times, want once", len(got))
	}
}

func TestPinnedFingerprint(t *testing.T) {
	s := startServer(t, "")
	other := otherFingerprint(t)
	var colons []string
	for i := 0; i < len(s.fp); i += 2 {
		colons = append(colons, strings.ToUpper(s.fp[i:i+2]))
	}
	tests := []struct {
		name        string
		fingerprint string
		connects    bool
	}{
		{"the server's", s.fp, true},
		{"as people type it", strings.Join(colons, ":"), true},
		{"with sha256 prefix", "sha256:" + strings.ToUpper(s.fp), true},
		{"another certificate's", other, false},
		{"malformed", "not-a-fingerprint", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &peer{}
			cfg := p.config(s.addr)
			cfg.Fingerprint = tt.fingerprint
			l := p.run(t, cfg)
			if tt.connects {
				p.expect(t, link.EventUp)
				p.call(t, wire.OpPing, nil, nil)
			} else {
				// Many attempts fit in this time; none may get through.
				p.noEvent(t, quiet)
				if l.Connected() {
					t.Fatal("Connected() with a wrong pin")
				}
				wantOffline(t, l)
			}
			if got := p.pinned(); len(got) != 0 {
				t.Fatalf("Pin called with %q although a fingerprint was pinned", got)
			}
			if l.Fingerprint() != tt.fingerprint {
				t.Fatalf("Fingerprint() = %q, want the pinned %q", l.Fingerprint(), tt.fingerprint)
			}
		})
	}
}

func TestWrongFingerprintIsLogged(t *testing.T) {
	s := startServer(t, "")
	p := &peer{}
	cfg := p.config(s.addr)
	cfg.Fingerprint = otherFingerprint(t)
	p.run(t, cfg)
	deadline := time.Now().Add(eventTimeout)
	for !strings.Contains(p.logs.String(), "does not match the pinned one") {
		if time.Now().After(deadline) {
			t.Fatalf("no fingerprint mismatch logged; log:\n%s", p.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := p.pinned(); len(got) != 0 {
		t.Fatalf("Pin called with %q", got)
	}
}

// TestCertificateReplaced checks that after trust on first use the link
// holds on to the pin: a different server at the same address (a
// replaced certificate, or someone in the middle) is refused.
func TestCertificateReplaced(t *testing.T) {
	s := startServer(t, "")
	p := start(t, s)
	p.expect(t, link.EventUp)
	s.stop(t)
	p.expect(t, link.EventDown)

	impostor := startServer(t, s.addr)
	if impostor.fp == s.fp {
		t.Fatal("both servers have the same certificate")
	}
	p.noEvent(t, quiet)
	if p.l.Connected() {
		t.Fatal("connected to a server with another certificate")
	}
	if got := p.pinned(); len(got) != 1 || got[0] != s.fp {
		t.Fatalf("Pin calls %q, want only the first server's %s", got, s.fp)
	}
	if p.l.Fingerprint() != s.fp {
		t.Fatalf("Fingerprint() = %q, want the first pin %s", p.l.Fingerprint(), s.fp)
	}

	// The real server back at its address is accepted again.
	impostor.stop(t)
	s.start(t)
	p.expect(t, link.EventUp)
}

// TestPinError checks that a pin that could not be stored refuses the
// connection, and that the next attempt asks again.
func TestPinError(t *testing.T) {
	s := startServer(t, "")
	p := &peer{pinErr: errors.New("disk full")}
	l := p.run(t, p.config(s.addr))
	// Every attempt pins again and fails: wait (bounded) for two, with
	// no event meanwhile, however slowly the machine runs.
	deadline := time.Now().Add(10 * time.Second)
	for len(p.pinned()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("Pin called %d times in 10s, want a call at every attempt", len(p.pinned()))
		}
		p.noEvent(t, quiet)
	}
	if l.Connected() || l.Fingerprint() != "" {
		t.Fatalf("Connected() = %v, Fingerprint() = %q after a failed pin", l.Connected(), l.Fingerprint())
	}
	wantOffline(t, l)

	p.mu.Lock()
	p.pinErr = nil
	p.mu.Unlock()
	p.expect(t, link.EventUp)
	if l.Fingerprint() != s.fp {
		t.Fatalf("Fingerprint() = %q, want %s", l.Fingerprint(), s.fp)
	}
}

func TestOffline(t *testing.T) {
	s := startServer(t, "")
	tests := []struct {
		name string
		link func(t *testing.T) *link.Link
	}{
		{"before Run", func(t *testing.T) *link.Link {
			p := &peer{}
			return link.New(p.config(s.addr))
		}},
		{"nothing listening", func(t *testing.T) *link.Link {
			p := &peer{}
			return p.run(t, p.config(freeAddr(t)))
		}},
		{"wrong pin", func(t *testing.T) *link.Link {
			p := &peer{}
			cfg := p.config(s.addr)
			cfg.Fingerprint = otherFingerprint(t)
			return p.run(t, cfg)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.link(t)
			if l.Connected() || l.HasSession() {
				t.Fatalf("Connected() = %v, HasSession() = %v; want down", l.Connected(), l.HasSession())
			}
			wantOffline(t, l)
			ctx := context.Background()
			if _, err := l.Authenticate(ctx, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: "x"}); !errors.Is(err, link.ErrOffline) {
				t.Fatalf("Authenticate while down: err = %v, want ErrOffline", err)
			}
			if l.HasSession() {
				t.Fatal("HasSession() after a failed Authenticate")
			}
			if err := l.Logout(ctx); !errors.Is(err, link.ErrOffline) {
				t.Fatalf("Logout while down: err = %v, want ErrOffline", err)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	s := startServer(t, "")
	p := start(t, s)
	l := p.l
	p.expect(t, link.EventUp)

	// Authenticated operations are refused before login, as the server's
	// own error rather than ErrOffline.
	ctx := context.Background()
	var werr *wire.Error
	if err := l.Call(ctx, wire.OpFriendsList, nil, nil); !errors.As(err, &werr) || werr.Code != wire.CodeNotAuthenticated {
		t.Fatalf("friends.list before login: err = %v, want %s", err, wire.CodeNotAuthenticated)
	}

	sess := p.register(t, "alice")
	if sess.Token == "" || sess.Profile.Username != "alice" {
		t.Fatalf("register returned %+v", sess)
	}
	if !l.HasSession() {
		t.Fatal("HasSession() false after register")
	}
	var fl wire.FriendsListResponse
	p.call(t, wire.OpFriendsList, nil, &fl)

	// A refused login is the server's error; the session stays.
	_, err := l.Authenticate(ctx, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: passwordOf("alice")})
	if !errors.As(err, &werr) || werr.Code != wire.CodeAlreadyAuth || errors.Is(err, link.ErrOffline) {
		t.Fatalf("second login on the connection: err = %v, want %s", err, wire.CodeAlreadyAuth)
	}
	if !l.HasSession() {
		t.Fatal("HasSession() false after a refused login")
	}

	if err := l.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if l.HasSession() || !l.Connected() {
		t.Fatalf("after Logout: HasSession() = %v, Connected() = %v; want connected without a session", l.HasSession(), l.Connected())
	}

	// Logged out, the connection can log in again; a wrong password is
	// refused with the server's error.
	_, err = l.Authenticate(ctx, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: "wrong-password"})
	if !errors.As(err, &werr) || werr.Code != wire.CodeBadCredentials {
		t.Fatalf("login with a wrong password: err = %v, want %s", err, wire.CodeBadCredentials)
	}
	if l.HasSession() {
		t.Fatal("HasSession() after a refused login")
	}
}

// TestLoginAfterLogout checks that a link logged out can log in again.
func TestLoginAfterLogout(t *testing.T) {
	s := startServer(t, "")
	p := start(t, s)
	p.expect(t, link.EventUp)
	p.register(t, "alice")
	ctx := context.Background()
	if err := p.l.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	sess, err := p.l.Authenticate(ctx, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: passwordOf("alice")})
	if err != nil {
		t.Fatalf("login after logout: %v", err)
	}
	if sess.Profile.Username != "alice" || !p.l.HasSession() {
		t.Fatalf("login returned %+v, HasSession() = %v", sess, p.l.HasSession())
	}
}

// TestResume checks that a restarted daemon resumes its stored session.
func TestResume(t *testing.T) {
	s := startServer(t, "")
	first := start(t, s)
	first.expect(t, link.EventUp)
	sess := first.register(t, "alice")

	p := &peer{token: sess.Token}
	cfg := p.config(s.addr)
	cfg.Fingerprint = first.l.Fingerprint()
	l := p.run(t, cfg)
	ev := p.expect(t, link.EventUp)
	if ev.Session == nil {
		t.Fatal("EventUp carries no session although a valid token was stored")
	}
	if ev.Session.Profile.Username != "alice" || ev.Session.Token == "" {
		t.Fatalf("resumed session %+v", ev.Session)
	}
	if !l.HasSession() {
		t.Fatal("HasSession() false after resume")
	}
	if n := p.invalidCount(); n != 0 {
		t.Fatalf("OnSessionInvalid called %d times for a valid token", n)
	}
	var fl wire.FriendsListResponse
	p.call(t, wire.OpFriendsList, nil, &fl)

	// The older connection of the account was signed out meanwhile.
	first.expectServer(t, wire.EvSignedOut)
	if n := first.invalidCount(); n != 1 {
		t.Fatalf("signed-out link: OnSessionInvalid called %d times, want 1", n)
	}
}

func TestRefusedToken(t *testing.T) {
	s := startServer(t, "")
	tests := []struct {
		name  string
		token func(t *testing.T) string
	}{
		{"unknown", func(t *testing.T) string { return "bogus-token" }},
		{"too long", func(t *testing.T) string { return strings.Repeat("x", wire.MaxToken+1) }},
		{"logged out", func(t *testing.T) string {
			p := start(t, s)
			p.expect(t, link.EventUp)
			sess := p.register(t, "bob")
			if err := p.l.Logout(context.Background()); err != nil {
				t.Fatal(err)
			}
			return sess.Token
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &peer{token: tt.token(t)}
			l := p.run(t, p.config(s.addr))
			ev := p.expect(t, link.EventUp)
			if ev.Session != nil {
				t.Fatalf("EventUp carries session %+v for a refused token", ev.Session)
			}
			if n := p.invalidCount(); n != 1 {
				t.Fatalf("OnSessionInvalid called %d times, want once before EventUp", n)
			}
			if !l.Connected() || l.HasSession() {
				t.Fatalf("Connected() = %v, HasSession() = %v; want connected without a session", l.Connected(), l.HasSession())
			}
			// The token is forgotten: the next connection does not present
			// it again.
			l.Reconnect()
			p.expect(t, link.EventDown)
			if ev := p.expect(t, link.EventUp); ev.Session != nil {
				t.Fatalf("EventUp after reconnect carries %+v", ev.Session)
			}
			if n := p.invalidCount(); n != 1 {
				t.Fatalf("OnSessionInvalid called %d times, want once", n)
			}
		})
	}
}

// TestServerRestart checks that the link notices the server going away,
// fails calls at once meanwhile, and comes back with its session when the
// server does.
func TestServerRestart(t *testing.T) {
	s := startServer(t, "")
	p := start(t, s)
	l := p.l
	p.expect(t, link.EventUp)
	p.register(t, "alice")

	for i := range 2 {
		s.stop(t)
		// Even before the link has noticed, a call on the dead connection
		// reports it offline rather than as some network error.
		wantOffline(t, l)
		down := p.expect(t, link.EventDown)
		if down.Err == nil {
			t.Fatal("EventDown without a reason")
		}
		if l.Connected() || l.HasSession() {
			t.Fatalf("Connected() = %v, HasSession() = %v after EventDown", l.Connected(), l.HasSession())
		}
		wantOffline(t, l)
		p.noEvent(t, 50*time.Millisecond) // it keeps trying meanwhile

		s.start(t)
		up := p.expect(t, link.EventUp)
		if up.Session == nil || up.Session.Profile.Username != "alice" {
			t.Fatalf("restart %d: EventUp session %+v, want alice's resumed", i, up.Session)
		}
		if !l.HasSession() {
			t.Fatalf("restart %d: HasSession() false", i)
		}
		var fl wire.FriendsListResponse
		p.call(t, wire.OpFriendsList, nil, &fl)
	}
	if n := p.invalidCount(); n != 0 {
		t.Fatalf("OnSessionInvalid called %d times across restarts", n)
	}
}

// TestSignedOutElsewhere checks that a link whose session another device
// took over forgets its token before it reconnects, so it never takes the
// session back.
func TestSignedOutElsewhere(t *testing.T) {
	tests := []struct {
		name      string
		elsewhere func(t *testing.T, c *client.Client, token string)
	}{
		{"login", func(t *testing.T, c *client.Client, _ string) {
			req := wire.LoginRequest{Username: "alice", Password: passwordOf("alice")}
			if err := c.Call(context.Background(), wire.OpLogin, req, nil); err != nil {
				t.Fatal(err)
			}
		}},
		// The same token on another device (a copied data directory):
		// it stays valid, so only the link forgetting it prevents the
		// two from signing each other out in turn.
		{"resume with the same token", func(t *testing.T, c *client.Client, token string) {
			if err := c.Call(context.Background(), wire.OpResume, wire.ResumeRequest{Token: token}, nil); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, "")
			p := start(t, s)
			l := p.l
			p.expect(t, link.EventUp)
			sess := p.register(t, "alice")
			before := len(p.callLog())

			other := s.dial(t)
			tt.elsewhere(t, other, sess.Token)

			ev := p.expectServer(t, wire.EvSignedOut)
			if !strings.Contains(string(ev.Frame.Body), wire.SignedOutElsewhere) {
				t.Errorf("signed_out body %s, want reason %s", ev.Frame.Body, wire.SignedOutElsewhere)
			}
			p.expect(t, link.EventDown)
			if n := p.invalidCount(); n != 1 {
				t.Fatalf("OnSessionInvalid called %d times by EventDown, want once", n)
			}
			if ev := p.expect(t, link.EventUp); ev.Session != nil {
				t.Fatalf("reconnected with session %+v; the old token was presented again", ev.Session)
			}
			if l.HasSession() {
				t.Fatal("HasSession() after being signed out")
			}
			// OnSessionInvalid ran before the reconnection asked for a
			// token.
			after := p.callLog()[before:]
			if len(after) < 2 || after[0] != "invalid" {
				t.Fatalf("callbacks after sign-out %q, want invalid first", after)
			}
			for _, c := range after[1:] {
				if c != "session " {
					t.Fatalf("callbacks after sign-out %q: a token was offered again", after)
				}
			}
			// The other device keeps its session.
			timeout := time.After(quiet)
		watch:
			for {
				select {
				case f, ok := <-other.Events():
					if !ok {
						t.Fatalf("the other device's connection ended: %v", other.Err())
					}
					if f.Op == wire.EvSignedOut {
						t.Fatal("the link took the session back from the other device")
					}
				case <-timeout:
					break watch
				}
			}
			if err := other.Call(context.Background(), wire.OpFriendsList, nil, nil); err != nil {
				t.Fatalf("other device: %v", err)
			}
		})
	}
}

func TestReconnect(t *testing.T) {
	s := startServer(t, "")
	p := &peer{}
	cfg := p.config(s.addr)
	// Back-off far longer than the test: Reconnect must not wait for it.
	cfg.MinBackoff, cfg.MaxBackoff = time.Minute, time.Minute
	l := p.run(t, cfg)
	p.expect(t, link.EventUp)
	p.register(t, "alice")

	t.Run("while up", func(t *testing.T) {
		for range 3 { // the back-off does not grow with each Reconnect either
			l.Reconnect()
			p.expect(t, link.EventDown)
			ev := p.expect(t, link.EventUp)
			if ev.Session == nil || ev.Session.Profile.Username != "alice" {
				t.Fatalf("EventUp after Reconnect carries %+v, want alice's session resumed", ev.Session)
			}
			if !l.HasSession() {
				t.Fatal("HasSession() false after Reconnect")
			}
		}
	})

	t.Run("while down", func(t *testing.T) {
		s.stop(t)
		p.expect(t, link.EventDown)
		s.start(t)
		p.noEvent(t, 50*time.Millisecond) // waiting out the back-off
		l.Reconnect()
		ev := p.expect(t, link.EventUp)
		if ev.Session == nil {
			t.Fatal("EventUp after Reconnect carries no session")
		}
	})
}

// TestEventsOrder checks that every EventDown follows an EventUp and the
// other way round, whatever happens.
func TestEventsOrder(t *testing.T) {
	s := startServer(t, "")
	p := start(t, s)
	p.expect(t, link.EventUp)
	p.register(t, "alice")
	for range 5 {
		p.l.Reconnect()
	}
	s.stop(t)
	s.start(t)
	for range 3 {
		p.l.Reconnect()
	}
	// Check the whole sequence until the link is up and stays so for a
	// while. A quiet spell while it is down is a dial in progress (slow
	// on a loaded machine), not the end: only the deadline fails.
	last := link.EventUp
	deadline := time.After(eventTimeout)
	for {
		select {
		case ev := <-p.l.Events():
			if ev.Kind == link.EventServer {
				continue
			}
			if ev.Kind == last {
				t.Fatalf("%s after %s", kindName(ev.Kind), kindName(last))
			}
			last = ev.Kind
		case <-time.After(quiet):
			if last == link.EventUp && p.l.Connected() {
				return
			}
		case <-deadline:
			t.Fatalf("the link did not come back up within %v; last event %s, Connected() = %v",
				eventTimeout, kindName(last), p.l.Connected())
		}
	}
}

func TestRunStops(t *testing.T) {
	s := startServer(t, "")
	p := &peer{}
	l := link.New(p.config(s.addr))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	select {
	case ev := <-l.Events():
		if ev.Kind != link.EventUp {
			t.Fatalf("first event %s", kindName(ev.Kind))
		}
	case <-time.After(eventTimeout):
		t.Fatal("no EventUp")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v, want nil", err)
		}
	case <-time.After(eventTimeout):
		t.Fatal("Run did not return")
	}
	for ev := range l.Events() {
		if ev.Kind == link.EventUp {
			t.Fatal("EventUp after cancel")
		}
	}
	if l.Connected() || l.HasSession() {
		t.Fatal("still connected after Run returned")
	}
	wantOffline(t, l)
}

func TestWaitConnected(t *testing.T) {
	s := startServer(t, "")
	p := &peer{}
	cfg := p.config(s.addr)
	cfg.Fingerprint = otherFingerprint(t) // never connects
	refused := p.run(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if refused.WaitConnected(ctx) {
		t.Fatal("WaitConnected() = true for a link that cannot connect")
	}

	ok := start(t, s)
	ctx, cancel = context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	if !ok.l.WaitConnected(ctx) || !ok.l.Connected() {
		t.Fatal("WaitConnected() = false for a link that connects")
	}
}
