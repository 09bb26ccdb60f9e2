package rendezvous

import (
	"context"
	"slices"
	"strings"

	"github.com/lanchat/lanchat/internal/wire"
)

// opUsersOnline lists who is online among the caller's contacts (friends
// and the members of their groups and rooms), or among one room's members
// if the caller is in it. Nobody else's presence is told: the candidates
// are exactly those who already see each other's presence events.
func opUsersOnline(ctx context.Context, c *conn, req *wire.UsersOnlineRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	var candidates []string
	if req.Room != "" {
		r, werr := c.memberRoom(ctx, req.Room)
		if werr != nil {
			return nil, werr
		}
		members, err := s.store.Members(ctx, r.ID)
		if err != nil {
			return nil, c.internal("online: members", err)
		}
		for _, m := range members {
			if m.User != me {
				candidates = append(candidates, m.User)
			}
		}
	} else {
		var err error
		if candidates, err = s.store.Contacts(ctx, me); err != nil {
			return nil, c.internal("online: contacts", err)
		}
	}
	friendList, err := s.store.Friends(ctx, me)
	if err != nil {
		return nil, c.internal("online: friends", err)
	}
	friends := make(map[string]bool, len(friendList))
	for _, f := range friendList {
		friends[f] = true
	}
	// Online first: a live connection is cheap to look up, the store
	// record only for those listed.
	var online, offline []string
	for _, u := range candidates {
		if s.onlineAnywhere(u) {
			online = append(online, u)
		} else if req.All {
			offline = append(offline, u)
		}
	}
	slices.Sort(online)
	slices.Sort(offline)
	resp := wire.UsersOnlineResponse{Users: []wire.OnlineUser{}}
	listed := slices.Concat(online, offline)
	if len(listed) > wire.MaxOnlineLimit {
		listed, resp.Truncated = listed[:wire.MaxOnlineLimit], true
	}
	recs, err := s.store.UsersNamed(ctx, listed)
	if err != nil {
		return nil, c.internal("online: accounts", err)
	}
	for _, rec := range recs {
		if rec.Disabled {
			continue
		}
		p := s.presenceOf(rec)
		if !req.All && p.Status == wire.StatusOffline {
			continue // went away since
		}
		resp.Users = append(resp.Users, wire.OnlineUser{Username: rec.Name, DisplayName: rec.DisplayName,
			Friend: friends[rec.Name], Presence: p})
	}
	sortMembers(resp.Users, func(u wire.OnlineUser) (string, string) { return u.Username, u.Presence.Status })
	return resp, nil
}

// sortMembers orders users online (or away) first, then by name.
func sortMembers[T any](users []T, key func(T) (name, status string)) {
	slices.SortStableFunc(users, func(a, b T) int {
		an, as := key(a)
		bn, bs := key(b)
		ao, bo := as != wire.StatusOffline, bs != wire.StatusOffline
		if ao != bo {
			if ao {
				return -1
			}
			return 1
		}
		return strings.Compare(an, bn)
	})
}
