package rendezvous

import (
	"context"
	"errors"

	"github.com/lanchat/lanchat/internal/media"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// checkAvatar refuses an avatar that is not what media.Avatar makes: a
// square JPEG of at most media.AvatarSide pixels, under media.MaxAvatar
// bytes, that decodes within bounds (no decompression bomb gets past the
// header check).
func checkAvatar(ctx context.Context, avatar []byte) *wire.Error {
	if len(avatar) == 0 {
		return nil
	}
	if _, err := media.CheckAvatar(ctx, avatar); err != nil {
		return &wire.Error{Code: wire.CodeInvalid, Field: "avatar",
			Message: err.Error() + " (an avatar is a square JPEG of at most 256 pixels, under 64 KiB)"}
	}
	return nil
}

// currentAvatar is the avatar a profile update keeps when it does not
// replace it.
func (s *Server) currentAvatar(ctx context.Context, u store.User) ([]byte, error) {
	if u.AvatarID == "" {
		return nil, nil
	}
	av, err := s.store.Avatar(ctx, u.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return av, err
}

// opAvatarGet answers, like keys.get, only about the asker and users
// related to the asker; anyone else gets the reply of a user that does
// not exist.
func opAvatarGet(ctx context.Context, c *conn, req *wire.UserRequest) (any, *wire.Error) {
	u, werr := c.lookupUser(ctx, "username", req.Username)
	if werr != nil {
		return nil, werr
	}
	me := c.authedUser()
	ok := me == u.Name
	if !ok {
		var err error
		if ok, err = c.srv.related(ctx, me, u.Name); err != nil {
			return nil, c.internal("avatar.get: check relation", err)
		}
	}
	if !ok {
		return nil, &wire.Error{Code: wire.CodeNotFound, Field: "username", Message: "no user " + u.Name}
	}
	av, err := c.srv.store.Avatar(ctx, u.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &wire.Error{Code: wire.CodeNotFound, Field: "username", Message: u.Name + " has no avatar"}
	}
	if err != nil {
		return nil, c.internal("avatar.get: store", err)
	}
	return wire.AvatarResponse{Username: u.Name, ID: wire.AvatarID(av), Avatar: av}, nil
}

// broadcastProfile tells user's online contacts that its profile changed,
// so their daemons fetch the new avatar.
func (s *Server) broadcastProfile(ctx context.Context, u store.User) {
	contacts, err := s.store.Contacts(ctx, u.Name)
	if err != nil {
		s.log.Warn("list contacts for profile change", "user", u.Name, "err", err)
		return
	}
	ev := wire.ProfileEvent{Username: u.Name, DisplayName: u.DisplayName, Avatar: u.AvatarID}
	for _, other := range contacts {
		s.hub.push(other, wire.EvProfile, ev)
	}
}
