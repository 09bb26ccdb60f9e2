package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// Limits on what local clients may ask for.
const (
	defaultHistory = 50
	maxHistory     = 1000
	maxRecent      = 200
	maxSearch      = 200
	maxUserSearch  = 50
	maxOutboxCount = 10000
)

var _ api.Service = (*Daemon)(nil)

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
	d.mu.Lock()
	me := d.me
	d.mu.Unlock()
	if me.Username != "" {
		st.LoggedIn = true
		m := d.meOf(me)
		st.Me = &m
	}
	users, err := d.db.PendingRecipients(ctx)
	if err == nil {
		for _, u := range users {
			items, err := d.db.Pending(ctx, u, maxOutboxCount)
			if err == nil {
				st.Outbox += len(items)
			}
		}
	}
	return st, nil
}

// SearchUsers searches the server's directory.
func (d *Daemon) SearchUsers(ctx context.Context, query string, limit int) ([]api.User, error) {
	if _, err := d.requireLogin(); err != nil {
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
	if _, err := d.requireLogin(); err != nil {
		return nil, err
	}
	if d.link.HasSession() {
		if err := d.syncRoster(ctx); err != nil {
			d.log.Debug("refresh friends", "err", err)
		}
	}
	d.mu.Lock()
	friends := make([]wire.Friend, 0, len(d.roster.friends))
	for _, f := range d.roster.friends {
		friends = append(friends, f)
	}
	d.mu.Unlock()
	out := make([]api.Friend, 0, len(friends))
	avatars := d.keptAvatarIDs(ctx)
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
	if _, err := d.requireLogin(); err != nil {
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
	if _, err := d.requireLogin(); err != nil {
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
	if err := d.syncRoster(ctx); err != nil {
		d.log.Warn("sync after friend change", "err", err)
	}
	if action == api.FriendRemove {
		d.mu.Lock()
		related := d.roster.related(strings.ToLower(user))
		d.mu.Unlock()
		if !related {
			d.peers.close(strings.ToLower(user))
		}
	}
	d.kickFlush()
	return res, nil
}

// conversation maps a target ("user" or "#group") to its conversation id.
func (d *Daemon) conversation(ctx context.Context, target string) (string, error) {
	if name, ok := strings.CutPrefix(target, "#"); ok {
		d.mu.Lock()
		g, known := d.roster.groups[strings.ToLower(name)]
		d.mu.Unlock()
		if known {
			return history.Group(g.ID), nil
		}
		// Not in the roster (server away, or we left): look for a
		// conversation of that name in history.
		recent, err := d.db.Recent(ctx, maxRecent)
		if err == nil {
			for _, c := range recent {
				if strings.HasPrefix(c.Conversation, "g:") && strings.EqualFold(c.Name, target) {
					return c.Conversation, nil
				}
			}
		}
		return "", api.Errorf(api.CodeNotFound, "no group %s", target)
	}
	user, werr := wire.NormalizeUsername("target", target)
	if werr != nil {
		return "", api.Errorf(api.CodeInvalid, "%q is neither a username nor a #group", target)
	}
	return history.Direct(user), nil
}

// History returns a conversation's latest messages and marks it read.
func (d *Daemon) History(ctx context.Context, target string, limit int, search, before string) ([]api.Message, error) {
	if _, err := d.requireLogin(); err != nil {
		return nil, err
	}
	conv, err := d.conversation(ctx, target)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = defaultHistory
	}
	limit = min(limit, maxHistory)
	var msgs []history.Message
	if search != "" {
		msgs, err = d.db.Search(ctx, search, conv, limit)
		// Search gives newest first; history reads oldest first.
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
	} else {
		msgs, err = d.db.History(ctx, conv, limit, before)
	}
	if errors.Is(err, history.ErrInvalid) {
		return nil, api.Errorf(api.CodeInvalid, "%v", err)
	}
	if errors.Is(err, history.ErrNotFound) && before != "" {
		return nil, api.Errorf(api.CodeNotFound, "no message %s in the conversation with %s", before, target)
	}
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	d.markSeen(ctx, conv) // rich.go
	return d.richMessages(ctx, msgs), nil
}

// Search searches all conversations.
func (d *Daemon) Search(ctx context.Context, text string, limit int) ([]api.Message, error) {
	if _, err := d.requireLogin(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > maxSearch {
		limit = maxSearch
	}
	msgs, err := d.db.Search(ctx, text, "", limit)
	if errors.Is(err, history.ErrInvalid) {
		return nil, api.Errorf(api.CodeInvalid, "%v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return d.richMessages(ctx, msgs), nil
}

// Recent lists conversations by last activity.
func (d *Daemon) Recent(ctx context.Context) ([]api.Conversation, error) {
	if _, err := d.requireLogin(); err != nil {
		return nil, err
	}
	sums, err := d.db.Recent(ctx, maxRecent)
	if err != nil {
		return nil, fmt.Errorf("recent conversations: %w", err)
	}
	out := make([]api.Conversation, 0, len(sums))
	for _, s := range sums {
		out = append(out, api.Conversation{
			Target: d.target(s.Conversation, s.Name), Name: s.Name,
			LastActivity: s.LastActivity, Unread: s.Unread, Preview: s.Preview,
			PreviewFrom: s.PreviewFrom, Muted: s.Muted,
		})
	}
	return out, nil
}

// target turns a conversation id back into what the user types.
func (d *Daemon) target(conv, name string) string {
	if user, ok := strings.CutPrefix(conv, "u:"); ok {
		return user
	}
	id := strings.TrimPrefix(conv, "g:")
	d.mu.Lock()
	g, ok := d.roster.groupByID(id)
	d.mu.Unlock()
	if ok {
		return "#" + g.Name
	}
	if strings.HasPrefix(name, "#") {
		return name
	}
	return "#" + id
}

func (d *Daemon) apiMessage(m history.Message) *api.Message {
	return &api.Message{
		ID: m.ID, Conversation: d.target(m.Conversation, ""), From: m.From, Text: m.Body,
		Sent: m.Sent, ClaimedSent: m.Claimed, Outgoing: m.Outgoing, State: string(m.State), Via: string(m.Via),
		Error: m.Error,
	}
}

// Groups lists my groups and invitations.
func (d *Daemon) Groups(ctx context.Context) (api.Groups, error) {
	if _, err := d.requireLogin(); err != nil {
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
	if _, err := d.requireLogin(); err != nil {
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
	if err := d.syncRoster(ctx); err != nil {
		d.log.Warn("sync after group change", "err", err)
	}
	if g.ID == "" {
		d.mu.Lock()
		if rg, ok := d.roster.groups[strings.ToLower(name)]; ok {
			g = rg
		}
		d.mu.Unlock()
	}
	if g.Name == "" {
		g.Name = strings.ToLower(name)
	}
	return groupOf(g), nil
}

// GroupMembers lists a group's members with presence.
func (d *Daemon) GroupMembers(ctx context.Context, name string) (api.GroupMembers, error) {
	if _, err := d.requireLogin(); err != nil {
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
