package rendezvous

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// newToken makes a random 256-bit session token and its stored hash.
func newToken() (token string, hash []byte) {
	var b [32]byte
	rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

// hashToken is what the store keeps instead of the token.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// startSession stores a new session for user and returns the reply body.
func (s *Server) startSession(ctx context.Context, u store.User) (wire.Session, []byte, error) {
	token, hash := newToken()
	now := s.cfg.Now().UTC()
	sess := store.Session{TokenHash: hash, User: u.Name, Created: now, Expires: now.Add(s.cfg.SessionTTL)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return wire.Session{}, nil, fmt.Errorf("create session: %w", err)
	}
	return wire.Session{Token: token, ExpiresAt: sess.Expires, Profile: profileOf(u)}, hash, nil
}

func profileOf(u store.User) wire.Profile {
	return wire.Profile{Username: u.Name, DisplayName: u.DisplayName, Email: u.Email, Phone: u.Phone, Avatar: u.AvatarID}
}

// becomeUser binds the connection to user after a successful register,
// login or resume: it signs out any older connection of the account,
// announces presence and, once the reply is out, pushes what waited.
func (c *conn) becomeUser(ctx context.Context, user string, tokenHash []byte) {
	c.mu.Lock()
	c.user = user
	c.tokenHash = tokenHash
	c.status = wire.StatusOnline
	c.endpoints = nil
	c.relay.cursor = 0
	c.relay.inflight = make(map[relayKey]struct{})
	c.mu.Unlock()

	s := c.srv
	if old := s.hub.attach(user, c); old != nil {
		old.signOut(wire.SignedOutElsewhere)
	}
	// A connection of the account on another node signs out too.
	s.cluster.forget(user)
	s.publish(EvAttach, user, "", nil)
	s.cfg.Metrics.SessionsOnline(s.hub.count())
	if err := s.store.SetLastSeen(ctx, user, s.cfg.Now().UTC()); err != nil {
		c.logger().Warn("record last seen", "user", user, "err", err)
	}
	c.afterReply = func() {
		c.publishPresence()
		c.pushPending()
		c.kickRelay()
		c.pushDrops()
	}
}

// leaveSession unbinds the user (logout or connection end).
func (c *conn) leaveSession() {
	c.mu.Lock()
	user := c.user
	c.user = ""
	c.tokenHash = nil
	c.status = ""
	c.endpoints = nil
	c.mu.Unlock()
	if user == "" {
		return
	}
	s := c.srv
	unlock := s.presenceLocks.Lock(user)
	defer unlock()
	if s.hub.conn(user) != c {
		return // a newer session took over; it owns presence now
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	// Last seen is written before the user goes offline, so anyone who
	// sees them offline also sees when they left.
	now := s.cfg.Now().UTC()
	if err := s.store.SetLastSeen(ctx, user, now); err != nil {
		c.logger().Warn("record last seen", "user", user, "err", err)
	}
	if !s.hub.detach(user, c) {
		return
	}
	s.cfg.Metrics.SessionsOnline(s.hub.count())
	s.broadcastPresence(ctx, user, wire.Presence{Username: user, Status: wire.StatusOffline, LastSeen: now})
}

// detach runs when the connection ends.
func (c *conn) detach() { c.leaveSession() }
