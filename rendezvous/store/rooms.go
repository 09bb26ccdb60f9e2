package store

import (
	"context"
	"time"
)

// Room is a group anyone on the server may find and join.
type Room struct {
	Group
	Topic string
	Lobby bool // the room every user is in from registration
}

// RoomLimits bound a join: a room's members, and the rooms one user is in.
type RoomLimits struct {
	Members int
	PerUser int
}

// RoomStore is the part of Store that keeps rooms. Group methods work on
// rooms too (Members, IsMember, ShareGroup, Contacts count room members);
// Groups and Invites leave rooms out.
type RoomStore interface {
	// CreateRoom adds a room with its owner as first member and its
	// topic, in one transaction; ErrExists if a group or room has the
	// name, ErrTooManyRooms if the owner is in perUser rooms already.
	CreateRoom(ctx context.Context, g Group, topic string, perUser int) error
	// EnsureLobby makes the room named g.Name the lobby (and no other).
	// If no group has the name it creates the room, owned by nobody,
	// with every enabled user as a member, joined at g.Created. A group
	// that is not a room has the name: ErrExists. An empty g.Name makes
	// no room the lobby and returns ErrNotFound.
	EnsureLobby(ctx context.Context, g Group) (Room, error)
	// Room looks a room up by name; ErrNotFound if no room has it.
	Room(ctx context.Context, name string) (Room, error)
	// RoomDirectory lists rooms whose name starts with prefix, by name,
	// at most limit.
	RoomDirectory(ctx context.Context, prefix string, limit int) ([]Room, error)
	// Rooms lists the rooms user is in, by name.
	Rooms(ctx context.Context, user string) ([]Room, error)
	// JoinRoom adds user to a room, in one transaction with its checks:
	// ErrNotFound if there is no such room, ErrBanned if user is banned
	// from it, ErrExists if already a member, ErrQuota if it has
	// lim.Members members, ErrTooManyRooms if user is in lim.PerUser
	// rooms.
	JoinRoom(ctx context.Context, id, user string, at time.Time, lim RoomLimits) error
	// LeaveRoom removes a member and their admin role; ErrNotFound if
	// not a member.
	LeaveRoom(ctx context.Context, id, user string) error
	// SetRoomTopic sets the topic; ErrNotFound if there is no such room.
	SetRoomTopic(ctx context.Context, id, topic string) error
	// SetRoomAdmin makes a member an admin or not; ErrNotFound if user
	// is not a member.
	SetRoomAdmin(ctx context.Context, id, user string, admin bool) error
	// RoomAdmins lists a room's admins by name.
	RoomAdmins(ctx context.Context, id string) ([]string, error)
	// BanFromRoom bans user from a room and removes them (and their
	// admin role) if a member, in one transaction; it reports whether
	// they were a member. ErrExists if already banned.
	BanFromRoom(ctx context.Context, id, user, by string, at time.Time) (bool, error)
	// UnbanFromRoom lifts a ban; ErrNotFound if user is not banned.
	UnbanFromRoom(ctx context.Context, id, user string) error
	// IsBanned reports whether user is banned from the room.
	IsBanned(ctx context.Context, id, user string) (bool, error)
	// DeleteRoom removes a room with its members, admins and bans.
	DeleteRoom(ctx context.Context, id string) error

	// MemberUsers returns the accounts of a group's or room's members,
	// by name, in one query: big rooms make one lookup per member slow.
	MemberUsers(ctx context.Context, groupID string) ([]User, error)
	// UsersNamed returns the accounts of the names given that exist, by
	// name.
	UsersNamed(ctx context.Context, names []string) ([]User, error)
}
