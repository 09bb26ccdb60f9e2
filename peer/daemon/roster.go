package daemon

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/history"
)

// roster is the daemon's copy of what the server last said about the
// user's friends, groups and their presence. It lets the daemon decide who
// may talk to it and where to reach them while the server is away. It is
// guarded by Daemon.mu.
//
// It fails closed: with no roster at all nobody is admitted; a restarted
// daemon applies the roster it kept on disk (history.Roster) until it
// syncs, so a removed friend or a kicked member stays out.
type roster struct {
	// known is false until a roster is in effect: the one kept on disk,
	// loaded at start, or one synced with the server. Until then no
	// contact is related, so nobody is admitted.
	known bool
	// synced is set once this run of the daemon has synced the roster
	// with the server. Until then the roster is the one kept on disk,
	// older than the server's: it decides who may connect and send, but
	// nobody's files are taken without asking.
	synced   bool
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

// rosterOf makes the roster kept on disk into the daemon's, not synced.
func rosterOf(h history.Roster) roster {
	r := newRoster()
	r.known = true
	for _, f := range h.Friends {
		r.friends[f.Username] = wire.Friend{Username: f.Username, DisplayName: f.DisplayName,
			Presence: wire.Presence{Username: f.Username, Status: wire.StatusOffline}}
	}
	for _, g := range h.Groups {
		r.groups[g.Name] = wire.Group{ID: g.ID, Name: g.Name, Owner: g.Owner, Members: len(g.Members), Created: g.Created}
		r.members[g.Name] = slices.Clone(g.Members)
	}
	return r
}

// stored is what of r is kept on disk.
func (r *roster) stored(at time.Time) history.Roster {
	h := history.Roster{Synced: at}
	for _, f := range r.friends {
		h.Friends = append(h.Friends, history.RosterFriend{Username: f.Username, DisplayName: f.DisplayName})
	}
	for name, g := range r.groups {
		h.Groups = append(h.Groups, history.RosterGroup{ID: g.ID, Name: g.Name, Owner: g.Owner, Created: g.Created,
			Members: slices.Clone(r.members[name])})
	}
	return h
}

// loadRoster applies the roster kept on disk, if any, until the first
// sync of this run.
func (d *Daemon) loadRoster(ctx context.Context) error {
	h, err := d.db.LoadRoster(ctx)
	if errors.Is(err, history.ErrNotFound) {
		d.log.Info("no roster kept from an earlier run: nobody is admitted until the server is reached")
		return nil
	}
	if err != nil {
		return err
	}
	d.mu.Lock()
	if !d.roster.synced {
		d.roster = rosterOf(h)
	}
	d.mu.Unlock()
	d.log.Info("applying the roster kept from the last sync until the server is reached", "synced", h.Synced,
		"friends", len(h.Friends), "groups", len(h.Groups))
	return nil
}

// syncWait bounds how long an offer waits for the first roster sync of a
// run while the server session is up.
const syncWait = 10 * time.Second

// waitSynced waits, while the server session is up, until this run has
// synced the roster, at most syncWait. With the server away it returns
// at once: the roster kept on disk is what there is.
func (d *Daemon) waitSynced(ctx context.Context) {
	if d.link == nil || d.synced == nil {
		return
	}
	deadline := time.NewTimer(syncWait)
	defer deadline.Stop()
	// Look at the session again now and then: it may have ended.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for d.link.HasSession() {
		select {
		case <-d.synced:
			return
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
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
