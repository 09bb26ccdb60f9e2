package rendezvous

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// A room is a group anyone may find and join (docs/protocol.md, "Rooms").
// Its members are co-members as in a group: they see each other's
// presence, fetch each other's keys and relay to each other. Its owner
// and the admins the owner names may set the topic, kick and ban; the
// lobby has no owner.

func roomOf(r store.Room) wire.Group {
	g := groupOf(r.Group)
	g.Room, g.Topic = true, r.Topic
	return g
}

// findRoom resolves a room name from a request.
func (c *conn) findRoom(ctx context.Context, name string) (store.Room, *wire.Error) {
	n, werr := wire.NormalizeGroupName("room", name)
	if werr != nil {
		return store.Room{}, werr
	}
	r, err := c.srv.store.Room(ctx, n)
	if err != nil {
		return store.Room{}, c.notFound("find room", err, "no room #%s", n)
	}
	return r, nil
}

// memberRoom resolves a room the caller is in.
func (c *conn) memberRoom(ctx context.Context, name string) (store.Room, *wire.Error) {
	r, werr := c.findRoom(ctx, name)
	if werr != nil {
		return r, werr
	}
	ok, err := c.srv.store.IsMember(ctx, r.ID, c.authedUser())
	if err != nil {
		return r, c.internal("check room membership", err)
	}
	if !ok {
		return r, wire.Errorf(wire.CodeNotFound, "you are not in #%s", r.Name)
	}
	return r, nil
}

// isAdmin reports whether user is an admin of the room.
func (s *Server) isAdmin(ctx context.Context, roomID, user string) (bool, error) {
	admins, err := s.store.RoomAdmins(ctx, roomID)
	return slices.Contains(admins, user), err
}

// moderatedRoom resolves a room the caller moderates (owner or admin),
// and says whether the caller is its owner.
func (c *conn) moderatedRoom(ctx context.Context, name string) (store.Room, bool, *wire.Error) {
	r, werr := c.memberRoom(ctx, name)
	if werr != nil {
		return r, false, werr
	}
	me := c.authedUser()
	if r.Owner == me {
		return r, true, nil
	}
	admin, err := c.srv.isAdmin(ctx, r.ID, me)
	if err != nil {
		return r, false, c.internal("check room admin", err)
	}
	if !admin {
		return r, false, wire.Errorf(wire.CodeForbidden, "only the owner and admins of #%s may do that", r.Name)
	}
	return r, false, nil
}

// checkTarget says whether the caller (owner or not) may kick or ban
// target: nobody the owner, and only the owner an admin.
func (c *conn) checkTarget(ctx context.Context, r store.Room, owner bool, target string) *wire.Error {
	switch {
	case target == c.authedUser():
		return wire.Invalid("username", "you cannot do that to yourself; leave the room instead")
	case target == r.Owner:
		return wire.Errorf(wire.CodeForbidden, "%s owns #%s", target, r.Name)
	case owner:
		return nil
	}
	admin, err := c.srv.isAdmin(ctx, r.ID, target)
	if err != nil {
		return c.internal("check room admin", err)
	}
	if admin {
		return wire.Errorf(wire.CodeForbidden, "%s is an admin of #%s: only the owner may do that", target, r.Name)
	}
	return nil
}

// joinError maps JoinRoom's errors to the client's.
func (c *conn) joinError(r store.Room, err error) *wire.Error {
	lim := c.srv.cfg.Rooms
	switch {
	case errors.Is(err, store.ErrBanned):
		return wire.Errorf(wire.CodeForbidden, "you are banned from #%s", r.Name)
	case errors.Is(err, store.ErrExists):
		return wire.Errorf(wire.CodeConflict, "you are already in #%s", r.Name)
	case errors.Is(err, store.ErrQuota):
		return wire.Errorf(wire.CodeLimit, "#%s has %d members, the most a room may have", r.Name, lim.Members)
	case errors.Is(err, store.ErrTooManyRooms):
		return wire.Errorf(wire.CodeLimit, "you are in %d rooms, the most one user may be in; leave one first", lim.PerUser)
	}
	return c.notFound("join room", err, "no room #%s", r.Name)
}

func opRoomCreate(ctx context.Context, c *conn, req *wire.RoomCreateRequest) (any, *wire.Error) {
	s := c.srv
	name, werr := wire.NormalizeGroupName("room", req.Room)
	if werr != nil {
		return nil, werr
	}
	if werr := wire.CheckTopic("topic", req.Topic); werr != nil {
		return nil, werr
	}
	var id [16]byte
	rand.Read(id[:])
	g := store.Group{ID: hex.EncodeToString(id[:]), Name: name, Owner: c.authedUser(), Created: s.utcNow(), Members: 1, Room: true}
	err := s.store.CreateRoom(ctx, g, req.Topic, s.cfg.Rooms.PerUser)
	switch {
	case errors.Is(err, store.ErrExists):
		return nil, wire.Errorf(wire.CodeConflict, "a group or room named %q exists", name)
	case errors.Is(err, store.ErrTooManyRooms):
		return nil, wire.Errorf(wire.CodeLimit, "you are in %d rooms, the most one user may be in; leave one first", s.cfg.Rooms.PerUser)
	case err != nil:
		return nil, c.internal("create room", err)
	}
	return roomOf(store.Room{Group: g, Topic: req.Topic}), nil
}

func opRoomsList(ctx context.Context, c *conn, req *wire.RoomsListRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	prefix := ""
	if req.Query != "" {
		var werr *wire.Error
		if prefix, werr = wire.NormalizeGroupName("query", req.Query); werr != nil {
			return nil, werr
		}
	}
	limit := req.Limit
	if limit <= 0 || limit > wire.MaxRoomsLimit {
		limit = wire.MaxRoomsLimit
	}
	rooms, err := s.store.RoomDirectory(ctx, prefix, limit+1)
	if err != nil {
		return nil, c.internal("list rooms", err)
	}
	resp := wire.RoomsListResponse{Rooms: make([]wire.RoomListing, 0, min(len(rooms), limit))}
	if len(rooms) > limit {
		rooms, resp.Truncated = rooms[:limit], true
	}
	for _, r := range rooms {
		members, err := s.store.Members(ctx, r.ID)
		if err != nil {
			return nil, c.internal("list rooms", err)
		}
		l := wire.RoomListing{Name: r.Name, Topic: r.Topic, Owner: r.Owner, Members: len(members), Lobby: r.Lobby, Created: r.Created}
		for _, m := range members {
			if m.User == me {
				l.Joined = true
			}
			if s.onlineAnywhere(m.User) {
				l.Online++
			}
		}
		if !l.Joined {
			if l.Banned, err = s.store.IsBanned(ctx, r.ID, me); err != nil {
				return nil, c.internal("list rooms", err)
			}
		}
		resp.Rooms = append(resp.Rooms, l)
	}
	return resp, nil
}

func opRoomJoin(ctx context.Context, c *conn, req *wire.RoomRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	r, werr := c.findRoom(ctx, req.Room)
	if werr != nil {
		return nil, werr
	}
	if err := s.store.JoinRoom(ctx, r.ID, me, s.utcNow(), s.cfg.Rooms.store()); err != nil {
		return nil, c.joinError(r, err)
	}
	r.Members++
	g := roomOf(r)
	s.tellMembers(ctx, r.ID, wire.GroupEvent{Change: wire.GroupJoined, Group: g, Username: me})
	c.afterReply = func() { s.announceMember(r.ID, me) }
	return g, nil
}

// announceMember pushes a new member's presence to the others. The new
// member learns theirs from group.members: a room may be too big to push
// every member's presence down one connection at once.
func (s *Server) announceMember(roomID, user string) {
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	members, err := s.store.Members(ctx, roomID)
	if err != nil {
		return
	}
	for _, m := range members {
		if m.User != user && s.onlineAnywhere(m.User) {
			s.pushPresenceOf(ctx, m.User, user)
		}
	}
}

func opRoomLeave(ctx context.Context, c *conn, req *wire.RoomRequest) (any, *wire.Error) {
	r, werr := c.memberRoom(ctx, req.Room)
	if werr != nil {
		return nil, werr
	}
	return c.leaveRoom(ctx, r)
}

// leaveRoom takes the caller out of r (room.leave, and group.leave of a
// room). An owner's room passes to an admin, or else to the member there
// longest; an empty room goes, unless it is the lobby.
func (c *conn) leaveRoom(ctx context.Context, r store.Room) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	if err := s.store.LeaveRoom(ctx, r.ID, me); err != nil {
		return nil, c.notFound("leave room", err, "you are not in #%s", r.Name)
	}
	s.rooms.forget(r.ID, me)
	members, err := s.store.Members(ctx, r.ID)
	if err != nil {
		return nil, c.internal("leave room", err)
	}
	if len(members) == 0 && !r.Lobby {
		if err := s.store.DeleteRoom(ctx, r.ID); err != nil {
			return nil, c.internal("delete empty room", err)
		}
		s.rooms.forget(r.ID, "")
		return wire.Empty{}, nil
	}
	r.Members = len(members)
	s.tellMembers(ctx, r.ID, wire.GroupEvent{Change: wire.GroupLeft, Group: roomOf(r), Username: me}, me)
	if r.Owner == me && len(members) > 0 {
		heir := members[0].User
		if admins, err := s.store.RoomAdmins(ctx, r.ID); err == nil && len(admins) > 0 {
			heir = admins[0]
		}
		if err := s.store.SetGroupOwner(ctx, r.ID, heir); err != nil {
			return nil, c.internal("pass room ownership", err)
		}
		r.Owner = heir
		s.tellMembers(ctx, r.ID, wire.GroupEvent{Change: wire.GroupOwner, Group: roomOf(r), Username: heir})
	}
	return wire.Empty{}, nil
}

func opRoomTopic(ctx context.Context, c *conn, req *wire.RoomTopicRequest) (any, *wire.Error) {
	s := c.srv
	r, _, werr := c.moderatedRoom(ctx, req.Room)
	if werr != nil {
		return nil, werr
	}
	if werr := wire.CheckTopic("topic", req.Topic); werr != nil {
		return nil, werr
	}
	if err := s.store.SetRoomTopic(ctx, r.ID, req.Topic); err != nil {
		return nil, c.notFound("set topic", err, "no room #%s", r.Name)
	}
	r.Topic = req.Topic
	s.tellMembers(ctx, r.ID, wire.GroupEvent{Change: wire.RoomTopic, Group: roomOf(r), By: c.authedUser()})
	return roomOf(r), nil
}

func opRoomAdmin(ctx context.Context, c *conn, req *wire.RoomAdminRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	r, werr := c.memberRoom(ctx, req.Room)
	if werr != nil {
		return nil, werr
	}
	if r.Owner != me {
		return nil, wire.Errorf(wire.CodeForbidden, "only the owner of #%s may name admins", r.Name)
	}
	name, werr := wire.NormalizeUsername("username", req.Username)
	if werr != nil {
		return nil, werr
	}
	if name == me {
		return nil, wire.Invalid("username", "the owner may do everything an admin may already")
	}
	if err := s.store.SetRoomAdmin(ctx, r.ID, name, !req.Remove); err != nil {
		if req.Remove {
			return nil, c.notFound("room admin", err, "%s is not an admin of #%s", name, r.Name)
		}
		return nil, c.notFound("room admin", err, "%s is not in #%s", name, r.Name)
	}
	change := wire.RoomAdmin
	if req.Remove {
		change = wire.RoomUnadmin
	}
	s.tellMembers(ctx, r.ID, wire.GroupEvent{Change: change, Group: roomOf(r), Username: name, By: me})
	return wire.Empty{}, nil
}

func opRoomKick(ctx context.Context, c *conn, req *wire.RoomUserRequest) (any, *wire.Error) {
	s := c.srv
	r, owner, werr := c.moderatedRoom(ctx, req.Room)
	if werr != nil {
		return nil, werr
	}
	name, werr := wire.NormalizeUsername("username", req.Username)
	if werr != nil {
		return nil, werr
	}
	if werr := c.checkTarget(ctx, r, owner, name); werr != nil {
		return nil, werr
	}
	if err := s.store.LeaveRoom(ctx, r.ID, name); err != nil {
		return nil, c.notFound("kick", err, "%s is not in #%s", name, r.Name)
	}
	s.rooms.forget(r.ID, name)
	r.Members--
	s.tellMembers(ctx, r.ID, wire.GroupEvent{Change: wire.GroupKicked, Group: roomOf(r), Username: name, By: c.authedUser()}, name)
	return wire.Empty{}, nil
}

func opRoomBan(ctx context.Context, c *conn, req *wire.RoomUserRequest) (any, *wire.Error) {
	s := c.srv
	r, owner, werr := c.moderatedRoom(ctx, req.Room)
	if werr != nil {
		return nil, werr
	}
	u, werr := c.lookupUser(ctx, "username", req.Username)
	if werr != nil {
		return nil, werr
	}
	if werr := c.checkTarget(ctx, r, owner, u.Name); werr != nil {
		return nil, werr
	}
	member, err := s.store.BanFromRoom(ctx, r.ID, u.Name, c.authedUser(), s.utcNow())
	if errors.Is(err, store.ErrExists) {
		return nil, wire.Errorf(wire.CodeConflict, "%s is already banned from #%s", u.Name, r.Name)
	} else if err != nil {
		return nil, c.internal("ban", err)
	}
	if member {
		s.rooms.forget(r.ID, u.Name)
		r.Members--
		s.tellMembers(ctx, r.ID, wire.GroupEvent{Change: wire.RoomBanned, Group: roomOf(r), Username: u.Name, By: c.authedUser()}, u.Name)
	}
	return wire.Empty{}, nil
}

func opRoomUnban(ctx context.Context, c *conn, req *wire.RoomUserRequest) (any, *wire.Error) {
	s := c.srv
	r, _, werr := c.moderatedRoom(ctx, req.Room)
	if werr != nil {
		return nil, werr
	}
	name, werr := wire.NormalizeUsername("username", req.Username)
	if werr != nil {
		return nil, werr
	}
	if err := s.store.UnbanFromRoom(ctx, r.ID, name); err != nil {
		return nil, c.notFound("unban", err, "%s is not banned from #%s", name, r.Name)
	}
	return wire.Empty{}, nil
}

func opRoomPost(ctx context.Context, c *conn, req *wire.RoomPostRequest) (any, *wire.Error) {
	s := c.srv
	if werr := wire.CheckMessageID("id", req.ID); werr != nil {
		return nil, werr
	}
	r, werr := c.memberRoom(ctx, req.Room)
	if werr != nil {
		return nil, werr
	}
	rate := s.cfg.Rooms.Rate
	if ok, wait := s.rooms.take(r.ID, c.authedUser(), rate, s.cfg.Now()); !ok {
		return nil, &wire.Error{Code: wire.CodeRateLimited, RetryAfterMS: max(wait.Milliseconds(), 1),
			Message: fmt.Sprintf("at most %d messages a minute to #%s from one member; wait a moment", rate, r.Name)}
	}
	return wire.Empty{}, nil
}

// joinLobby puts a new user in the lobby, if there is one and it has room.
func (s *Server) joinLobby(ctx context.Context, user string) {
	id := s.rooms.lobbyID
	if id == "" {
		return
	}
	if err := s.store.JoinRoom(ctx, id, user, s.utcNow(), s.cfg.Rooms.store()); err != nil {
		s.log.Warn("new user not added to the lobby", "user", user, "err", err)
		return
	}
	g, err := s.store.GroupByID(ctx, id)
	if err != nil {
		return
	}
	if r, err := s.store.Room(ctx, g.Name); err == nil {
		s.tellMembers(ctx, id, wire.GroupEvent{Change: wire.GroupJoined, Group: roomOf(r), Username: user})
	}
}
