// Package roster is the daemon's copy of what the server last said about
// the user's friends, groups and their presence. It decides who may talk
// to the daemon and where to reach them while the server is away.
//
// It fails closed: with no roster at all nobody is related; a restarted
// daemon applies the roster it kept on disk (history.Roster) until it
// syncs, so a removed friend or a kicked member stays out; and until this
// run has synced, nobody's files are taken without asking.
package roster

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/history"
)

// Caller makes one call to the server (a *link.Link).
type Caller interface {
	Call(ctx context.Context, op string, req, resp any) error
}

// Roster is safe for concurrent use.
type Roster struct {
	// syncMu makes syncs run one at a time, so an older answer never
	// replaces a newer one.
	syncMu sync.Mutex
	// synced is closed by the first sync.
	synced     chan struct{}
	syncedOnce sync.Once

	mu sync.Mutex
	v  view
}

// view is one roster: the one kept on disk or one synced.
type view struct {
	// known is false until a roster is in effect: the one kept on disk,
	// loaded at start, or one synced with the server. Until then no
	// contact is related, so nobody is admitted.
	known bool
	// synced is set once this run has synced with the server.
	synced   bool
	friends  map[string]wire.Friend
	presence map[string]wire.Presence
	groups   map[string]wire.Group // by name
	members  map[string][]string   // group name → usernames
}

func newView() view {
	return view{
		friends:  make(map[string]wire.Friend),
		presence: make(map[string]wire.Presence),
		groups:   make(map[string]wire.Group),
		members:  make(map[string][]string),
	}
}

// New returns an empty roster, which relates nobody.
func New() *Roster {
	return &Roster{synced: make(chan struct{}), v: newView()}
}

// Load applies the roster kept on disk, unless this run has synced.
func (r *Roster) Load(h history.Roster) {
	v := newView()
	v.known = true
	for _, f := range h.Friends {
		v.friends[f.Username] = wire.Friend{Username: f.Username, DisplayName: f.DisplayName,
			Presence: wire.Presence{Username: f.Username, Status: wire.StatusOffline}}
	}
	for _, g := range h.Groups {
		v.groups[g.Name] = wire.Group{ID: g.ID, Name: g.Name, Owner: g.Owner, Members: len(g.Members), Created: g.Created}
		v.members[g.Name] = slices.Clone(g.Members)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.v.synced {
		r.v = v
	}
}

// Synced is what one sync got from the server.
type Synced struct {
	// Groups are the groups and rooms, each with a conversation.
	Groups []wire.Group
	// Stored is what is kept on disk for the next start.
	Stored history.Roster
	// Avatars maps each friend and member to the avatar id the server
	// gave; Eager says whose avatars are fetched at once (friends and
	// group members, not those only met in rooms).
	Avatars map[string]string
	Eager   map[string]bool
}

// Sync fetches friends, groups and members from the server and makes
// them the roster. Syncs run one at a time.
func (r *Roster) Sync(ctx context.Context, server Caller, now time.Time) (Synced, error) {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	var fl wire.FriendsListResponse
	if err := server.Call(ctx, wire.OpFriendsList, nil, &fl); err != nil {
		return Synced{}, err
	}
	var gl wire.GroupsListResponse
	if err := server.Call(ctx, wire.OpGroupsList, nil, &gl); err != nil {
		return Synced{}, err
	}
	// Rooms are groups anyone may join: the roster holds them alike.
	groups := slices.Concat(gl.Groups, gl.Rooms)
	v := newView()
	v.known, v.synced = true, true
	avatars := make(map[string]string)
	eager := make(map[string]bool)
	for _, g := range groups {
		var gm wire.GroupMembersResponse
		if err := server.Call(ctx, wire.OpGroupMembers, wire.GroupRequest{Group: g.Name}, &gm); err != nil {
			return Synced{}, err
		}
		for _, m := range gm.Members {
			v.members[g.Name] = append(v.members[g.Name], m.Username)
			v.presence[m.Username] = m.Presence
			avatars[m.Username] = m.Avatar
			eager[m.Username] = eager[m.Username] || !g.Room
		}
		v.groups[g.Name] = g
	}
	for _, f := range fl.Friends {
		v.friends[f.Username] = f
		v.presence[f.Username] = f.Presence
		avatars[f.Username] = f.Avatar
		eager[f.Username] = true
	}
	r.mu.Lock()
	r.v = v
	stored := v.stored(now)
	r.mu.Unlock()
	r.syncedOnce.Do(func() { close(r.synced) })
	return Synced{Groups: groups, Stored: stored, Avatars: avatars, Eager: eager}, nil
}

// stored is what of v is kept on disk.
func (v *view) stored(at time.Time) history.Roster {
	h := history.Roster{Synced: at}
	for _, f := range v.friends {
		h.Friends = append(h.Friends, history.RosterFriend{Username: f.Username, DisplayName: f.DisplayName})
	}
	for name, g := range v.groups {
		h.Groups = append(h.Groups, history.RosterGroup{ID: g.ID, Name: g.Name, Owner: g.Owner, Created: g.Created,
			Members: slices.Clone(v.members[name])})
	}
	return h
}

// WaitSynced waits, while hasSession says the server session is up, until
// this run has synced, at most max. With the server away it returns at
// once: the roster kept on disk is what there is.
func (r *Roster) WaitSynced(ctx context.Context, hasSession func() bool, max time.Duration) {
	deadline := time.NewTimer(max)
	defer deadline.Stop()
	// Look at the session again now and then: it may have ended.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for hasSession() {
		select {
		case <-r.synced:
			return
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// Known reports whether a roster is in effect (kept on disk or synced).
func (r *Roster) Known() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.v.known
}

// HasSynced reports whether this run has synced with the server.
func (r *Roster) HasSynced() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.v.synced
}

// Related reports whether user is a friend or shares a group with us.
func (r *Roster) Related(user string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.v.related(user)
}

func (v *view) related(user string) bool {
	if _, ok := v.friends[user]; ok {
		return true
	}
	for _, ms := range v.members {
		if slices.Contains(ms, user) {
			return true
		}
	}
	return false
}

// TrustedFriend reports whether user is a friend by a sync of this run:
// the roster kept on disk is older than the server's, and may still list
// a friend removed since.
func (r *Roster) TrustedFriend(user string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, friend := r.v.friends[user]
	return friend && r.v.synced
}

// Member reports whether the group with id gid has user.
func (r *Roster) Member(gid, user string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, known := r.v.groupByID(gid)
	return known && slices.Contains(r.v.members[g.Name], user)
}

// Group finds a group by name, in any case, and lists its members.
func (r *Roster) Group(name string) (wire.Group, []string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.v.groups[strings.ToLower(name)]
	return g, slices.Clone(r.v.members[g.Name]), ok
}

// GroupByID finds a group by its id.
func (r *Roster) GroupByID(id string) (wire.Group, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.v.groupByID(id)
}

func (v *view) groupByID(id string) (wire.Group, bool) {
	for _, g := range v.groups {
		if g.ID == id {
			return g, true
		}
	}
	return wire.Group{}, false
}

// Friends lists the friends, in no order.
func (r *Roster) Friends() []wire.Friend {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]wire.Friend, 0, len(r.v.friends))
	for _, f := range r.v.friends {
		out = append(out, f)
	}
	return out
}

// Contacts lists everyone related to us, each once, sorted.
func (r *Roster) Contacts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[string]bool)
	var out []string
	add := func(u string) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	for u := range r.v.friends {
		add(u)
	}
	for _, ms := range r.v.members {
		for _, u := range ms {
			add(u)
		}
	}
	slices.Sort(out)
	return out
}

// SetPresence records a presence update.
func (r *Roster) SetPresence(p wire.Presence) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.v.presence[p.Username] = p
	if f, ok := r.v.friends[p.Username]; ok {
		f.Presence = p
		r.v.friends[p.Username] = f
	}
}

// Presence returns user's last known presence.
func (r *Roster) Presence(user string) (wire.Presence, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.v.presence[user]
	return p, ok
}

// Online lists the related users the server last said are not offline,
// sorted.
func (r *Roster) Online() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for u, p := range r.v.presence {
		if p.Status != wire.StatusOffline && r.v.related(u) {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

// SetProfile records a contact's new display name and avatar id. It
// reports whether user is related, and whether they are a close contact
// (a friend, or a co-member of a group that is not a room), whose avatar
// is fetched at once.
func (r *Roster) SetProfile(user, displayName, avatar string) (related, close bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.v.related(user) {
		return false, false
	}
	if f, ok := r.v.friends[user]; ok {
		f.DisplayName, f.Avatar = displayName, avatar
		r.v.friends[user] = f
		return true, true
	}
	for name, ms := range r.v.members {
		if !r.v.groups[name].Room && slices.Contains(ms, user) {
			return true, true
		}
	}
	return true, false
}
