package daemon

import (
	"context"
	"slices"
	"strings"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
)

// Limits on what local clients may ask for.
const (
	defaultHistory = 50
	maxHistory     = 1000
	maxRecent      = 200
	maxSearch      = 200
	maxUserSearch  = 50
)

var _ api.Service = (*Daemon)(nil)

// Register creates the account on the server and logs in.
func (d *Daemon) Register(ctx context.Context, req api.RegisterRequest) (api.Me, error) {
	return d.session.Register(ctx, req)
}

// Login logs in with a password.
func (d *Daemon) Login(ctx context.Context, req api.LoginRequest) (api.Me, error) {
	return d.session.Login(ctx, req)
}

// Logout ends the session; history and keys stay.
func (d *Daemon) Logout(ctx context.Context) error { return d.session.Logout(ctx) }

// Passwd changes the password.
func (d *Daemon) Passwd(ctx context.Context, req api.PasswdRequest) error {
	return d.session.Passwd(ctx, req)
}

// SetProfile changes display name, email or phone.
func (d *Daemon) SetProfile(ctx context.Context, req api.ProfileRequest) (api.Me, error) {
	return d.session.SetProfile(ctx, req)
}

// Verify returns the safety number shared with user.
func (d *Daemon) Verify(ctx context.Context, user string) (api.Verification, error) {
	return d.keyring.Verify(ctx, user)
}

// Confirm marks user verified.
func (d *Daemon) Confirm(ctx context.Context, user string, req api.KeyRequest) (api.Verification, error) {
	return d.keyring.Confirm(ctx, user, req)
}

// Trust accepts user's changed identity key.
func (d *Daemon) Trust(ctx context.Context, user string, req api.KeyRequest) (api.Contact, error) {
	return d.keyring.Trust(ctx, user, req)
}

// Send writes a text message to a user or a #group.
func (d *Daemon) Send(ctx context.Context, req api.SendRequest) (api.SendResult, error) {
	return d.messages.Send(ctx, req)
}

// History returns a conversation's latest messages and marks it read.
func (d *Daemon) History(ctx context.Context, target string, limit int, search, before string) ([]api.Message, error) {
	return d.messages.History(ctx, target, limit, search, before)
}

// Search searches all conversations.
func (d *Daemon) Search(ctx context.Context, text string, limit int) ([]api.Message, error) {
	return d.messages.Search(ctx, text, limit)
}

// Recent lists conversations by last activity.
func (d *Daemon) Recent(ctx context.Context) ([]api.Conversation, error) {
	return d.messages.Recent(ctx)
}

// SendFile offers files and folders to a user or a #group.
func (d *Daemon) SendFile(ctx context.Context, req api.SendFileRequest) (api.SendFileResult, error) {
	return d.transfers.SendFile(ctx, req)
}

// Transfers lists transfers both ways, newest first.
func (d *Daemon) Transfers(ctx context.Context) ([]api.Transfer, error) {
	return d.transfers.Transfers(ctx)
}

// TransferAction accepts, rejects or cancels a transfer.
func (d *Daemon) TransferAction(ctx context.Context, id, action string, req api.AcceptRequest) (api.Transfer, error) {
	return d.transfers.TransferAction(ctx, id, action, req)
}

// Status describes the daemon.
func (d *Daemon) Status(ctx context.Context) (api.Status, error) {
	st := api.Status{
		Home:            d.home.Dir(),
		Server:          d.link.Addr(),
		Fingerprint:     d.link.Fingerprint(),
		ServerConnected: d.link.Connected(),
		Peers:           d.peers.list(),
		Version:         d.cfg.Version,
	}
	if st.Peers == nil {
		st.Peers = []string{}
	}
	_, unconfirmed := d.link.Unconfirmed()
	st.ServerUnconfirmed = unconfirmed != ""
	if t := d.currentTransport(); t != nil {
		st.Listen = t.LocalAddr().String()
	}
	me := d.session.profile()
	if me.Username != "" {
		st.LoggedIn = true
		m := d.session.meOf(me)
		st.Me = &m
	}
	st.Outbox = d.outbox.Count(ctx)
	return st, nil
}

// SearchUsers searches the server's directory.
func (d *Daemon) SearchUsers(ctx context.Context, query string, limit int) ([]api.User, error) {
	if _, err := d.session.requireLogin(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > maxUserSearch {
		limit = maxUserSearch
	}
	var resp wire.UsersSearchResponse
	if err := d.link.Call(ctx, wire.OpUsersSearch, wire.UsersSearchRequest{Query: query, Limit: limit}, &resp); err != nil {
		return nil, fromServer(err)
	}
	out := make([]api.User, 0, len(resp.Users))
	for _, u := range resp.Users {
		out = append(out, api.User{Username: u.Username, DisplayName: u.DisplayName})
	}
	return out, nil
}

// Friends lists friends from the server, or from the last sync while the
// server is away.
func (d *Daemon) Friends(ctx context.Context) ([]api.Friend, error) {
	if _, err := d.session.requireLogin(); err != nil {
		return nil, err
	}
	if d.link.HasSession() {
		if err := d.feed.syncRoster(ctx); err != nil {
			d.log.Debug("refresh friends", "err", err)
		}
	}
	friends := d.roster.Friends()
	out := make([]api.Friend, 0, len(friends))
	avatars := d.avatars.keptAvatarIDs(ctx)
	for _, f := range friends {
		af := api.Friend{Username: f.Username, DisplayName: f.DisplayName, Avatar: avatars[f.Username], Presence: presenceOf(f.Presence), Direct: d.peers.get(f.Username) != nil}
		if c, err := d.db.Contact(ctx, f.Username); err == nil {
			af.Verified, af.Held, af.SameKey = c.Verified, c.Held(), c.SameKey
		}
		out = append(out, af)
	}
	slices.SortFunc(out, func(a, b api.Friend) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}

// FriendRequests lists pending requests both ways.
func (d *Daemon) FriendRequests(ctx context.Context) (api.FriendRequests, error) {
	if _, err := d.session.requireLogin(); err != nil {
		return api.FriendRequests{}, err
	}
	var fl wire.FriendsListResponse
	if err := d.link.Call(ctx, wire.OpFriendsList, nil, &fl); err != nil {
		return api.FriendRequests{}, fromServer(err)
	}
	out := api.FriendRequests{Incoming: []api.FriendRequest{}, Outgoing: []api.FriendRequest{}}
	for _, r := range fl.Incoming {
		out.Incoming = append(out.Incoming, api.FriendRequest{User: r.From, DisplayName: r.DisplayName, At: r.At})
	}
	for _, r := range fl.Outgoing {
		out.Outgoing = append(out.Outgoing, api.FriendRequest{User: r.To, DisplayName: r.DisplayName, At: r.At})
	}
	return out, nil
}

// Friend sends a friend request, accepts, rejects or removes.
func (d *Daemon) Friend(ctx context.Context, action, user string) (api.FriendResult, error) {
	if _, err := d.session.requireLogin(); err != nil {
		return api.FriendResult{}, err
	}
	req := wire.UserRequest{Username: user}
	res := api.FriendResult{Status: "done"}
	var err error
	switch action {
	case api.FriendAdd:
		var r wire.FriendRequestResponse
		err = d.link.Call(ctx, wire.OpFriendRequest, req, &r)
		res.Status = r.Status
	case api.FriendAccept:
		err = d.link.Call(ctx, wire.OpFriendAccept, req, nil)
		res.Status = "accepted"
	case api.FriendReject:
		err = d.link.Call(ctx, wire.OpFriendReject, req, nil)
	case api.FriendRemove:
		err = d.link.Call(ctx, wire.OpFriendRemove, req, nil)
	default:
		return res, api.Errorf(api.CodeInvalid, "unknown friend action %q (add, accept, reject or remove)", action)
	}
	if err != nil {
		return api.FriendResult{}, fromServer(err)
	}
	if err := d.feed.syncRoster(ctx); err != nil {
		d.log.Warn("sync after friend change", "err", err)
	}
	if action == api.FriendRemove {
		if !d.roster.Related(strings.ToLower(user)) {
			d.peers.close(strings.ToLower(user))
		}
	}
	d.outbox.Kick()
	return res, nil
}

// Groups lists my groups and invitations.
func (d *Daemon) Groups(ctx context.Context) (api.Groups, error) {
	if _, err := d.session.requireLogin(); err != nil {
		return api.Groups{}, err
	}
	var gl wire.GroupsListResponse
	if err := d.link.Call(ctx, wire.OpGroupsList, nil, &gl); err != nil {
		return api.Groups{}, fromServer(err)
	}
	out := api.Groups{Groups: []api.Group{}, Invites: []api.GroupInvite{}}
	for _, g := range gl.Groups {
		out.Groups = append(out.Groups, groupOf(g))
	}
	for _, inv := range gl.Invites {
		out.Invites = append(out.Invites, api.GroupInvite{Group: groupOf(inv.Group), By: inv.By, At: inv.At})
	}
	return out, nil
}

// Group runs a group action on the server.
func (d *Daemon) Group(ctx context.Context, req api.GroupRequest) (api.Group, error) {
	if _, err := d.session.requireLogin(); err != nil {
		return api.Group{}, err
	}
	name := strings.TrimPrefix(req.Name, "#")
	var g wire.Group
	var err error
	switch req.Action {
	case api.GroupCreate:
		err = d.link.Call(ctx, wire.OpGroupCreate, wire.GroupRequest{Group: name}, &g)
	case api.GroupInviteUser:
		err = d.link.Call(ctx, wire.OpGroupInvite, wire.GroupUserRequest{Group: name, Username: req.User}, nil)
	case api.GroupJoin:
		err = d.link.Call(ctx, wire.OpGroupJoin, wire.GroupRequest{Group: name}, &g)
	case api.GroupLeave:
		err = d.link.Call(ctx, wire.OpGroupLeave, wire.GroupRequest{Group: name}, nil)
	case api.GroupKick:
		err = d.link.Call(ctx, wire.OpGroupKick, wire.GroupUserRequest{Group: name, Username: req.User}, nil)
	case api.GroupRename:
		err = d.link.Call(ctx, wire.OpGroupRename, wire.GroupRenameRequest{Group: name, Name: strings.TrimPrefix(req.NewName, "#")}, &g)
	case api.GroupDelete:
		err = d.link.Call(ctx, wire.OpGroupDelete, wire.GroupRequest{Group: name}, nil)
	default:
		return api.Group{}, api.Errorf(api.CodeInvalid, "unknown group action %q", req.Action)
	}
	if err != nil {
		return api.Group{}, fromServer(err)
	}
	if err := d.feed.syncRoster(ctx); err != nil {
		d.log.Warn("sync after group change", "err", err)
	}
	if g.ID == "" {
		if rg, _, ok := d.roster.Group(name); ok {
			g = rg
		}
	}
	if g.Name == "" {
		g.Name = strings.ToLower(name)
	}
	return groupOf(g), nil
}

// GroupMembers lists a group's members with presence.
func (d *Daemon) GroupMembers(ctx context.Context, name string) (api.GroupMembers, error) {
	if _, err := d.session.requireLogin(); err != nil {
		return api.GroupMembers{}, err
	}
	var gm wire.GroupMembersResponse
	if err := d.link.Call(ctx, wire.OpGroupMembers, wire.GroupRequest{Group: strings.TrimPrefix(name, "#")}, &gm); err != nil {
		return api.GroupMembers{}, fromServer(err)
	}
	out := api.GroupMembers{Group: groupOf(gm.Group), Members: make([]api.Member, 0, len(gm.Members))}
	for _, m := range gm.Members {
		out.Members = append(out.Members, api.Member{Username: m.Username, DisplayName: m.DisplayName, Avatar: m.Avatar, Owner: m.Owner, Admin: m.Admin, Presence: presenceOf(m.Presence)})
	}
	return out, nil
}

// Avatar returns the avatar kept for user.
func (d *Daemon) Avatar(ctx context.Context, user string) (api.Avatar, error) {
	return d.avatars.Avatar(ctx, user)
}

// Focus records the conversation a client shows (for notifications).
func (d *Daemon) Focus(ctx context.Context, req api.FocusRequest) error {
	if d.notifier != nil {
		d.notifier.Focus(req.Client, req.Conversation, req.Open)
	}
	return nil
}

// Subscribe streams events to a local client.
func (d *Daemon) Subscribe(ctx context.Context) <-chan api.Event {
	return d.events.subscribe(ctx)
}

// Typing tells a contact, over a direct connection, that the user types.
func (d *Daemon) Typing(ctx context.Context, req api.TypingRequest) error {
	return d.messages.Typing(ctx, req)
}
