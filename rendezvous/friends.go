package rendezvous

import (
	"context"
	"errors"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// Friend limits.
const (
	maxFriends         = 1000
	maxPendingOutgoing = 100
)

func opFriendRequest(ctx context.Context, c *conn, req *wire.UserRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	other, werr := c.lookupUser(ctx, "username", req.Username)
	if werr != nil {
		return nil, werr
	}
	if other.Name == me {
		return nil, wire.Invalid("username", "you cannot befriend yourself")
	}
	if ok, err := s.store.AreFriends(ctx, me, other.Name); err != nil {
		return nil, c.internal("friend request: check", err)
	} else if ok {
		return nil, wire.Errorf(wire.CodeConflict, "already friends with %s", other.Name)
	}
	// They asked first: asking back accepts.
	if _, err := s.store.FriendRequest(ctx, other.Name, me); err == nil {
		if werr := c.acceptFriend(ctx, other.Name); werr != nil {
			return nil, werr
		}
		return wire.FriendRequestResponse{Status: "accepted"}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, c.internal("friend request: check reverse", err)
	}
	// Asking again while the request waits changes nothing, even at a limit.
	if _, err := s.store.FriendRequest(ctx, me, other.Name); err == nil {
		return wire.FriendRequestResponse{Status: "pending"}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, c.internal("friend request: check repeat", err)
	}
	if werr := c.checkFriendLimits(ctx, me); werr != nil {
		return nil, werr
	}
	now := s.utcNow()
	err := s.store.CreateFriendRequest(ctx, store.FriendRequest{From: me, To: other.Name, At: now})
	if errors.Is(err, store.ErrExists) {
		return wire.FriendRequestResponse{Status: "pending"}, nil // a resend changes nothing
	} else if err != nil {
		return nil, c.internal("friend request: create", err)
	}
	display := ""
	if u, err := s.store.User(ctx, me); err == nil {
		display = u.DisplayName
	}
	s.hub.pushTo(other.Name, wire.EvFriendRequest, wire.FriendEvent{Username: me, DisplayName: display, At: now})
	return wire.FriendRequestResponse{Status: "pending"}, nil
}

func (c *conn) checkFriendLimits(ctx context.Context, me string) *wire.Error {
	s := c.srv
	friends, err := s.store.Friends(ctx, me)
	if err != nil {
		return c.internal("friend limits", err)
	}
	if len(friends) >= maxFriends {
		return wire.Errorf(wire.CodeLimit, "you have %d friends, the most allowed", maxFriends)
	}
	_, outgoing, err := s.store.FriendRequests(ctx, me)
	if err != nil {
		return c.internal("friend limits", err)
	}
	if len(outgoing) >= maxPendingOutgoing {
		return wire.Errorf(wire.CodeLimit, "%d friend requests are already waiting for an answer", maxPendingOutgoing)
	}
	return nil
}

func opFriendAccept(ctx context.Context, c *conn, req *wire.UserRequest) (any, *wire.Error) {
	name, werr := wire.NormalizeUsername("username", req.Username)
	if werr != nil {
		return nil, werr
	}
	if werr := c.acceptFriend(ctx, name); werr != nil {
		return nil, werr
	}
	return wire.Empty{}, nil
}

// acceptFriend turns from's pending request to the caller into a
// friendship and tells both sides.
func (c *conn) acceptFriend(ctx context.Context, from string) *wire.Error {
	s := c.srv
	me := c.authedUser()
	for _, who := range []string{me, from} {
		friends, err := s.store.Friends(ctx, who)
		if err != nil {
			return c.internal("accept friend", err)
		}
		if len(friends) < maxFriends {
			continue
		}
		if who == me {
			return wire.Errorf(wire.CodeLimit, "you have %d friends, the most allowed", maxFriends)
		}
		return wire.Errorf(wire.CodeLimit, "%s has %d friends, the most allowed", from, maxFriends)
	}
	now := s.utcNow()
	if err := s.store.AcceptFriendRequest(ctx, from, me, now); err != nil {
		return c.notFound("accept friend", err, "no friend request from %s", from)
	}
	display := ""
	if u, err := s.store.User(ctx, me); err == nil {
		display = u.DisplayName
	}
	s.hub.pushTo(from, wire.EvFriendAccepted, wire.FriendEvent{Username: me, DisplayName: display, At: now})
	c.afterReply = func() { s.introduce(s.ctx, me, from) }
	return nil
}

func opFriendReject(ctx context.Context, c *conn, req *wire.UserRequest) (any, *wire.Error) {
	name, werr := wire.NormalizeUsername("username", req.Username)
	if werr != nil {
		return nil, werr
	}
	me := c.authedUser()
	// Rejecting one's own outgoing request withdraws it.
	err := c.srv.store.DeleteFriendRequest(ctx, name, me)
	if errors.Is(err, store.ErrNotFound) {
		err = c.srv.store.DeleteFriendRequest(ctx, me, name)
	}
	if err != nil {
		return nil, c.notFound("reject friend", err, "no friend request from %s", name)
	}
	return wire.Empty{}, nil
}

func opFriendRemove(ctx context.Context, c *conn, req *wire.UserRequest) (any, *wire.Error) {
	s := c.srv
	name, werr := wire.NormalizeUsername("username", req.Username)
	if werr != nil {
		return nil, werr
	}
	me := c.authedUser()
	if err := s.store.DeleteFriendship(ctx, me, name); err != nil {
		return nil, c.notFound("remove friend", err, "%s is not your friend", name)
	}
	s.hub.pushTo(name, wire.EvFriendRemoved, wire.FriendEvent{Username: me, At: s.utcNow()})
	return wire.Empty{}, nil
}

func opFriendsList(ctx context.Context, c *conn, _ *wire.Empty) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	names, err := s.store.Friends(ctx, me)
	if err != nil {
		return nil, c.internal("list friends", err)
	}
	resp := wire.FriendsListResponse{
		Friends:  make([]wire.Friend, 0, len(names)),
		Incoming: []wire.FriendRequestInfo{},
		Outgoing: []wire.FriendRequestInfo{},
	}
	for _, n := range names {
		u, err := s.store.User(ctx, n)
		if err != nil {
			return nil, c.internal("list friends", err)
		}
		resp.Friends = append(resp.Friends, wire.Friend{Username: u.Name, DisplayName: u.DisplayName, Avatar: u.AvatarID, Presence: s.presenceOf(u)})
	}
	incoming, outgoing, err := s.store.FriendRequests(ctx, me)
	if err != nil {
		return nil, c.internal("list friend requests", err)
	}
	for _, r := range incoming {
		resp.Incoming = append(resp.Incoming, s.requestInfo(ctx, r, r.From))
	}
	for _, r := range outgoing {
		resp.Outgoing = append(resp.Outgoing, s.requestInfo(ctx, r, r.To))
	}
	return resp, nil
}

func (s *Server) requestInfo(ctx context.Context, r store.FriendRequest, other string) wire.FriendRequestInfo {
	info := wire.FriendRequestInfo{From: r.From, To: r.To, At: r.At}
	if u, err := s.store.User(ctx, other); err == nil {
		info.DisplayName = u.DisplayName
	}
	return info
}
