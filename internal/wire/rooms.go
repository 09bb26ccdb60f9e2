package wire

import (
	"time"
	"unicode"
	"unicode/utf8"
)

// Room operations (requests). A room is a group anyone on the server may
// find and join; docs/protocol.md, "Rooms", describes them.
const (
	OpRoomCreate = "room.create"
	OpRoomsList  = "rooms.list"
	OpRoomJoin   = "room.join"
	OpRoomLeave  = "room.leave"
	OpRoomTopic  = "room.topic"
	OpRoomAdmin  = "room.admin"
	OpRoomKick   = "room.kick"
	OpRoomBan    = "room.ban"
	OpRoomUnban  = "room.unban"
	// OpRoomPost charges one message to the sender's per-minute budget
	// in a room before the sender's daemon seals and sends it.
	OpRoomPost = "room.post"
	// OpUsersOnline lists who is online among the asker's contacts and
	// rooms.
	OpUsersOnline = "users.online"
)

// Room change kinds carried by EvGroup, beside the Group… ones.
const (
	RoomTopic   = "topic"   // the topic changed (Group.Topic)
	RoomAdmin   = "admin"   // Username was made an admin
	RoomUnadmin = "unadmin" // Username is no longer an admin
	RoomBanned  = "banned"  // Username was banned (and removed)
)

// Room bounds.
const (
	MaxTopic       = 200 // characters
	MaxRoomsLimit  = 500 // rooms one rooms.list may return
	MaxOnlineLimit = 1000
)

// CheckTopic allows up to MaxTopic characters of one line of text, with
// the character rules of CheckDisplayName.
func CheckTopic(field, s string) *Error {
	if !utf8.ValidString(s) {
		return Invalid(field, "must be valid UTF-8")
	}
	if utf8.RuneCountInString(s) > MaxTopic {
		return Invalid(field, "must be at most %d characters", MaxTopic)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidiControl(r) {
			return Invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// RoomCreateRequest creates a room named Room with a topic.
type RoomCreateRequest struct {
	Room  string `json:"room"`
	Topic string `json:"topic,omitempty"`
}

// RoomRequest names a room.
type RoomRequest struct {
	Room string `json:"room"`
}

// RoomUserRequest names a room and a user (kick, ban, unban).
type RoomUserRequest struct {
	Room     string `json:"room"`
	Username string `json:"username"`
}

// RoomAdminRequest makes Username an admin of Room, or with Remove no
// longer one.
type RoomAdminRequest struct {
	Room     string `json:"room"`
	Username string `json:"username"`
	Remove   bool   `json:"remove,omitempty"`
}

// RoomTopicRequest sets a room's topic ("" clears it).
type RoomTopicRequest struct {
	Room  string `json:"room"`
	Topic string `json:"topic"`
}

// RoomPostRequest names the message about to be sent to a room.
type RoomPostRequest struct {
	Room string `json:"room"`
	ID   string `json:"id"`
}

// RoomsListRequest asks for the room directory: rooms whose name starts
// with Query, by name, at most Limit (default and most MaxRoomsLimit).
type RoomsListRequest struct {
	Query string `json:"query,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

// RoomListing is one room of the directory.
type RoomListing struct {
	Name    string    `json:"name"`
	Topic   string    `json:"topic,omitempty"`
	Owner   string    `json:"owner,omitempty"` // "" for the lobby
	Members int       `json:"members"`
	Online  int       `json:"online"`
	Lobby   bool      `json:"lobby,omitempty"`
	Joined  bool      `json:"joined,omitempty"` // the asker is a member
	Banned  bool      `json:"banned,omitempty"` // the asker is banned
	Created time.Time `json:"created"`
}

// RoomsListResponse is the room directory.
type RoomsListResponse struct {
	Rooms     []RoomListing `json:"rooms"`
	Truncated bool          `json:"truncated,omitempty"`
}

// UsersOnlineRequest asks who is online among the asker's contacts and
// the members of the rooms they are in, or of one room (Room). With All,
// offline users are listed too, with when they were last seen.
type UsersOnlineRequest struct {
	Room string `json:"room,omitempty"`
	All  bool   `json:"all,omitempty"`
}

// OnlineUser is one user of users.online.
type OnlineUser struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name,omitempty"`
	Friend      bool     `json:"friend,omitempty"`
	Presence    Presence `json:"presence"`
}

// UsersOnlineResponse lists users, online first, then by name.
type UsersOnlineResponse struct {
	Users     []OnlineUser `json:"users"`
	Truncated bool         `json:"truncated,omitempty"`
}
