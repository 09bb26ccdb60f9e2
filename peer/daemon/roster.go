package daemon

import (
	"slices"

	"github.com/lanchat/lanchat/internal/wire"
)

// roster is the daemon's copy of what the server last said about the
// user's friends, groups and their presence. It lets the daemon decide who
// may talk to it and where to reach them while the server is away. It is
// guarded by Daemon.mu.
type roster struct {
	// known is false until the first sync with the server: until then
	// every pinned contact is accepted (serverless operation).
	known    bool
	friends  map[string]wire.Friend
	presence map[string]wire.Presence
	groups   map[string]wire.Group // by name
	members  map[string][]string   // group name → usernames
	invites  []wire.GroupInvite
	incoming []wire.FriendRequestInfo
	outgoing []wire.FriendRequestInfo
}

func newRoster() roster {
	return roster{
		friends:  make(map[string]wire.Friend),
		presence: make(map[string]wire.Presence),
		groups:   make(map[string]wire.Group),
		members:  make(map[string][]string),
	}
}

// related reports whether user is a friend or shares a group with us.
func (r *roster) related(user string) bool {
	if _, ok := r.friends[user]; ok {
		return true
	}
	for _, ms := range r.members {
		if slices.Contains(ms, user) {
			return true
		}
	}
	return false
}

// groupByID finds a group by its id.
func (r *roster) groupByID(id string) (wire.Group, bool) {
	for _, g := range r.groups {
		if g.ID == id {
			return g, true
		}
	}
	return wire.Group{}, false
}

// contacts lists everyone related to us, each once.
func (r *roster) contacts() []string {
	seen := make(map[string]bool)
	var out []string
	add := func(u string) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	for u := range r.friends {
		add(u)
	}
	for _, ms := range r.members {
		for _, u := range ms {
			add(u)
		}
	}
	slices.Sort(out)
	return out
}

// setPresence records a presence update.
func (r *roster) setPresence(p wire.Presence) {
	r.presence[p.Username] = p
	if f, ok := r.friends[p.Username]; ok {
		f.Presence = p
		r.friends[p.Username] = f
	}
}
