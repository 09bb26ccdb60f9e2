package rendezvous

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/password"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// testPassword is cheap argon2id so tests run fast; production uses
// password.Default.
var testPassword = password.Params{Memory: 64, Time: 1, Threads: 1}

// testServer is a real server on 127.0.0.1 with a real SQLite store and a
// self-signed certificate.
type testServer struct {
	srv   *Server
	store *store.SQLite
	addr  string
	fp    string
	dir   string
	done  chan error
}

// startServer starts a server; mod may adjust its config.
func startServer(t *testing.T, mod func(*Config)) *testServer {
	t.Helper()
	return startServerWrapped(t, mod, nil)
}

// startServerWrapped starts a server whose store is wrap(the SQLite
// store), so a test can make store calls fail; a nil wrap uses the store
// as it is.
func startServerWrapped(t *testing.T, mod func(*Config), wrap func(store.Store) store.Store) *testServer {
	t.Helper()
	dir := t.TempDir()
	cert, _, err := LoadOrCreateCertificate(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "rendezvous.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		TLS:      TLSConfig(cert),
		Password: testPassword,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(&testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mod != nil {
		mod(&cfg)
	}
	var backing store.Store = st
	if wrap != nil {
		backing = wrap(st)
	}
	srv, err := New(cfg, backing)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, store: st, addr: ln.Addr().String(), fp: Fingerprint(cert), dir: dir, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-ts.done
		st.Close()
	})
	return ts
}

type testLogWriter struct{ t *testing.T }

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// dial opens a pinned client connection that is closed with the test.
func (ts *testServer) dial(t *testing.T) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, ts.addr, client.Options{Fingerprint: ts.fp, ClientName: "test"})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testUser is a registered account with its keys and live connection.
type testUser struct {
	name     string
	password string
	identity ed25519.PrivateKey
	c        *client.Client
	session  wire.Session
	relayed  []wire.RelayEvent // envelopes of a relay event not yet taken by nextRelay
}

// newIdentity makes an identity key and a prekey signed for name as a peer
// would.
func newIdentity(t *testing.T, name string) (ed25519.PrivateKey, keys.SignedPrekey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pk, _, err := keys.NewPrekey(priv, strings.ToLower(name), time.Now(), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return priv, pk
}

// proof is the key proof a peer sends with register, or with a login that
// brings a new identity key.
func (ts *testServer) proof(t *testing.T, identity ed25519.PrivateKey, name string) []byte {
	t.Helper()
	sig, err := keys.SignProof(identity, strings.ToLower(name), ts.srv.id)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// register creates and logs in a user on a fresh connection.
func (ts *testServer) register(t *testing.T, name string) *testUser {
	t.Helper()
	u := &testUser{name: name, password: "pw-" + name + "-secret", c: ts.dial(t)}
	var pk keys.SignedPrekey
	u.identity, pk = newIdentity(t, name)
	u.session = call[wire.Session](t, u.c, wire.OpRegister, wire.RegisterRequest{
		Username:    name,
		Password:    u.password,
		DisplayName: "User " + name,
		IdentityKey: u.identity.Public().(ed25519.PublicKey),
		Prekey:      pk,
		KeyProof:    ts.proof(t, u.identity, name),
	})
	return u
}

// login logs u in again on a new connection.
func (ts *testServer) login(t *testing.T, u *testUser) *testUser {
	t.Helper()
	c := ts.dial(t)
	sess := call[wire.Session](t, c, wire.OpLogin, wire.LoginRequest{Username: u.name, Password: u.password})
	return &testUser{name: u.name, password: u.password, identity: u.identity, c: c, session: sess}
}

// befriend makes a and b friends.
func befriend(t *testing.T, a, b *testUser) {
	t.Helper()
	call[wire.FriendRequestResponse](t, a.c, wire.OpFriendRequest, wire.UserRequest{Username: b.name})
	call[wire.Empty](t, b.c, wire.OpFriendAccept, wire.UserRequest{Username: a.name})
}

// call runs a request that must succeed and returns its decoded reply.
func call[Resp any](t *testing.T, c *client.Client, op string, req any) Resp {
	t.Helper()
	var resp Resp
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Call(ctx, op, req, &resp); err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return resp
}

// callErr runs a request that must fail with code and returns the error.
func callErr(t *testing.T, c *client.Client, op string, req any, code string) *wire.Error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var resp json.RawMessage
	err := c.Call(ctx, op, req, &resp)
	var werr *wire.Error
	if !errors.As(err, &werr) {
		t.Fatalf("%s: want error %s, got %v (reply %s)", op, code, err, resp)
	}
	if werr.Code != code {
		t.Fatalf("%s: want error %s, got %v", op, code, werr)
	}
	return werr
}

// waitEvent returns the next event named op, skipping others, or fails
// after a few seconds.
func waitEvent[Body any](t *testing.T, c *client.Client, op string) Body {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case f, ok := <-c.Events():
			if !ok {
				t.Fatalf("waiting for %s: connection closed: %v", op, c.Err())
			}
			if f.Op != op {
				continue
			}
			var b Body
			if err := json.Unmarshal(f.Body, &b); err != nil {
				t.Fatalf("decode %s event: %v", op, err)
			}
			return b
		case <-timeout:
			t.Fatalf("no %s event within 5s", op)
		}
	}
}

// noEvent asserts that no event named op arrives within d.
func noEvent(t *testing.T, c *client.Client, op string, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f, ok := <-c.Events():
			if !ok {
				return
			}
			if f.Op == op {
				t.Fatalf("unexpected %s event: %s", op, f.Body)
			}
		case <-timeout:
			return
		}
	}
}
