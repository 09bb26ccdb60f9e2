package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// RoomService is the part of Service for rooms and who is online
// (docs/api.md, "Rooms" and "Who is online").
type RoomService interface {
	// Rooms lists the room directory: rooms whose name starts with
	// query, with member and online counts.
	Rooms(ctx context.Context, query string) (Rooms, error)
	// Room runs one of the RoomCreate… actions on the room req.Name.
	Room(ctx context.Context, req RoomRequest) (Group, error)
	// Online lists who is online among the user's contacts and rooms,
	// or in one room; with all, offline ones too, with when they were
	// last seen.
	Online(ctx context.Context, room string, all bool) (OnlineList, error)
}

// Room actions.
const (
	RoomCreate  = "create"
	RoomJoin    = "join"
	RoomLeave   = "leave"
	RoomTopic   = "topic"
	RoomAdmin   = "admin"
	RoomUnadmin = "unadmin"
	RoomKick    = "kick"
	RoomBan     = "ban"
	RoomUnban   = "unban"
)

// RoomRequest is the body of POST /v1/rooms/{action}. Name names the
// room ("#" optional); Topic is for create and topic; User for admin,
// unadmin, kick, ban and unban.
type RoomRequest struct {
	Action string `json:"action,omitempty"`
	Name   string `json:"name"`
	Topic  string `json:"topic,omitempty"`
	User   string `json:"user,omitempty"`
}

// Room is one entry of the room directory.
type Room struct {
	Name    string    `json:"name"`
	Topic   string    `json:"topic,omitempty"`
	Owner   string    `json:"owner,omitempty"`
	Members int       `json:"members"`
	Online  int       `json:"online"`
	Lobby   bool      `json:"lobby,omitempty"`
	Joined  bool      `json:"joined,omitempty"`
	Banned  bool      `json:"banned,omitempty"`
	Created time.Time `json:"created,omitzero"`
}

// Rooms is the reply to GET /v1/rooms.
type Rooms struct {
	Rooms []Room `json:"rooms"`
	// Truncated: more rooms match than one answer carries; narrow the
	// query.
	Truncated bool `json:"truncated,omitempty"`
}

// OnlineUser is one user of GET /v1/online.
type OnlineUser struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name,omitempty"`
	Friend      bool     `json:"friend,omitempty"`
	Presence    Presence `json:"presence"`
}

// OnlineList is the reply to GET /v1/online: online (and away) users first,
// then by name.
type OnlineList struct {
	Users     []OnlineUser `json:"users"`
	Truncated bool         `json:"truncated,omitempty"`
}

func (h *handler) roomRoutes() {
	h.handle("GET /v1/rooms", func(r *http.Request) (any, error) {
		q := r.URL.Query().Get("q")
		if len(q) > 64 {
			return nil, Errorf(CodeInvalid, "the query is longer than 64 bytes")
		}
		rs, err := h.rooms.Rooms(r.Context(), q)
		rs.Rooms = nonNil(rs.Rooms)
		return rs, err
	})
	h.handle("POST /v1/rooms/{action}", func(r *http.Request) (any, error) {
		action := r.PathValue("action")
		switch action {
		case RoomCreate, RoomJoin, RoomLeave, RoomTopic, RoomAdmin, RoomUnadmin, RoomKick, RoomBan, RoomUnban:
		default:
			return nil, Errorf(CodeInvalid, "unknown room action %q (create, join, leave, topic, admin, unadmin, kick, ban or unban)", action)
		}
		req, err := decode[RoomRequest](r)
		if err != nil {
			return nil, err
		}
		if req.Action != "" && req.Action != action {
			return nil, Errorf(CodeInvalid, "the body's action %q differs from the path's %q", req.Action, action)
		}
		req.Action = action
		return h.rooms.Room(r.Context(), req)
	})
	h.handle("GET /v1/online", func(r *http.Request) (any, error) {
		q := r.URL.Query()
		room := q.Get("room")
		if len(room) > 64 {
			return nil, Errorf(CodeInvalid, "the room name is longer than 64 bytes")
		}
		all := false
		if v := q.Get("all"); v != "" {
			var err error
			if all, err = strconv.ParseBool(v); err != nil {
				return nil, Errorf(CodeInvalid, "all=%q is not a boolean", v)
			}
		}
		o, err := h.rooms.Online(r.Context(), room, all)
		o.Users = nonNil(o.Users)
		return o, err
	})
}

// Rooms lists the room directory, filtered by a name prefix.
func (c *Client) Rooms(ctx context.Context, query string) (Rooms, error) {
	p := "/v1/rooms"
	if query != "" {
		p += "?q=" + url.QueryEscape(query)
	}
	return call[Rooms](ctx, c, http.MethodGet, p, nil)
}

// Room runs the room action req.Action.
func (c *Client) Room(ctx context.Context, req RoomRequest) (Group, error) {
	p, err := path("/v1/rooms/{}", req.Action)
	if err != nil {
		return Group{}, err
	}
	return call[Group](ctx, c, http.MethodPost, p, req)
}

// Online lists who is online among the user's contacts and rooms, or in
// one room.
func (c *Client) Online(ctx context.Context, room string, all bool) (OnlineList, error) {
	v := url.Values{}
	if room != "" {
		v.Set("room", room)
	}
	if all {
		v.Set("all", "true")
	}
	p := "/v1/online"
	if len(v) > 0 {
		p += "?" + v.Encode()
	}
	return call[OnlineList](ctx, c, http.MethodGet, p, nil)
}
