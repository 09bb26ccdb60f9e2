package rendezvous

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// Group limits.
const (
	maxGroupMembers  = 256
	maxGroupsPerUser = 200
)

func groupOf(g store.Group) wire.Group {
	return wire.Group{ID: g.ID, Name: g.Name, Owner: g.Owner, Members: g.Members, Created: g.Created, Room: g.Room}
}

// findGroup resolves a group name from a request.
func (c *conn) findGroup(ctx context.Context, name string) (store.Group, *wire.Error) {
	n, werr := wire.NormalizeGroupName("group", name)
	if werr != nil {
		return store.Group{}, werr
	}
	g, err := c.srv.store.Group(ctx, n)
	if err != nil {
		return store.Group{}, c.notFound("find group", err, "no group %q", n)
	}
	return g, nil
}

// notRoom refuses a group operation on a room: rooms have their own.
func notRoom(g store.Group) *wire.Error {
	if g.Room {
		return wire.Errorf(wire.CodeConflict, "#%s is a room, not a group: use the room operations", g.Name)
	}
	return nil
}

// memberGroup resolves a group the caller belongs to. Non-members get
// not_found, so group membership does not leak.
func (c *conn) memberGroup(ctx context.Context, name string) (store.Group, *wire.Error) {
	g, werr := c.findGroup(ctx, name)
	if werr != nil {
		return g, werr
	}
	ok, err := c.srv.store.IsMember(ctx, g.ID, c.authedUser())
	if err != nil {
		return g, c.internal("check membership", err)
	}
	if !ok {
		return g, wire.Errorf(wire.CodeNotFound, "you are not a member of %q", g.Name)
	}
	return g, nil
}

// ownedGroup resolves a group the caller owns.
func (c *conn) ownedGroup(ctx context.Context, name string) (store.Group, *wire.Error) {
	g, werr := c.memberGroup(ctx, name)
	if werr == nil {
		werr = notRoom(g)
	}
	if werr != nil {
		return g, werr
	}
	if g.Owner != c.authedUser() {
		return g, wire.Errorf(wire.CodeForbidden, "only the owner (%s) may do that", g.Owner)
	}
	return g, nil
}

// tellMembers pushes a group event to every online member, and to extra
// users (e.g. someone who just left or was kicked).
func (s *Server) tellMembers(ctx context.Context, groupID string, ev wire.GroupEvent, extra ...string) {
	members, err := s.store.Members(ctx, groupID)
	if err != nil {
		s.log.Warn("list members for event", "group", groupID, "err", err)
	}
	for _, m := range members {
		s.hub.push(m.User, wire.EvGroup, ev)
	}
	for _, u := range extra {
		s.hub.push(u, wire.EvGroup, ev)
	}
}

// reloadGroup returns the group's current record, falling back to g.
func (s *Server) reloadGroup(ctx context.Context, g store.Group) store.Group {
	if fresh, err := s.store.GroupByID(ctx, g.ID); err == nil {
		return fresh
	}
	return g
}

func (c *conn) checkGroupCount(ctx context.Context, user string) *wire.Error {
	groups, err := c.srv.store.Groups(ctx, user)
	if err != nil {
		return c.internal("count groups", err)
	}
	if len(groups) >= maxGroupsPerUser {
		return wire.Errorf(wire.CodeLimit, "at most %d groups per user", maxGroupsPerUser)
	}
	return nil
}

func opGroupCreate(ctx context.Context, c *conn, req *wire.GroupRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	name, werr := wire.NormalizeGroupName("group", req.Group)
	if werr != nil {
		return nil, werr
	}
	if werr := c.checkGroupCount(ctx, me); werr != nil {
		return nil, werr
	}
	var id [16]byte
	rand.Read(id[:])
	g := store.Group{ID: hex.EncodeToString(id[:]), Name: name, Owner: me, Created: s.utcNow(), Members: 1}
	if err := s.store.CreateGroup(ctx, g); errors.Is(err, store.ErrExists) {
		return nil, wire.Errorf(wire.CodeConflict, "a group named %q exists", name)
	} else if err != nil {
		return nil, c.internal("create group", err)
	}
	return groupOf(g), nil
}

func opGroupInvite(ctx context.Context, c *conn, req *wire.GroupUserRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	g, werr := c.memberGroup(ctx, req.Group)
	if werr == nil {
		werr = notRoom(g)
	}
	if werr != nil {
		return nil, werr
	}
	u, werr := c.lookupUser(ctx, "username", req.Username)
	if werr != nil {
		return nil, werr
	}
	if ok, err := s.store.IsMember(ctx, g.ID, u.Name); err != nil {
		return nil, c.internal("invite: check member", err)
	} else if ok {
		return nil, wire.Errorf(wire.CodeConflict, "%s is already a member of %q", u.Name, g.Name)
	}
	if g.Members >= maxGroupMembers {
		return nil, wire.Errorf(wire.CodeLimit, "%q has %d members, the most allowed", g.Name, maxGroupMembers)
	}
	now := s.utcNow()
	err := s.store.CreateInvite(ctx, store.Invite{Group: g, User: u.Name, By: me, At: now})
	if errors.Is(err, store.ErrExists) {
		return wire.Empty{}, nil // already invited: nothing changes
	} else if err != nil {
		return nil, c.internal("invite", err)
	}
	s.hub.pushTo(u.Name, wire.EvGroup, wire.GroupEvent{Change: wire.GroupInvited, Group: groupOf(g), Username: u.Name, By: me})
	return wire.Empty{}, nil
}

func opGroupJoin(ctx context.Context, c *conn, req *wire.GroupRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	g, werr := c.findGroup(ctx, req.Group)
	if werr == nil {
		werr = notRoom(g)
	}
	if werr != nil {
		return nil, werr
	}
	if ok, err := s.store.IsMember(ctx, g.ID, me); err != nil {
		return nil, c.internal("join: check member", err)
	} else if ok {
		return nil, wire.Errorf(wire.CodeConflict, "you are already a member of %q", g.Name)
	}
	// Without an invitation the answer is not_found, whatever the limits.
	if invited, err := c.invitedTo(ctx, g.ID); err != nil {
		return nil, c.internal("join: check invitation", err)
	} else if !invited {
		return nil, wire.Errorf(wire.CodeNotFound, "you have no invitation to %q", g.Name)
	}
	if werr := c.checkGroupCount(ctx, me); werr != nil {
		return nil, werr
	}
	if g.Members >= maxGroupMembers {
		return nil, wire.Errorf(wire.CodeLimit, "%q has %d members, the most allowed", g.Name, maxGroupMembers)
	}
	if err := s.store.JoinGroup(ctx, g.ID, me, s.utcNow()); err != nil {
		return nil, c.notFound("join group", err, "you have no invitation to %q", g.Name)
	}
	g = s.reloadGroup(ctx, g)
	s.tellMembers(ctx, g.ID, wire.GroupEvent{Change: wire.GroupJoined, Group: groupOf(g), Username: me})
	c.afterReply = func() { s.introduceMembers(g.ID, me) }
	return groupOf(g), nil
}

// invitedTo reports whether the caller has a pending invitation to groupID.
func (c *conn) invitedTo(ctx context.Context, groupID string) (bool, error) {
	invites, err := c.srv.store.Invites(ctx, c.authedUser())
	if err != nil {
		return false, err
	}
	for _, inv := range invites {
		if inv.Group.ID == groupID {
			return true, nil
		}
	}
	return false, nil
}

// introduceMembers exchanges presence between a new member and the rest.
func (s *Server) introduceMembers(groupID, user string) {
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	members, err := s.store.Members(ctx, groupID)
	if err != nil {
		return
	}
	for _, m := range members {
		if m.User != user {
			s.introduce(ctx, user, m.User)
		}
	}
}

func opGroupLeave(ctx context.Context, c *conn, req *wire.GroupRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	g, werr := c.memberGroup(ctx, req.Group)
	if werr != nil {
		return nil, werr
	}
	if g.Room {
		r, err := s.store.Room(ctx, g.Name)
		if err != nil {
			return nil, c.notFound("leave room", err, "no room #%s", g.Name)
		}
		return c.leaveRoom(ctx, r)
	}
	if err := s.store.RemoveMember(ctx, g.ID, me); err != nil {
		return nil, c.notFound("leave group", err, "you are not a member of %q", g.Name)
	}
	members, err := s.store.Members(ctx, g.ID)
	if err != nil {
		return nil, c.internal("leave group", err)
	}
	if len(members) == 0 {
		// The last member left: the group goes with them.
		if err := s.store.DeleteGroup(ctx, g.ID); err != nil {
			return nil, c.internal("delete empty group", err)
		}
		return wire.Empty{}, nil
	}
	g = s.reloadGroup(ctx, g)
	s.tellMembers(ctx, g.ID, wire.GroupEvent{Change: wire.GroupLeft, Group: groupOf(g), Username: me}, me)
	if g.Owner == me {
		// Ownership passes to the longest-standing member.
		heir := members[0].User
		if err := s.store.SetGroupOwner(ctx, g.ID, heir); err != nil {
			return nil, c.internal("pass group ownership", err)
		}
		g.Owner = heir
		s.tellMembers(ctx, g.ID, wire.GroupEvent{Change: wire.GroupOwner, Group: groupOf(g), Username: heir})
	}
	return wire.Empty{}, nil
}

func opGroupKick(ctx context.Context, c *conn, req *wire.GroupUserRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	g, werr := c.ownedGroup(ctx, req.Group)
	if werr != nil {
		return nil, werr
	}
	name, werr := wire.NormalizeUsername("username", req.Username)
	if werr != nil {
		return nil, werr
	}
	if name == me {
		return nil, wire.Invalid("username", "the owner cannot kick themselves; leave or delete the group")
	}
	err := s.store.RemoveMember(ctx, g.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		// Kicking someone merely invited withdraws the invitation.
		if err := s.store.DeleteInvite(ctx, g.ID, name); err != nil {
			return nil, c.notFound("kick", err, "%s is neither a member of nor invited to %q", name, g.Name)
		}
		return wire.Empty{}, nil
	} else if err != nil {
		return nil, c.internal("kick", err)
	}
	g = s.reloadGroup(ctx, g)
	s.tellMembers(ctx, g.ID, wire.GroupEvent{Change: wire.GroupKicked, Group: groupOf(g), Username: name, By: me}, name)
	return wire.Empty{}, nil
}

func opGroupRename(ctx context.Context, c *conn, req *wire.GroupRenameRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	g, werr := c.ownedGroup(ctx, req.Group)
	if werr != nil {
		return nil, werr
	}
	name, werr := wire.NormalizeGroupName("name", req.Name)
	if werr != nil {
		return nil, werr
	}
	if name == g.Name {
		return groupOf(g), nil
	}
	if err := s.store.RenameGroup(ctx, g.ID, name); errors.Is(err, store.ErrExists) {
		return nil, wire.Errorf(wire.CodeConflict, "a group named %q exists", name)
	} else if err != nil {
		return nil, c.internal("rename group", err)
	}
	old := g.Name
	g.Name = name
	s.tellMembers(ctx, g.ID, wire.GroupEvent{Change: wire.GroupRenamed, Group: groupOf(g), By: me, OldName: old})
	return groupOf(g), nil
}

func opGroupDelete(ctx context.Context, c *conn, req *wire.GroupRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	g, werr := c.ownedGroup(ctx, req.Group)
	if werr != nil {
		return nil, werr
	}
	members, err := s.store.Members(ctx, g.ID)
	if err != nil {
		return nil, c.internal("delete group", err)
	}
	if err := s.store.DeleteGroup(ctx, g.ID); err != nil {
		return nil, c.internal("delete group", err)
	}
	ev := wire.GroupEvent{Change: wire.GroupDeleted, Group: groupOf(g), By: me}
	for _, m := range members {
		s.hub.push(m.User, wire.EvGroup, ev)
	}
	return wire.Empty{}, nil
}

func opGroupMembers(ctx context.Context, c *conn, req *wire.GroupRequest) (any, *wire.Error) {
	s := c.srv
	g, werr := c.memberGroup(ctx, req.Group)
	if werr != nil {
		return nil, werr
	}
	members, err := s.store.MemberUsers(ctx, g.ID)
	if err != nil {
		return nil, c.internal("list members", err)
	}
	resp := wire.GroupMembersResponse{Group: groupOf(g), Members: make([]wire.Member, 0, len(members))}
	var admins []string
	if g.Room {
		r, err := s.store.Room(ctx, g.Name)
		if err != nil {
			return nil, c.internal("list members", err)
		}
		resp.Group = roomOf(r)
		if admins, err = s.store.RoomAdmins(ctx, g.ID); err != nil {
			return nil, c.internal("list members", err)
		}
	}
	for _, u := range members {
		resp.Members = append(resp.Members, wire.Member{
			Username:    u.Name,
			DisplayName: u.DisplayName,
			Avatar:      u.AvatarID,
			Owner:       u.Name == g.Owner,
			Admin:       slices.Contains(admins, u.Name),
			Presence:    s.presenceOf(u),
		})
	}
	sortMembers(resp.Members, func(m wire.Member) (string, string) { return m.Username, m.Presence.Status })
	return resp, nil
}

func opGroupsList(ctx context.Context, c *conn, _ *wire.Empty) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	groups, err := s.store.Groups(ctx, me)
	if err != nil {
		return nil, c.internal("list groups", err)
	}
	invites, err := s.store.Invites(ctx, me)
	if err != nil {
		return nil, c.internal("list invites", err)
	}
	resp := wire.GroupsListResponse{Groups: make([]wire.Group, 0, len(groups)), Invites: make([]wire.GroupInvite, 0, len(invites))}
	for _, g := range groups {
		resp.Groups = append(resp.Groups, groupOf(g))
	}
	for _, inv := range invites {
		resp.Invites = append(resp.Invites, wire.GroupInvite{Group: groupOf(inv.Group), By: inv.By, At: inv.At})
	}
	rooms, err := s.store.Rooms(ctx, me)
	if err != nil {
		return nil, c.internal("list rooms", err)
	}
	for _, r := range rooms {
		g := roomOf(r)
		g.Rate = c.srv.cfg.Rooms.Rate
		resp.Rooms = append(resp.Rooms, g)
	}
	return resp, nil
}
