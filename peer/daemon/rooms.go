package daemon

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/roster"
	"github.com/lanchat/lanchat/peer/link"
)

// Rooms are groups anyone on the server may find and join. The server
// keeps them; the daemon holds the rooms it is in in its roster beside
// its groups, so messages to #room go as group messages do: sealed per
// member, direct where a path is open, through the relay otherwise.

// roomOps serves the API's rooms and who-is-online calls from the
// server: the directory, joining and moderating, and presence.
type roomOps struct {
	session *session
	link    roomLink // set once the link exists
	feed    *serverFeed
	roster  *roster.Roster
	log     *slog.Logger
}

// roomLink is what roomOps needs of the server link.
type roomLink interface {
	Call(ctx context.Context, op string, req, resp any) error
}

// Rooms lists the server's room directory.
func (r *roomOps) Rooms(ctx context.Context, query string) (api.Rooms, error) {
	if _, err := r.session.requireLogin(); err != nil {
		return api.Rooms{}, err
	}
	var rl wire.RoomsListResponse
	if err := r.link.Call(ctx, wire.OpRoomsList, wire.RoomsListRequest{Query: strings.TrimPrefix(query, "#")}, &rl); err != nil {
		return api.Rooms{}, fromServer(err)
	}
	out := api.Rooms{Rooms: make([]api.Room, 0, len(rl.Rooms)), Truncated: rl.Truncated}
	for _, r := range rl.Rooms {
		out.Rooms = append(out.Rooms, api.Room{Name: r.Name, Topic: r.Topic, Owner: r.Owner, Members: r.Members,
			Online: r.Online, Lobby: r.Lobby, Joined: r.Joined, Banned: r.Banned, Created: r.Created})
	}
	return out, nil
}

// Room runs a room action on the server and syncs the roster after it.
func (r *roomOps) Room(ctx context.Context, req api.RoomRequest) (api.Group, error) {
	if _, err := r.session.requireLogin(); err != nil {
		return api.Group{}, err
	}
	name := strings.TrimPrefix(req.Name, "#")
	user := req.User
	var g wire.Group
	var err error
	switch req.Action {
	case api.RoomCreate:
		err = r.link.Call(ctx, wire.OpRoomCreate, wire.RoomCreateRequest{Room: name, Topic: req.Topic}, &g)
	case api.RoomJoin:
		err = r.link.Call(ctx, wire.OpRoomJoin, wire.RoomRequest{Room: name}, &g)
	case api.RoomLeave:
		err = r.link.Call(ctx, wire.OpRoomLeave, wire.RoomRequest{Room: name}, nil)
	case api.RoomTopic:
		err = r.link.Call(ctx, wire.OpRoomTopic, wire.RoomTopicRequest{Room: name, Topic: req.Topic}, &g)
	case api.RoomAdmin, api.RoomUnadmin:
		err = r.link.Call(ctx, wire.OpRoomAdmin, wire.RoomAdminRequest{Room: name, Username: user, Remove: req.Action == api.RoomUnadmin}, nil)
	case api.RoomKick:
		err = r.link.Call(ctx, wire.OpRoomKick, wire.RoomUserRequest{Room: name, Username: user}, nil)
	case api.RoomBan:
		err = r.link.Call(ctx, wire.OpRoomBan, wire.RoomUserRequest{Room: name, Username: user}, nil)
	case api.RoomUnban:
		err = r.link.Call(ctx, wire.OpRoomUnban, wire.RoomUserRequest{Room: name, Username: user}, nil)
	default:
		return api.Group{}, api.Errorf(api.CodeInvalid, "unknown room action %q", req.Action)
	}
	if err != nil {
		return api.Group{}, fromServer(err)
	}
	if err := r.feed.syncRoster(ctx); err != nil {
		r.log.Warn("sync after room change", "err", err)
	}
	if g.ID == "" {
		if rg, _, ok := r.roster.Group(name); ok {
			g = rg
		}
	}
	if g.Name == "" {
		g.Name, g.Room = strings.ToLower(name), true
	}
	return groupOf(g), nil
}

// Online lists who is online among the user's contacts and rooms.
func (r *roomOps) Online(ctx context.Context, room string, all bool) (api.OnlineList, error) {
	if _, err := r.session.requireLogin(); err != nil {
		return api.OnlineList{}, err
	}
	var ol wire.UsersOnlineResponse
	if err := r.link.Call(ctx, wire.OpUsersOnline, wire.UsersOnlineRequest{Room: strings.TrimPrefix(room, "#"), All: all}, &ol); err != nil {
		return api.OnlineList{}, fromServer(err)
	}
	out := api.OnlineList{Users: make([]api.OnlineUser, 0, len(ol.Users)), Truncated: ol.Truncated}
	for _, u := range ol.Users {
		out.Users = append(out.Users, api.OnlineUser{Username: u.Username, DisplayName: u.DisplayName,
			Friend: u.Friend, Presence: presenceOf(u.Presence)})
	}
	return out, nil
}

// roomPostTimeout bounds the wait for the server's count of a room
// message; past it the message goes uncounted.
const roomPostTimeout = 5 * time.Second

// chargeRoom asks the server to count message id against the sender's
// budget in the room target names, if target is a room. With the server
// away the message goes uncounted: members on the LAN still get it.
func (ms *messages) chargeRoom(ctx context.Context, target, id string) error {
	name, ok := strings.CutPrefix(target, "#")
	if !ok {
		return nil
	}
	g, _, known := ms.roster.Group(name)
	if !known || !g.Room || ms.link == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, roomPostTimeout)
	defer cancel()
	err := ms.link.Call(cctx, wire.OpRoomPost, wire.RoomPostRequest{Room: g.Name, ID: id}, nil)
	var werr *wire.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &werr):
		return fromWire(werr)
	case errors.Is(err, link.ErrOffline):
		return nil
	}
	ms.log.Debug("room post not counted", "room", g.Name, "err", err)
	return nil
}
