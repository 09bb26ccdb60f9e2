package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
	"github.com/lanchat/lanchat/peer/link"
)

// serverPin returns the fingerprint to pin: the one given on the command
// line (which must agree with a stored one for the same server), else the
// stored one, else "" for trust on first use.
func (d *Daemon) serverPin() (string, error) {
	stored, err := d.home.Server()
	if err != nil && !errors.Is(err, home.ErrNoServer) {
		return "", fmt.Errorf("pinned server: %w", err)
	}
	if d.cfg.Server == "" {
		// No --server: the one used before, else one found on the LAN.
		d.cfg.Server = stored.Addr
		if d.cfg.Fingerprint == "" {
			return stored.Fingerprint, nil
		}
	}
	if d.cfg.Fingerprint != "" {
		fp, err := link.NormalizeFingerprint(d.cfg.Fingerprint)
		if err != nil {
			return "", fmt.Errorf("--server-fingerprint: %w", err)
		}
		if d.cfg.Server != "" {
			// Without an address, the pin is saved with the address
			// found on the LAN, once TLS proved it (pinServer).
			if err := d.home.SaveServer(home.ServerPin{Addr: d.cfg.Server, Fingerprint: fp}); err != nil {
				return "", fmt.Errorf("save server pin: %w", err)
			}
		}
		return fp, nil
	}
	if stored.Fingerprint != "" && stored.Addr == d.cfg.Server {
		return stored.Fingerprint, nil
	}
	return "", nil
}

// pinServer is called once when the daemon first meets a server without a
// fingerprint: it keeps the certificate's fingerprint for every later
// connection and tells the user what it pinned.
func (d *Daemon) pinServer(fp string) error {
	addr := d.link.Addr()
	if err := d.home.SaveServer(home.ServerPin{Addr: addr, Fingerprint: fp}); err != nil {
		return fmt.Errorf("save server pin: %w", err)
	}
	fmt.Fprintf(d.cfg.Out, "pinned the certificate of server %s: sha256 %s\n(compare with `rendezvous fingerprint` on the server)\n", addr, fp)
	return nil
}

// sessionToken gives the link the stored token to resume with.
func (d *Daemon) sessionToken() string {
	_, tok, err := d.home.Token()
	if err != nil {
		return ""
	}
	return tok
}

// sessionInvalid runs when the server refuses the stored token or signs
// this daemon out: the token is forgotten and the user must log in again.
func (d *Daemon) sessionInvalid() {
	if err := d.home.ClearToken(); err != nil {
		d.log.Warn("clear session token", "err", err)
	}
	d.mu.Lock()
	d.me = wire.Profile{}
	d.mu.Unlock()
}

// Register creates the account on the server with a new identity key (or
// the home's existing one) and a first signed prekey, and logs in.
func (d *Daemon) Register(ctx context.Context, req api.RegisterRequest) (api.Me, error) {
	if err := d.confirmServer(req.ServerFingerprint); err != nil {
		return api.Me{}, err
	}
	a, err := d.prepareAuth(ctx, req.Username)
	if err != nil {
		return api.Me{}, err
	}
	sess, err := d.link.Authenticate(ctx, wire.OpRegister, wire.RegisterRequest{
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
	return d.loggedIn(sess, a.key, a.created)
}

// Login logs in with a password. The home's identity key (a new one if it
// has none: a login from a new machine) and a fresh prekey are sent with
// it; the server tells contacts if the key changed.
func (d *Daemon) Login(ctx context.Context, req api.LoginRequest) (api.Me, error) {
	if err := d.confirmServer(req.ServerFingerprint); err != nil {
		return api.Me{}, err
	}
	a, err := d.prepareAuth(ctx, req.Username)
	if err != nil {
		return api.Me{}, err
	}
	sess, err := d.link.Authenticate(ctx, wire.OpLogin, wire.LoginRequest{
		Username:    a.name,
		Password:    req.Password,
		IdentityKey: a.key.Public().(ed25519.PublicKey),
		Prekey:      &a.prekey,
		KeyProof:    a.proof,
	})
	if err != nil {
		return api.Me{}, fromServer(err)
	}
	return d.loggedIn(sess, a.key, a.created)
}

// auth is what register and login send besides the password.
type auth struct {
	name    string
	key     ed25519.PrivateKey
	created bool // the identity key was made just now
	prekey  keys.SignedPrekey
	proof   []byte // keys.SignProof for name and the pinned server
}

// prepareAuth checks that user may authenticate from this daemon now and
// gets the identity key (making it on first use) and a fresh prekey.
func (d *Daemon) prepareAuth(ctx context.Context, user string) (auth, error) {
	if err := d.canAuthenticate(ctx); err != nil {
		return auth{}, err
	}
	name, werr := wire.NormalizeUsername("username", user)
	if werr != nil {
		return auth{}, fromWire(werr)
	}
	if err := d.checkAccount(name); err != nil {
		return auth{}, err
	}
	// The proof names the server whose certificate the link pinned, so
	// it is worth nothing to any other server.
	server, err := keys.ParseServerID(d.link.Fingerprint())
	if err != nil {
		return auth{}, fmt.Errorf("pinned server certificate: %w", err)
	}
	key, created, err := d.identityForAccount()
	if err != nil {
		return auth{}, err
	}
	proof, err := keys.SignProof(key, name, server)
	if err != nil {
		return auth{}, fmt.Errorf("sign key proof: %w", err)
	}
	spk, err := d.newPrekey(ctx, key, name)
	if err != nil {
		return auth{}, err
	}
	return auth{name: name, key: key, created: created, prekey: spk, proof: proof}, nil
}

// connectWait is how long register and login wait for a server
// connection that is not up yet.
const connectWait = 5 * time.Second

// canAuthenticate refuses register and login while a user is logged in or
// the server is out of reach.
func (d *Daemon) canAuthenticate(ctx context.Context) error {
	d.mu.Lock()
	me := d.me.Username
	d.mu.Unlock()
	if me != "" {
		return api.Errorf(api.CodeConflict, "already logged in as %s; run lanchat logout first", me)
	}
	// Just after the daemon starts, the first dial may still be under way.
	wctx, cancel := context.WithTimeout(ctx, connectWait)
	defer cancel()
	if !d.link.WaitConnected(wctx) {
		if err := d.link.LastError(); errors.Is(err, link.ErrFingerprintMismatch) {
			return fromServer(err)
		}
		return api.Errorf(api.CodeUnavailable, "the server %s is unreachable; try again when it is back (lanchat doctor says why)", orUnknown(d.link.Addr()))
	}
	return nil
}

// checkAccount refuses to use this data directory for another account
// than the one it already holds: the identity key and the history belong
// to that account.
func (d *Daemon) checkAccount(name string) error {
	owner, err := d.home.Account()
	if err != nil {
		return err
	}
	if owner != "" && owner != name {
		return api.Errorf(api.CodeConflict, "this data directory (%s) belongs to %s; run a daemon with another --home for %s", d.home.Dir(), owner, name)
	}
	return nil
}

// identityForAccount returns the home's identity key, making one if it
// has none.
func (d *Daemon) identityForAccount() (ed25519.PrivateKey, bool, error) {
	d.mu.Lock()
	key := d.identity
	d.mu.Unlock()
	if key != nil {
		return key, false, nil
	}
	key, err := d.home.CreateIdentity()
	if err != nil {
		return nil, false, fmt.Errorf("make identity key: %w", err)
	}
	// Keep it even if this register or login fails: the file exists now,
	// and the next attempt must use it rather than make another.
	d.mu.Lock()
	d.identity = key
	d.mu.Unlock()
	return key, true, nil
}

// loggedIn records a new session: the token is stored so the daemon
// resumes after a restart, and a new identity starts the direct listener.
func (d *Daemon) loggedIn(sess wire.Session, key ed25519.PrivateKey, newIdentity bool) (api.Me, error) {
	if err := d.home.SetAccount(sess.Profile.Username); err != nil {
		return api.Me{}, fmt.Errorf("save account: %w", err)
	}
	if err := d.home.SaveToken(sess.Profile.Username, sess.Token); err != nil {
		return api.Me{}, fmt.Errorf("save session: %w", err)
	}
	d.mu.Lock()
	d.me = sess.Profile
	d.signedOut = ""
	d.mu.Unlock()
	if newIdentity || d.currentTransport() == nil {
		if err := d.useIdentity(key); err != nil {
			return api.Me{}, err
		}
	}
	d.spawn(func() { d.online(d.ctx) })
	return d.meOf(sess.Profile), nil
}

func (d *Daemon) meOf(p wire.Profile) api.Me {
	d.mu.Lock()
	key := d.identity
	d.mu.Unlock()
	me := api.Me{Username: p.Username, DisplayName: p.DisplayName, Email: p.Email, Phone: p.Phone}
	if key != nil {
		me.Fingerprint = direct.Fingerprint(key.Public().(ed25519.PublicKey))
	}
	return me
}

// Logout ends the session on the server and forgets the token. History
// and keys stay in the home.
func (d *Daemon) Logout(ctx context.Context) error {
	if _, err := d.requireLogin(); err != nil {
		return err
	}
	if err := d.link.Logout(ctx); err != nil && !errors.Is(err, link.ErrOffline) {
		return fromServer(err)
	}
	d.sessionInvalid()
	d.peers.closeAll()
	return nil
}

// Passwd changes the password; the server revokes other sessions.
func (d *Daemon) Passwd(ctx context.Context, req api.PasswdRequest) error {
	if _, err := d.requireLogin(); err != nil {
		return err
	}
	// The server keeps this session and revokes the others.
	if err := d.link.Call(ctx, wire.OpPasswd, wire.PasswdRequest{Old: req.Old, New: req.New}, nil); err != nil {
		return fromServer(err)
	}
	return nil
}

// SetProfile changes display name, email or phone.
func (d *Daemon) SetProfile(ctx context.Context, req api.ProfileRequest) (api.Me, error) {
	if _, err := d.requireLogin(); err != nil {
		return api.Me{}, err
	}
	var p wire.Profile
	err := d.link.Call(ctx, wire.OpProfileUpdate, wire.ProfileUpdateRequest{
		DisplayName: req.DisplayName, Email: req.Email, Phone: req.Phone,
	}, &p)
	if err != nil {
		return api.Me{}, fromServer(err)
	}
	d.mu.Lock()
	d.me = p
	d.mu.Unlock()
	return d.meOf(p), nil
}

// newPrekey makes a prekey for user, keeps its secret in history (before
// the public half is published, so nothing is ever sealed to a key we
// lost), and returns the signed public half.
func (d *Daemon) newPrekey(ctx context.Context, identity ed25519.PrivateKey, user string) (keys.SignedPrekey, error) {
	now := time.Now()
	spk, priv, err := keys.NewPrekey(identity, user, now, d.cfg.PrekeyLifetime)
	if err != nil {
		return keys.SignedPrekey{}, fmt.Errorf("make prekey: %w", err)
	}
	secret, err := priv.Bytes()
	if err != nil {
		return keys.SignedPrekey{}, fmt.Errorf("make prekey: %w", err)
	}
	err = d.db.SavePrekey(ctx, history.Prekey{ID: spk.ID(), Secret: secret, Created: time.Unix(spk.Created, 0), Expires: time.Unix(spk.Expires, 0)})
	if err != nil {
		return keys.SignedPrekey{}, fmt.Errorf("save prekey: %w", err)
	}
	return spk, nil
}

func orUnknown(addr string) string {
	if addr == "" {
		return "(not found yet)"
	}
	return addr
}
