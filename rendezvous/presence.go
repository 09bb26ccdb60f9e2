package rendezvous

import (
	"context"
	"errors"
	"github.com/lanchat/lanchat/internal/keys"
	"net/netip"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

func opPresenceSet(ctx context.Context, c *conn, req *wire.PresenceSetRequest) (any, *wire.Error) {
	if req.Status != wire.StatusOnline && req.Status != wire.StatusAway {
		return nil, wire.Invalid("status", "must be %q or %q", wire.StatusOnline, wire.StatusAway)
	}
	eps, werr := wire.CheckEndpoints("endpoints", req.Endpoints)
	if werr != nil {
		return nil, werr
	}
	if werr := c.checkLoopback("endpoints", eps); werr != nil {
		return nil, werr
	}
	c.mu.Lock()
	c.status = req.Status
	c.endpoints = eps
	c.mu.Unlock()
	c.afterReply = c.publishPresence
	return wire.Empty{}, nil
}

// checkLoopback refuses loopback endpoints from a reporter the server does
// not see on loopback: they would point its contacts at their own
// machines. A server and daemons on one host (a demo, tests) may use them.
// eps are in CheckEndpoints' canonical form.
func (c *conn) checkLoopback(field string, eps []string) *wire.Error {
	if c.addr.Addr().Unmap().IsLoopback() {
		return nil
	}
	for _, ep := range eps {
		if ap, err := netip.ParseAddrPort(ep); err != nil || ap.Addr().Unmap().IsLoopback() {
			return wire.Invalid(field, "%s is a loopback address, but this connection does not come from loopback", ep)
		}
	}
	return nil
}

// livePresence is the presence of an online connection's user.
func (c *conn) livePresence() wire.Presence {
	c.mu.Lock()
	defer c.mu.Unlock()
	return wire.Presence{
		Username:  c.user,
		Status:    c.status,
		Endpoints: append([]string(nil), c.endpoints...),
		Observed:  c.addr.String(),
	}
}

// presenceOf returns user's presence as a contact sees it.
func (s *Server) presenceOf(u store.User) wire.Presence {
	if c := s.hub.conn(u.Name); c != nil {
		if p := c.livePresence(); p.Username == u.Name {
			return p
		}
	}
	if p, ok := s.cluster.remotePresence(u.Name); ok {
		return p
	}
	return wire.Presence{Username: u.Name, Status: wire.StatusOffline, LastSeen: u.LastSeen}
}

// publishPresence tells the user's contacts about this connection's
// presence. Contacts' presence reaches the user through friends.list and
// group.members.
func (c *conn) publishPresence() {
	s := c.srv
	user := c.authedUser()
	if user == "" {
		return
	}
	unlock := s.presenceLocks.Lock(user)
	defer unlock()
	// Read under the lock: a logout or a newer session may have come in
	// between, and then it owns the user's presence.
	if s.hub.conn(user) != c {
		return
	}
	p := c.livePresence()
	if p.Username != user {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	s.broadcastPresence(ctx, user, p)
}

// broadcastPresence pushes p to every online contact of user.
func (s *Server) broadcastPresence(ctx context.Context, user string, p wire.Presence) {
	s.publish(EvPresence, user, "", p)
	contacts, err := s.store.Contacts(ctx, user)
	if err != nil {
		s.log.Warn("list contacts for presence", "user", user, "err", err)
		return
	}
	for _, other := range contacts {
		s.hub.push(other, wire.EvPresence, p)
	}
}

// broadcastKeyChange tells contacts that user has new keys: a new
// identity key, or the same one with a new prekey.
func (s *Server) broadcastKeyChange(user string, key []byte, prekey keys.SignedPrekey) {
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	contacts, err := s.store.Contacts(ctx, user)
	if err != nil {
		s.log.Warn("list contacts for key change", "user", user, "err", err)
		return
	}
	for _, other := range contacts {
		s.hub.push(other, wire.EvKeyChanged, wire.KeyChangedEvent{Username: user, IdentityKey: key, Prekey: &prekey})
	}
}

// introduce sends each of a and b the other's presence, after they become
// contacts.
func (s *Server) introduce(ctx context.Context, a, b string) {
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		to, about := pair[0], pair[1]
		if !s.onlineAnywhere(to) {
			continue
		}
		s.pushPresenceOf(ctx, to, about)
	}
}

func (s *Server) pushPresenceOf(ctx context.Context, to, about string) {
	unlock := s.presenceLocks.Lock(about)
	defer unlock()
	u, err := s.store.User(ctx, about)
	if err != nil {
		return
	}
	s.hub.pushTo(to, wire.EvPresence, s.presenceOf(u))
}

// pushPending pushes what waited for the user while offline: friend
// requests and group invitations. They stay pending until answered.
func (c *conn) pushPending() {
	s := c.srv
	user := c.authedUser()
	if user == "" {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	incoming, _, err := s.store.FriendRequests(ctx, user)
	if err != nil {
		c.logger().Warn("list friend requests", "user", user, "err", err)
		return
	}
	for _, r := range incoming {
		ev := wire.FriendEvent{Username: r.From, At: r.At}
		if u, err := s.store.User(ctx, r.From); err == nil {
			ev.DisplayName = u.DisplayName
		}
		c.push(wire.EvFriendRequest, ev)
	}
	invites, err := s.store.Invites(ctx, user)
	if err != nil {
		c.logger().Warn("list invites", "user", user, "err", err)
		return
	}
	for _, inv := range invites {
		c.push(wire.EvGroup, wire.GroupEvent{Change: wire.GroupInvited, Group: groupOf(inv.Group), Username: user, By: inv.By})
	}
}

// keysVisible reports whether asker may fetch user's keys: they are
// related, or a friend request between them waits, either way (the daemon
// pins the key of whom it asks or is asked by).
func (s *Server) keysVisible(ctx context.Context, asker, user string) (bool, error) {
	if asker == user {
		return true, nil
	}
	ok, err := s.related(ctx, asker, user)
	if err != nil || ok {
		return ok, err
	}
	for _, p := range [][2]string{{asker, user}, {user, asker}} {
		_, err := s.store.FriendRequest(ctx, p[0], p[1])
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	return false, nil
}

// related reports whether a and b are friends or share a group: the
// condition for seeing presence and relaying messages.
func (s *Server) related(ctx context.Context, a, b string) (bool, error) {
	ok, err := s.store.AreFriends(ctx, a, b)
	if err != nil || ok {
		return ok, err
	}
	return s.store.ShareGroup(ctx, a, b)
}

// lookupUser resolves and normalizes a username given by a client.
func (c *conn) lookupUser(ctx context.Context, field, name string) (store.User, *wire.Error) {
	n, werr := wire.NormalizeUsername(field, name)
	if werr != nil {
		return store.User{}, werr
	}
	u, err := c.srv.store.User(ctx, n)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.Disabled {
		return store.User{}, &wire.Error{Code: wire.CodeNotFound, Field: field, Message: "no user " + n}
	}
	if err != nil {
		return store.User{}, c.internal("look up user", err)
	}
	return u, nil
}

// utcNow is the server clock in UTC.
func (s *Server) utcNow() time.Time { return s.cfg.Now().UTC() }
