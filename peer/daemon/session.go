package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
	"github.com/lanchat/lanchat/peer/link"
)

// sessionLink is what the session needs of the server link (a
// *link.Link).
type sessionLink interface {
	Authenticate(ctx context.Context, op string, req any) (wire.Session, error)
	Logout(ctx context.Context) error
	Call(ctx context.Context, op string, req, resp any) error
	HasSession() bool
	WaitConnected(ctx context.Context) bool
	LastError() error
	Addr() string
	Fingerprint() string
	Unconfirmed() (addr, fingerprint string)
	Confirm(fingerprint string) error
}

// prekeyStore keeps the secrets of the prekeys the session published (a
// *history.Store).
type prekeyStore interface {
	SavePrekey(ctx context.Context, p history.Prekey) error
	CurrentPrekey(ctx context.Context) (history.Prekey, error)
	DeletePrekeysBefore(ctx context.Context, t time.Time) (int, error)
}

// session is the user's account on this daemon: the identity key, the
// profile of the logged-in user (or why the server signed them out),
// register, login and logout, and the prekeys published for the relay.
// It owns its lock; what it needs of the rest of the daemon it is given
// as functions.
type session struct {
	home *home.Home
	link sessionLink // set once the link exists
	db   prekeyStore // set once history is open
	log  *slog.Logger

	prekeyLifetime time.Duration
	relayRetention time.Duration

	// startIdentity (re)starts the direct listener, whose certificate
	// carries the identity key; hasListener reports whether one runs.
	startIdentity func(ed25519.PrivateKey) error
	hasListener   func() bool
	// online runs, on a goroutine of the owner, after each login.
	online func()
	// ended closes what the session kept open (contacts' connections)
	// after a logout or sign-out.
	ended func()
	// keepAvatar keeps (or forgets) the avatar the user just set.
	keepAvatar func(ctx context.Context, me string, avatar *[]byte)

	mu        sync.Mutex
	identity  ed25519.PrivateKey // nil until register or login makes one
	me        wire.Profile       // zero while not logged in
	signedOut string             // why the server ended the session, if it did
}

// self returns the logged-in username, or "".
func (s *session) self() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.me.Username
}

// profile returns the logged-in user's profile (zero if none).
func (s *session) profile() wire.Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.me
}

// key returns the identity key, or nil.
func (s *session) key() ed25519.PrivateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identity
}

// setIdentity makes key the identity.
func (s *session) setIdentity(key ed25519.PrivateKey) {
	s.mu.Lock()
	s.identity = key
	s.mu.Unlock()
}

// resumed records the profile the server confirmed for the stored
// session, or assumes user's while the server has not answered.
func (s *session) resumed(p wire.Profile) {
	s.mu.Lock()
	s.me, s.signedOut = p, ""
	s.mu.Unlock()
}

// signOut records that the server ended the session, and why.
func (s *session) signOut(reason string) {
	s.mu.Lock()
	s.signedOut = reason
	s.mu.Unlock()
	s.sessionInvalid()
	s.ended()
}

func (s *session) signedOutReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signedOut
}

// requireLogin returns the logged-in username or an error saying why there
// is none.
func (s *session) requireLogin() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.me.Username != "" {
		return s.me.Username, nil
	}
	if s.signedOut != "" {
		return "", api.Errorf(api.CodeNotLoggedIn, "signed out (%s); log in again with: lanchat login USER", s.signedOut)
	}
	return "", api.Errorf(api.CodeNotLoggedIn, "not logged in; run: lanchat register USER, or lanchat login USER")
}

// sessionToken gives the link the stored token to resume with.
func (s *session) sessionToken() string {
	_, tok, err := s.home.Token()
	if err != nil {
		return ""
	}
	return tok
}

// sessionInvalid runs when the server refuses the stored token or signs
// this daemon out: the token is forgotten and the user must log in again.
func (s *session) sessionInvalid() {
	if err := s.home.ClearToken(); err != nil {
		s.log.Warn("clear session token", "err", err)
	}
	s.mu.Lock()
	s.me = wire.Profile{}
	s.mu.Unlock()
}

// Register creates the account on the server with a new identity key (or
// the home's existing one) and a first signed prekey, and logs in.
func (s *session) Register(ctx context.Context, req api.RegisterRequest) (api.Me, error) {
	if err := s.confirmServer(req.ServerFingerprint); err != nil {
		return api.Me{}, err
	}
	a, err := s.prepareAuth(ctx, req.Username)
	if err != nil {
		return api.Me{}, err
	}
	sess, err := s.link.Authenticate(ctx, wire.OpRegister, wire.RegisterRequest{
		Username:    a.name,
		Password:    req.Password,
		DisplayName: req.DisplayName,
		Email:       req.Email,
		Phone:       req.Phone,
		IdentityKey: a.key.Public().(ed25519.PublicKey),
		Prekey:      a.prekey,
		KeyProof:    a.proof,
	})
	if err != nil {
		return api.Me{}, fromServer(err)
	}
	return s.loggedIn(sess, a.key, a.created)
}

// Login logs in with a password. The home's identity key (a new one if it
// has none: a login from a new machine) and a fresh prekey are sent with
// it; the server tells contacts if the key changed.
func (s *session) Login(ctx context.Context, req api.LoginRequest) (api.Me, error) {
	if err := s.confirmServer(req.ServerFingerprint); err != nil {
		return api.Me{}, err
	}
	a, err := s.prepareAuth(ctx, req.Username)
	if err != nil {
		return api.Me{}, err
	}
	sess, err := s.link.Authenticate(ctx, wire.OpLogin, wire.LoginRequest{
		Username:    a.name,
		Password:    req.Password,
		IdentityKey: a.key.Public().(ed25519.PublicKey),
		Prekey:      &a.prekey,
		KeyProof:    a.proof,
	})
	if err != nil {
		return api.Me{}, fromServer(err)
	}
	return s.loggedIn(sess, a.key, a.created)
}

// prepareAuth checks that user may authenticate from this daemon now and
// gets the identity key (making it on first use) and a fresh prekey.
func (s *session) prepareAuth(ctx context.Context, user string) (auth, error) {
	if err := s.canAuthenticate(ctx); err != nil {
		return auth{}, err
	}
	name, werr := wire.NormalizeUsername("username", user)
	if werr != nil {
		return auth{}, fromWire(werr)
	}
	if err := s.checkAccount(name); err != nil {
		return auth{}, err
	}
	// The proof names the server whose certificate the link pinned, so
	// it is worth nothing to any other server.
	server, err := keys.ParseServerID(s.link.Fingerprint())
	if err != nil {
		return auth{}, fmt.Errorf("pinned server certificate: %w", err)
	}
	key, created, err := s.identityForAccount()
	if err != nil {
		return auth{}, err
	}
	proof, err := keys.SignProof(key, name, server)
	if err != nil {
		return auth{}, fmt.Errorf("sign key proof: %w", err)
	}
	spk, err := s.newPrekey(ctx, key, name)
	if err != nil {
		return auth{}, err
	}
	return auth{name: name, key: key, created: created, prekey: spk, proof: proof}, nil
}

// canAuthenticate refuses register and login while a user is logged in or
// the server is out of reach.
func (s *session) canAuthenticate(ctx context.Context) error {
	s.mu.Lock()
	me := s.me.Username
	s.mu.Unlock()
	if me != "" {
		return api.Errorf(api.CodeConflict, "already logged in as %s; run lanchat logout first", me)
	}
	// Just after the daemon starts, the first dial may still be under way.
	wctx, cancel := context.WithTimeout(ctx, connectWait)
	defer cancel()
	if !s.link.WaitConnected(wctx) {
		if err := s.link.LastError(); errors.Is(err, link.ErrFingerprintMismatch) {
			return fromServer(err)
		}
		return api.Errorf(api.CodeUnavailable, "the server %s is unreachable; try again when it is back (lanchat doctor says why)", orUnknown(s.link.Addr()))
	}
	return nil
}

// checkAccount refuses to use this data directory for another account
// than the one it already holds: the identity key and the history belong
// to that account.
func (s *session) checkAccount(name string) error {
	owner, err := s.home.Account()
	if err != nil {
		return err
	}
	if owner != "" && owner != name {
		return api.Errorf(api.CodeConflict, "this data directory (%s) belongs to %s; run a daemon with another --home for %s", s.home.Dir(), owner, name)
	}
	return nil
}

// identityForAccount returns the home's identity key, making one if it
// has none.
func (s *session) identityForAccount() (ed25519.PrivateKey, bool, error) {
	s.mu.Lock()
	key := s.identity
	s.mu.Unlock()
	if key != nil {
		return key, false, nil
	}
	key, err := s.home.CreateIdentity()
	if err != nil {
		return nil, false, fmt.Errorf("make identity key: %w", err)
	}
	// Keep it even if this register or login fails: the file exists now,
	// and the next attempt must use it rather than make another.
	s.mu.Lock()
	s.identity = key
	s.mu.Unlock()
	return key, true, nil
}

// loggedIn records a new session: the token is stored so the daemon
// resumes after a restart, and a new identity starts the direct listener.
func (s *session) loggedIn(sess wire.Session, key ed25519.PrivateKey, newIdentity bool) (api.Me, error) {
	if err := s.home.SetAccount(sess.Profile.Username); err != nil {
		return api.Me{}, fmt.Errorf("save account: %w", err)
	}
	if err := s.home.SaveToken(sess.Profile.Username, sess.Token); err != nil {
		return api.Me{}, fmt.Errorf("save session: %w", err)
	}
	s.mu.Lock()
	s.me = sess.Profile
	s.signedOut = ""
	s.mu.Unlock()
	if newIdentity || !s.hasListener() {
		if err := s.startIdentity(key); err != nil {
			return api.Me{}, err
		}
	}
	s.online()
	return s.meOf(sess.Profile), nil
}

func (s *session) meOf(p wire.Profile) api.Me {
	s.mu.Lock()
	key := s.identity
	s.mu.Unlock()
	me := api.Me{Username: p.Username, DisplayName: p.DisplayName, Email: p.Email, Phone: p.Phone, Avatar: p.Avatar}
	if key != nil {
		me.Fingerprint = direct.Fingerprint(key.Public().(ed25519.PublicKey))
	}
	return me
}

// Logout ends the session on the server and forgets the token. History
// and keys stay in the home.
func (s *session) Logout(ctx context.Context) error {
	if _, err := s.requireLogin(); err != nil {
		return err
	}
	if err := s.link.Logout(ctx); err != nil && !errors.Is(err, link.ErrOffline) {
		return fromServer(err)
	}
	s.sessionInvalid()
	s.ended()
	return nil
}

// Passwd changes the password; the server revokes other sessions.
func (s *session) Passwd(ctx context.Context, req api.PasswdRequest) error {
	if _, err := s.requireLogin(); err != nil {
		return err
	}
	// The server keeps this session and revokes the others.
	if err := s.link.Call(ctx, wire.OpPasswd, wire.PasswdRequest{Old: req.Old, New: req.New}, nil); err != nil {
		return fromServer(err)
	}
	return nil
}

// SetProfile changes display name, email, phone or avatar.
func (s *session) SetProfile(ctx context.Context, req api.ProfileRequest) (api.Me, error) {
	if _, err := s.requireLogin(); err != nil {
		return api.Me{}, err
	}
	var p wire.Profile
	err := s.link.Call(ctx, wire.OpProfileUpdate, wire.ProfileUpdateRequest{
		DisplayName: req.DisplayName, Email: req.Email, Phone: req.Phone, Avatar: req.Avatar,
	}, &p)
	if err != nil {
		return api.Me{}, fromServer(err)
	}
	if s.keepAvatar != nil {
		s.keepAvatar(ctx, p.Username, req.Avatar)
	}
	s.mu.Lock()
	s.me = p
	s.mu.Unlock()
	return s.meOf(p), nil
}

// confirmServer pins the certificate of a server found on the LAN once
// the user confirmed the fingerprint they were shown (register, login);
// with no confirmation it refuses, saying how to give one.
func (s *session) confirmServer(confirmed string) error {
	addr, fp := s.link.Unconfirmed()
	if fp == "" {
		return nil
	}
	if confirmed == "" {
		return api.Errorf(api.CodeInvalid, "the server at %s was found on the LAN with certificate sha256 %s: confirm it "+
			"(lanchat register and login ask on a terminal; --yes confirms without asking)", addr, fp)
	}
	if err := s.link.Confirm(confirmed); err != nil {
		if errors.Is(err, link.ErrNotConfirmed) {
			return api.Errorf(api.CodeConflict, "%v", err)
		}
		return api.Errorf(api.CodeInternal, "%v", err)
	}
	return nil
}

// myKey returns the logged-in username and its identity key.
func (s *session) myKey() (string, ed25519.PublicKey, error) {
	me, err := s.requireLogin()
	if err != nil {
		return "", nil, err
	}
	s.mu.Lock()
	key := s.identity
	s.mu.Unlock()
	if key == nil {
		return "", nil, api.Errorf(api.CodeNotLoggedIn, "no identity key yet")
	}
	return me, key.Public().(ed25519.PublicKey), nil
}

// auth is what register and login send besides the password.
type auth struct {
	name    string
	key     ed25519.PrivateKey
	created bool // the identity key was made just now
	prekey  keys.SignedPrekey
	proof   []byte // keys.SignProof for name and the pinned server
}

// connectWait is how long register and login wait for a server
// connection that is not up yet.
const connectWait = 5 * time.Second

func orUnknown(addr string) string {
	if addr == "" {
		return "(not found yet)"
	}
	return addr
}
