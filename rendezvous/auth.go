package rendezvous

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/password"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

func (c *conn) requireAnonymous() *wire.Error {
	if c.authedUser() != "" {
		return wire.Errorf(wire.CodeAlreadyAuth, "already logged in; log out first")
	}
	return nil
}

// checkKeys validates an identity key, a prekey it signed for name, and
// the proof that the sender holds the key (keys.SignProof for name and
// this server).
func (s *Server) checkKeys(name string, identity []byte, pk keys.SignedPrekey, proof []byte) *wire.Error {
	if err := keys.CheckIdentityKey(identity); err != nil {
		return wire.Invalid("identity_key", "%v", err)
	}
	if err := keys.VerifyProof(identity, name, s.id, proof); err != nil {
		return wire.Invalid("key_proof", "%v (sign it for %q and this server's certificate)", err, name)
	}
	return s.checkPrekey(name, identity, pk)
}

// checkPrekey validates a prekey signed by identity for name.
func (s *Server) checkPrekey(name string, identity []byte, pk keys.SignedPrekey) *wire.Error {
	if err := pk.Verify(identity, name, s.cfg.Now()); err != nil {
		return wire.Invalid("prekey", "%v", err)
	}
	return nil
}

// keyTaken is the refusal of an identity key another account holds.
func keyTaken() *wire.Error {
	return &wire.Error{Code: wire.CodeConflict, Field: "identity_key", Message: "this identity key belongs to another account"}
}

// checkKeyFree refuses an identity key that an account other than name
// holds. It is the cheap early answer; the store's unique index is what
// holds under races.
func (c *conn) checkKeyFree(ctx context.Context, name string, identity []byte) *wire.Error {
	owner, err := c.srv.store.UserByIdentityKey(ctx, identity)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return c.internal("look up identity key", err)
	case owner.Name != name:
		return keyTaken()
	}
	return nil
}

// rateLimited is the reply to an attempt refused for wait.
func rateLimited(msg string, wait time.Duration) *wire.Error {
	return &wire.Error{Code: wire.CodeRateLimited, Message: msg, RetryAfterMS: max(wait.Milliseconds(), 1)}
}

func opRegister(ctx context.Context, c *conn, req *wire.RegisterRequest) (any, *wire.Error) {
	if werr := c.requireAnonymous(); werr != nil {
		return nil, werr
	}
	s := c.srv
	name, werr := wire.NormalizeUsername("username", req.Username)
	if werr != nil {
		return nil, werr
	}
	if werr := wire.CheckPassword("password", req.Password, name); werr != nil {
		return nil, werr
	}
	if werr := wire.CheckDisplayName("display_name", req.DisplayName); werr != nil {
		return nil, werr
	}
	if werr := wire.CheckEmail("email", req.Email); werr != nil {
		return nil, werr
	}
	if werr := wire.CheckPhone("phone", req.Phone); werr != nil {
		return nil, werr
	}
	if werr := s.checkKeys(name, req.IdentityKey, req.Prekey, req.KeyProof); werr != nil {
		return nil, werr
	}
	if wait := s.registers.take(c.addr.Addr()); wait > 0 {
		return nil, rateLimited("too many accounts registered from this address; wait before trying again", wait)
	}
	// Cheap checks first so a taken name or key costs no hashing.
	if _, err := s.store.User(ctx, name); err == nil {
		return nil, wire.Errorf(wire.CodeUsernameTaken, "username %q is taken", name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, c.internal("register: look up user", err)
	}
	if werr := c.checkKeyFree(ctx, name, req.IdentityKey); werr != nil {
		return nil, werr
	}
	hash, err := s.hasher.Hash(ctx, req.Password)
	if err != nil {
		return nil, c.internal("register: hash password", err)
	}
	u := store.User{
		Name:         name,
		DisplayName:  req.DisplayName,
		Email:        req.Email,
		Phone:        req.Phone,
		PasswordHash: hash,
		IdentityKey:  req.IdentityKey,
		Prekey:       req.Prekey,
		Created:      s.cfg.Now().UTC(),
	}
	if err := s.store.CreateUser(ctx, u); errors.Is(err, store.ErrKeyInUse) {
		return nil, keyTaken()
	} else if errors.Is(err, store.ErrExists) {
		return nil, wire.Errorf(wire.CodeUsernameTaken, "username %q is taken", name)
	} else if err != nil {
		return nil, c.internal("register: create user", err)
	}
	s.joinLobby(ctx, name)
	sess, hashTok, err := s.startSession(ctx, u)
	if err != nil {
		return nil, c.internal("register", err)
	}
	s.cfg.Metrics.LoginOK()
	c.logger().Info("registered", "user", name)
	c.becomeUser(ctx, name, hashTok)
	return sess, nil
}

func opLogin(ctx context.Context, c *conn, req *wire.LoginRequest) (any, *wire.Error) {
	if werr := c.requireAnonymous(); werr != nil {
		return nil, werr
	}
	s := c.srv
	name, werr := wire.NormalizeUsername("username", req.Username)
	if werr != nil {
		return nil, werr
	}
	if len(req.Password) > wire.MaxPassword {
		return nil, wire.Invalid("password", "must be at most %d bytes", wire.MaxPassword)
	}
	if req.IdentityKey != nil {
		// A new identity key needs a prekey it signed and a proof.
		if req.Prekey == nil {
			return nil, wire.Invalid("prekey", "a new identity_key needs a prekey")
		}
		if werr := s.checkKeys(name, req.IdentityKey, *req.Prekey, req.KeyProof); werr != nil {
			return nil, werr
		}
	} else if req.KeyProof != nil {
		return nil, wire.Invalid("key_proof", "a key_proof goes with an identity_key")
	}
	att, wait, err := s.guard.begin(ctx, name, c.addr.Addr())
	if err != nil {
		return nil, c.internal("login: wait for another login of the account", err)
	}
	if wait > 0 {
		s.cfg.Metrics.LoginFailed("backoff")
		return nil, rateLimited("too many failed logins; wait before trying again", wait)
	}
	passwordOK := false
	defer func() { att.done(passwordOK) }()
	u, err := s.store.User(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same work as a real check so timing does not tell
		// which usernames exist.
		s.hasher.VerifyDummy(ctx, req.Password)
		s.cfg.Metrics.LoginFailed("bad_credentials")
		return nil, wire.Errorf(wire.CodeBadCredentials, "wrong username or password")
	} else if err != nil {
		return nil, c.internal("login: look up user", err)
	}
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, req.Password)
	if err != nil {
		return nil, c.internal("login: verify password", err)
	}
	if !ok {
		s.cfg.Metrics.LoginFailed("bad_credentials")
		return nil, wire.Errorf(wire.CodeBadCredentials, "wrong username or password")
	}
	passwordOK = true
	if u.Disabled {
		s.cfg.Metrics.LoginFailed("disabled")
		return nil, wire.Errorf(wire.CodeAccountDisabled, "this account is disabled; ask the operator")
	}
	s.rehash(ctx, name, u.PasswordHash, req.Password)
	keyChanged, prekeyChanged := false, false
	if req.IdentityKey != nil && !bytes.Equal(req.IdentityKey, u.IdentityKey) {
		if werr := c.checkKeyFree(ctx, name, req.IdentityKey); werr != nil {
			return nil, werr
		}
		if err := s.store.SetIdentity(ctx, name, req.IdentityKey, *req.Prekey); errors.Is(err, store.ErrKeyInUse) {
			return nil, keyTaken()
		} else if err != nil {
			return nil, c.internal("login: set identity", err)
		}
		u.IdentityKey, u.Prekey = req.IdentityKey, *req.Prekey
		keyChanged = true
	} else if req.Prekey != nil {
		// A prekey alone must be signed by the stored identity key.
		if werr := s.checkPrekey(name, u.IdentityKey, *req.Prekey); werr != nil {
			return nil, werr
		}
		if err := s.store.SetPrekey(ctx, name, *req.Prekey); err != nil {
			return nil, c.internal("login: set prekey", err)
		}
		u.Prekey = *req.Prekey
		prekeyChanged = true
	}
	// The newest login wins: older sessions are revoked so an older daemon
	// cannot resume and take the account back.
	sess, hashTok, err := s.startSession(ctx, u)
	if err != nil {
		return nil, c.internal("login", err)
	}
	if _, err := s.store.DeleteSessions(ctx, name, hashTok); err != nil {
		return nil, c.internal("login: revoke old sessions", err)
	}
	s.cfg.Metrics.LoginOK()
	c.logger().Info("logged in", "user", name, "new_identity", keyChanged)
	c.becomeUser(ctx, name, hashTok)
	if keyChanged || prekeyChanged {
		// Senders keep a contact's keys until told they changed.
		after := c.afterReply
		c.afterReply = func() {
			s.broadcastKeyChange(name, u.IdentityKey, u.Prekey)
			after()
		}
	}
	return sess, nil
}

func opResume(ctx context.Context, c *conn, req *wire.ResumeRequest) (any, *wire.Error) {
	if werr := c.requireAnonymous(); werr != nil {
		return nil, werr
	}
	s := c.srv
	if req.Token == "" || len(req.Token) > wire.MaxToken {
		return nil, wire.Invalid("token", "malformed token")
	}
	hash := hashToken(req.Token)
	sess, err := s.store.Session(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		s.cfg.Metrics.LoginFailed("session_invalid")
		return nil, wire.Errorf(wire.CodeSessionInvalid, "session expired or revoked; log in again")
	} else if err != nil {
		return nil, c.internal("resume: look up session", err)
	}
	now := s.cfg.Now()
	if !now.Before(sess.Expires) {
		s.store.DeleteSession(ctx, hash)
		s.cfg.Metrics.LoginFailed("session_invalid")
		return nil, wire.Errorf(wire.CodeSessionInvalid, "session expired or revoked; log in again")
	}
	u, err := s.store.User(ctx, sess.User)
	if err != nil {
		return nil, c.internal("resume: look up user", err)
	}
	if u.Disabled {
		s.cfg.Metrics.LoginFailed("disabled")
		return nil, wire.Errorf(wire.CodeAccountDisabled, "this account is disabled; ask the operator")
	}
	reply := wire.Session{Token: req.Token, ExpiresAt: sess.Expires, Profile: profileOf(u)}
	// Past half its life a token is replaced, so a daemon that stays in
	// use never has to ask for the password again.
	if sess.Expires.Sub(now) < s.cfg.SessionTTL/2 {
		fresh, freshHash, err := s.startSession(ctx, u)
		if err != nil {
			return nil, c.internal("resume: renew session", err)
		}
		if err := s.store.DeleteSession(ctx, hash); err != nil {
			return nil, c.internal("resume: drop old session", err)
		}
		reply, hash = fresh, freshHash
	}
	s.cfg.Metrics.LoginOK()
	c.becomeUser(ctx, u.Name, hash)
	return reply, nil
}

func opLogout(ctx context.Context, c *conn, _ *wire.Empty) (any, *wire.Error) {
	c.mu.Lock()
	hash := c.tokenHash
	c.mu.Unlock()
	if err := c.srv.store.DeleteSession(ctx, hash); err != nil {
		return nil, c.internal("logout", err)
	}
	c.leaveSession()
	return wire.Empty{}, nil
}

func opPasswd(ctx context.Context, c *conn, req *wire.PasswdRequest) (any, *wire.Error) {
	s := c.srv
	user := c.authedUser()
	if len(req.Old) > wire.MaxPassword {
		return nil, wire.Invalid("old", "must be at most %d bytes", wire.MaxPassword)
	}
	if werr := wire.CheckPassword("new", req.New, user); werr != nil {
		return nil, werr
	}
	att, wait, err := s.guard.begin(ctx, user, c.addr.Addr())
	if err != nil {
		return nil, c.internal("passwd: wait for another login of the account", err)
	}
	if wait > 0 {
		return nil, rateLimited("too many failed attempts; wait before trying again", wait)
	}
	passwordOK := false
	defer func() { att.done(passwordOK) }()
	u, err := s.store.User(ctx, user)
	if err != nil {
		return nil, c.internal("passwd: look up user", err)
	}
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, req.Old)
	if err != nil {
		return nil, c.internal("passwd: verify", err)
	}
	if !ok {
		return nil, wire.Errorf(wire.CodeBadCredentials, "the current password is wrong")
	}
	passwordOK = true
	hash, err := s.hasher.Hash(ctx, req.New)
	if err != nil {
		return nil, c.internal("passwd: hash", err)
	}
	if err := s.store.SetPassword(ctx, user, hash); err != nil {
		return nil, c.internal("passwd: store", err)
	}
	c.mu.Lock()
	keep := c.tokenHash
	c.mu.Unlock()
	if _, err := s.store.DeleteSessions(ctx, user, keep); err != nil {
		return nil, c.internal("passwd: revoke sessions", err)
	}
	c.logger().Info("password changed", "user", user)
	return wire.Empty{}, nil
}

func opProfileUpdate(ctx context.Context, c *conn, req *wire.ProfileUpdateRequest) (any, *wire.Error) {
	s := c.srv
	user := c.authedUser()
	u, err := s.store.User(ctx, user)
	if err != nil {
		return nil, c.internal("profile: look up user", err)
	}
	p := store.Profile{DisplayName: u.DisplayName, Email: u.Email, Phone: u.Phone}
	if req.DisplayName != nil {
		if werr := wire.CheckDisplayName("display_name", *req.DisplayName); werr != nil {
			return nil, werr
		}
		p.DisplayName = *req.DisplayName
	}
	if req.Email != nil {
		if werr := wire.CheckEmail("email", *req.Email); werr != nil {
			return nil, werr
		}
		p.Email = *req.Email
	}
	if req.Phone != nil {
		if werr := wire.CheckPhone("phone", *req.Phone); werr != nil {
			return nil, werr
		}
		p.Phone = *req.Phone
	}
	if req.Avatar != nil {
		if werr := checkAvatar(ctx, *req.Avatar); werr != nil {
			return nil, werr
		}
		p.Avatar = *req.Avatar
	} else if p.Avatar, err = s.currentAvatar(ctx, u); err != nil {
		return nil, c.internal("profile: look up avatar", err)
	}
	if err := s.store.SetProfile(ctx, user, p); err != nil {
		return nil, c.internal("profile: store", err)
	}
	changed := u.DisplayName != p.DisplayName || u.AvatarID != wire.AvatarID(p.Avatar)
	u.DisplayName, u.Email, u.Phone, u.AvatarID = p.DisplayName, p.Email, p.Phone, wire.AvatarID(p.Avatar)
	if changed {
		s.broadcastProfile(ctx, u)
	}
	return profileOf(u), nil
}

func opPrekeyRotate(ctx context.Context, c *conn, req *wire.PrekeyRotateRequest) (any, *wire.Error) {
	s := c.srv
	user := c.authedUser()
	u, err := s.store.User(ctx, user)
	if err != nil {
		return nil, c.internal("prekey: look up user", err)
	}
	if werr := s.checkPrekey(user, u.IdentityKey, req.Prekey); werr != nil {
		return nil, werr
	}
	if err := s.store.SetPrekey(ctx, user, req.Prekey); err != nil {
		return nil, c.internal("prekey: store", err)
	}
	c.afterReply = func() { s.broadcastKeyChange(user, u.IdentityKey, req.Prekey) }
	return wire.Empty{}, nil
}

// rehash replaces a password hash made with older parameters, now that the
// password is known to be right. A failure is only logged: the old hash
// still works.
func (s *Server) rehash(ctx context.Context, name, encoded, pw string) {
	if !password.NeedsRehash(encoded, s.hasher.Params()) {
		return
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err == nil {
		err = s.store.SetPassword(ctx, name, hash)
	}
	if err != nil {
		s.log.Warn("rehash password", "user", name, "err", err)
	}
}
