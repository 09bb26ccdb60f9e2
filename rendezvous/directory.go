package rendezvous

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/wire"
)

const defaultSearchLimit = 20

func opUsersSearch(ctx context.Context, c *conn, req *wire.UsersSearchRequest) (any, *wire.Error) {
	q := strings.TrimSpace(req.Query)
	if q == "" || !utf8.ValidString(q) || len(q) > wire.MaxSearchQuery {
		return nil, wire.Invalid("query", "must be 1 to %d bytes of UTF-8", wire.MaxSearchQuery)
	}
	limit := req.Limit
	switch {
	case limit == 0:
		limit = defaultSearchLimit
	case limit < 0 || limit > wire.MaxSearchLimit:
		return nil, wire.Invalid("limit", "must be 1 to %d", wire.MaxSearchLimit)
	}
	users, err := c.srv.store.SearchUsers(ctx, q, limit)
	if err != nil {
		return nil, c.internal("search users", err)
	}
	resp := wire.UsersSearchResponse{Users: make([]wire.UserSummary, 0, len(users))}
	for _, u := range users {
		resp.Users = append(resp.Users, wire.UserSummary{Username: u.Name, DisplayName: u.DisplayName})
	}
	return resp, nil
}

// opKeysGet answers only for users related to the asker (see
// keysVisible); anyone else gets the reply of a user that does not exist,
// so that a name cannot be matched to a key seen on the LAN.
func opKeysGet(ctx context.Context, c *conn, req *wire.UserRequest) (any, *wire.Error) {
	u, werr := c.lookupUser(ctx, "username", req.Username)
	if werr != nil {
		return nil, werr
	}
	ok, err := c.srv.keysVisible(ctx, c.authedUser(), u.Name)
	if err != nil {
		return nil, c.internal("keys.get: check relation", err)
	}
	if !ok {
		return nil, &wire.Error{Code: wire.CodeNotFound, Field: "username", Message: "no user " + u.Name}
	}
	return wire.KeysResponse{Username: u.Name, IdentityKey: u.IdentityKey, Prekey: u.Prekey}, nil
}
