package rendezvous

import (
	"context"
	"errors"
	"fmt"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// opKeysGetMany is keys.get for up to wire.MaxKeysBatch users at once:
// the keys of those keys.get would answer for, and the names of the
// others in missing, whether they exist or not (see keysVisible). Whom
// the asker shares a friendship or a group with is read once for the
// whole request.
func opKeysGetMany(ctx context.Context, c *conn, req *wire.KeysGetManyRequest) (any, *wire.Error) {
	if n := len(req.Usernames); n == 0 || n > wire.MaxKeysBatch {
		return nil, wire.Invalid("usernames", "must name 1 to %d users", wire.MaxKeysBatch)
	}
	names := make([]string, 0, len(req.Usernames))
	seen := make(map[string]bool, len(req.Usernames))
	for i, name := range req.Usernames {
		n, werr := wire.NormalizeUsername(fmt.Sprintf("usernames[%d]", i), name)
		if werr != nil {
			return nil, werr
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	s := c.srv
	asker := c.authedUser()
	contacts, err := s.store.Contacts(ctx, asker)
	if err != nil {
		return nil, c.internal("keys.get_many: list contacts", err)
	}
	related := make(map[string]bool, len(contacts)+1)
	related[asker] = true
	for _, u := range contacts {
		related[u] = true
	}
	resp := wire.KeysGetManyResponse{Keys: make([]wire.KeysResponse, 0, len(names))}
	for _, n := range names {
		u, err := s.store.User(ctx, n)
		switch {
		case errors.Is(err, store.ErrNotFound) || err == nil && u.Disabled:
			resp.Missing = append(resp.Missing, n)
			continue
		case err != nil:
			return nil, c.internal("keys.get_many: look up user", err)
		}
		if !related[n] {
			// Not a friend or co-member: perhaps one side of a
			// pending friend request, as keys.get allows.
			ok, err := s.keysVisible(ctx, asker, n)
			if err != nil {
				return nil, c.internal("keys.get_many: check relation", err)
			}
			if !ok {
				resp.Missing = append(resp.Missing, n)
				continue
			}
		}
		resp.Keys = append(resp.Keys, wire.KeysResponse{Username: u.Name, IdentityKey: u.IdentityKey, Prekey: u.Prekey})
	}
	return resp, nil
}
