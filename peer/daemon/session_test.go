package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
	"github.com/lanchat/lanchat/peer/link"
)

type sessionTest struct {
	s        *session
	link     *fakeLink
	db       *history.Store
	home     *home.Home
	started  atomic.Int32 // startIdentity calls
	onlines  atomic.Int32
	endings  atomic.Int32
	listener atomic.Bool
}

func newSessionTest(t *testing.T) *sessionTest {
	t.Helper()
	h, err := home.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &sessionTest{link: newFakeLink(), db: db, home: h}
	st.s = &session{
		home: h, link: st.link, db: db, log: slog.New(slog.DiscardHandler),
		prekeyLifetime: DefaultPrekeyLifetime, relayRetention: DefaultRelayRetention,
		startIdentity: func(ed25519.PrivateKey) error { st.started.Add(1); st.listener.Store(true); return nil },
		hasListener:   st.listener.Load,
		online:        func() { st.onlines.Add(1) },
		ended:         func() { st.endings.Add(1) },
	}
	return st
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var aerr *api.Error
	if !errors.As(err, &aerr) || aerr.Code != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func TestLoginMakesIdentityAndPrekey(t *testing.T) {
	st := newSessionTest(t)
	ctx := context.Background()
	if _, err := st.s.requireLogin(); err == nil {
		t.Fatal("logged in before login")
	}
	me, err := st.s.Login(ctx, api.LoginRequest{Username: "Alice", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if me.Username != "alice" || me.Fingerprint == "" {
		t.Errorf("Login = %+v", me)
	}
	if got := st.link.called(); !slices.Equal(got, []string{wire.OpLogin}) {
		t.Errorf("calls %v", got)
	}
	if st.started.Load() != 1 || st.onlines.Load() != 1 {
		t.Errorf("listener started %d times, online %d times; want 1, 1", st.started.Load(), st.onlines.Load())
	}
	if key, err := st.home.Identity(); err != nil || !key.Equal(st.s.key()) {
		t.Errorf("identity on disk: %v", err)
	}
	if user, tok, err := st.home.Token(); err != nil || user != "alice" || tok != "token-alice" {
		t.Errorf("token on disk = %q, %q, %v", user, tok, err)
	}
	if _, err := st.db.CurrentPrekey(ctx); err != nil {
		t.Errorf("no prekey secret kept: %v", err)
	}
	if u, err := st.s.requireLogin(); err != nil || u != "alice" {
		t.Errorf("requireLogin = %q, %v", u, err)
	}
	_, err = st.s.Register(ctx, api.RegisterRequest{Username: "alice", Password: "pw"})
	wantCode(t, err, api.CodeConflict)

	// A second login (after logout) keeps the identity and the listener.
	if err := st.s.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if st.endings.Load() != 1 || st.s.self() != "" {
		t.Error("logout left the session up")
	}
	if _, err := st.s.Login(ctx, api.LoginRequest{Username: "alice", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	if st.started.Load() != 1 {
		t.Error("a second login with the same key restarted the listener")
	}
	// This home holds alice's account: nobody else logs in with it.
	st.s.Logout(ctx)
	_, err = st.s.Login(ctx, api.LoginRequest{Username: "bob", Password: "pw"})
	wantCode(t, err, api.CodeConflict)
}

func TestLoginNeedsTheServer(t *testing.T) {
	st := newSessionTest(t)
	ctx := context.Background()
	st.link.connected = false
	_, err := st.s.Login(ctx, api.LoginRequest{Username: "alice", Password: "pw"})
	wantCode(t, err, api.CodeUnavailable)
	st.link.lastErr = link.ErrFingerprintMismatch
	_, err = st.s.Register(ctx, api.RegisterRequest{Username: "alice", Password: "pw"})
	if wantCode(t, err, api.CodeUnavailable); !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a pin mismatch: %v", err)
	}
	// A server found on the LAN must be confirmed first.
	st.link.connected, st.link.unconf = true, serverID
	_, err = st.s.Register(ctx, api.RegisterRequest{Username: "alice", Password: "pw"})
	wantCode(t, err, api.CodeInvalid)
	_, err = st.s.Register(ctx, api.RegisterRequest{Username: "alice", Password: "pw", ServerFingerprint: strings.Repeat("cd", 32)})
	wantCode(t, err, api.CodeConflict)
	if _, err = st.s.Register(ctx, api.RegisterRequest{Username: "alice", Password: "pw", ServerFingerprint: serverID}); err != nil {
		t.Fatal(err)
	}
	// The server refuses: its words, under the API's code.
	st.s.Logout(ctx)
	st.link.handle = func(string, any, any) error { return wire.Errorf(wire.CodeBadCredentials, "wrong password") }
	_, err = st.s.Login(ctx, api.LoginRequest{Username: "alice", Password: "bad"})
	wantCode(t, err, api.CodeAuth)
	_, err = st.s.Login(ctx, api.LoginRequest{Username: "no such user!", Password: "pw"})
	wantCode(t, err, api.CodeInvalid)
}

func TestSignedOutSaysWhy(t *testing.T) {
	st := newSessionTest(t)
	ctx := context.Background()
	if _, err := st.s.Login(ctx, api.LoginRequest{Username: "alice", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	st.s.signOut("logged in elsewhere")
	_, err := st.s.requireLogin()
	if wantCode(t, err, api.CodeNotLoggedIn); !strings.Contains(err.Error(), "logged in elsewhere") {
		t.Errorf("requireLogin after a sign-out: %v", err)
	}
	if st.s.signedOutReason() != "logged in elsewhere" || st.endings.Load() != 1 {
		t.Error("the sign-out was not recorded")
	}
	if _, tok, _ := st.home.Token(); tok != "" {
		t.Error("the token survived the sign-out")
	}
	for _, err := range []error{st.s.Passwd(ctx, api.PasswdRequest{}), st.s.Logout(ctx)} {
		wantCode(t, err, api.CodeNotLoggedIn)
	}
	_, err = st.s.SetProfile(ctx, api.ProfileRequest{})
	wantCode(t, err, api.CodeNotLoggedIn)
	st.s.resumed(wire.Profile{Username: "alice"})
	if st.s.signedOutReason() != "" || st.s.self() != "alice" {
		t.Error("resuming did not clear the sign-out")
	}
}

func TestProfileAndPassword(t *testing.T) {
	st := newSessionTest(t)
	ctx := context.Background()
	if _, err := st.s.Login(ctx, api.LoginRequest{Username: "alice", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	st.link.handle = func(op string, req, resp any) error {
		if p, ok := resp.(*wire.Profile); ok {
			*p = wire.Profile{Username: "alice", DisplayName: *req.(wire.ProfileUpdateRequest).DisplayName}
		}
		return nil
	}
	name := "Alice A."
	me, err := st.s.SetProfile(ctx, api.ProfileRequest{DisplayName: &name})
	if err != nil || me.DisplayName != "Alice A." || st.s.profile().DisplayName != "Alice A." {
		t.Errorf("SetProfile = %+v, %v", me, err)
	}
	if err := st.s.Passwd(ctx, api.PasswdRequest{Old: "pw", New: "pw2"}); err != nil {
		t.Error(err)
	}
	st.link.called()
	st.link.handle = func(string, any, any) error { return errors.New("broken") }
	if err := st.s.Passwd(ctx, api.PasswdRequest{Old: "pw", New: "pw2"}); err == nil {
		t.Error("Passwd succeeded on a failing server")
	}
}

// TestPrekeyRotationSchedule: the prekey is replaced once two thirds of
// its lifetime are used, and secrets are deleted a retention after they
// expired; nothing is published without a session.
func TestPrekeyRotationSchedule(t *testing.T) {
	st := newSessionTest(t)
	ctx := context.Background()
	st.s.prekeyLifetime = 3 * time.Hour
	if _, err := st.s.Login(ctx, api.LoginRequest{Username: "alice", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	st.link.called()
	st.s.rotatePrekey(ctx)
	if got := st.link.called(); len(got) != 0 {
		t.Fatalf("a fresh prekey was rotated: %v", got)
	}
	// Seen with a longer lifetime, the same prekey has used two thirds.
	st.s.prekeyLifetime = 9 * time.Hour
	old := history.Prekey{ID: "old", Secret: []byte("s"), Created: time.Now().Add(-60 * 24 * time.Hour), Expires: time.Now().Add(-40 * 24 * time.Hour)}
	if err := st.db.SavePrekey(ctx, old); err != nil {
		t.Fatal(err)
	}
	st.s.rotatePrekey(ctx)
	if got := st.link.called(); !slices.Equal(got, []string{wire.OpPrekeyRotate}) {
		t.Fatalf("calls %v, want a rotation", got)
	}
	if _, err := st.db.Prekey(ctx, "old"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("a secret expired beyond the retention is kept: %v", err)
	}
	st.link.setSession(false)
	st.s.prekeyLifetime = 100 * time.Hour
	st.s.rotatePrekey(ctx)
	if got := st.link.called(); len(got) != 0 {
		t.Errorf("rotated without a session: %v", got)
	}
}
