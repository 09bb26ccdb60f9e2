package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/lanchat/lanchat/internal/media"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/roster"
	"github.com/lanchat/lanchat/peer/history"
)

// Avatars: the server keeps each user's avatar with the profile and names
// it by its id (wire.AvatarID) in friends.list, group.members and the
// profile event. The daemon keeps in history the avatars of the user and
// of every contact, fetching one (avatar.get) when its id changes, and
// serves them to local clients.

// avatarLink is what avatars needs of the server link.
type avatarLink interface {
	Call(ctx context.Context, op string, req, resp any) error
	HasSession() bool
}

// avatarStore is where avatars are kept (a *history.Store).
type avatarStore interface {
	Avatar(ctx context.Context, user string) (history.Avatar, error)
	AvatarIDs(ctx context.Context) (map[string]string, error)
	SetAvatar(ctx context.Context, user string, a history.Avatar) error
	DeleteAvatar(ctx context.Context, user string) error
}

// avatars keeps the avatars of the user and of the contacts.
type avatars struct {
	log     *slog.Logger
	session *session
	roster  *roster.Roster
	db      avatarStore // set once history is open
	link    avatarLink  // set once the link exists
	notify  func(api.Event)
}

// Avatar returns the avatar kept for user.
func (av *avatars) Avatar(ctx context.Context, user string) (api.Avatar, error) {
	if _, err := av.session.requireLogin(); err != nil {
		return api.Avatar{}, err
	}
	user = strings.ToLower(user)
	a, err := av.db.Avatar(ctx, user)
	if errors.Is(err, history.ErrNotFound) && av.fetchOnDemand(ctx, user) {
		a, err = av.db.Avatar(ctx, user)
	}
	if errors.Is(err, history.ErrNotFound) {
		return api.Avatar{}, api.Errorf(api.CodeNotFound, "no avatar for %s", user)
	}
	if err != nil {
		return api.Avatar{}, err
	}
	return api.Avatar{ID: a.ID, Data: a.Data}, nil
}

// fetchOnDemand fetches the avatar of someone met in a room, kept only
// once a client asks for it; it reports whether it fetched one.
func (av *avatars) fetchOnDemand(ctx context.Context, user string) bool {
	if !av.roster.Related(user) || av.link == nil || !av.link.HasSession() {
		return false
	}
	if err := av.fetchAvatar(ctx, user); err != nil {
		av.log.Debug("fetch avatar on demand", "user", user, "err", err)
		return false
	}
	return true
}

// keptAvatarIDs returns the ids of the avatars kept, by user; an empty
// map if they cannot be read (the lists then show initials).
func (av *avatars) keptAvatarIDs(ctx context.Context) map[string]string {
	ids, err := av.db.AvatarIDs(ctx)
	if err != nil {
		av.log.Warn("read avatar ids", "err", err)
		return map[string]string{}
	}
	return ids
}

// keepOwnAvatar keeps the avatar this user just set (or forgets it),
// without asking the server for what it was just sent.
func (av *avatars) keepOwnAvatar(ctx context.Context, me string, avatar *[]byte) {
	if avatar == nil {
		return
	}
	var err error
	if len(*avatar) == 0 {
		err = av.db.DeleteAvatar(ctx, me)
	} else {
		err = av.db.SetAvatar(ctx, me, history.Avatar{ID: wire.AvatarID(*avatar), Data: *avatar})
	}
	if err != nil {
		av.log.Warn("keep own avatar", "err", err)
	}
}

// refreshAvatars makes the avatars kept match want (user → avatar id, ""
// for none), which names the user and every contact. The avatars of the
// user, friends and co-members of groups (eager) are fetched when their
// id changed. Those of people met only in rooms (the lobby holds everyone)
// are fetched when a client asks for one (Avatar), so a daemon does not
// fetch a whole server's pictures; a kept one that changed is forgotten.
// Avatars removed, and those of users no longer related, are forgotten.
func (av *avatars) refreshAvatars(ctx context.Context, want map[string]string, eager map[string]bool) {
	kept, err := av.db.AvatarIDs(ctx)
	if err != nil {
		av.log.Warn("read avatar ids", "err", err)
		return
	}
	for user, id := range kept {
		if w, ok := want[user]; !ok || w == "" || w != id && !eager[user] {
			if err := av.db.DeleteAvatar(ctx, user); err != nil {
				av.log.Warn("forget avatar", "user", user, "err", err)
			}
		}
	}
	for user, id := range want {
		if id == "" || kept[user] == id || !eager[user] {
			continue
		}
		if err := av.fetchAvatar(ctx, user); err != nil {
			av.log.Warn("fetch avatar", "user", user, "err", err)
		}
	}
}

// fetchAvatar asks the server for user's avatar, checks it as the server
// did and keeps it.
func (av *avatars) fetchAvatar(ctx context.Context, user string) error {
	var ar wire.AvatarResponse
	if err := av.link.Call(ctx, wire.OpAvatarGet, wire.UserRequest{Username: user}, &ar); err != nil {
		var werr *wire.Error
		if errors.As(err, &werr) && werr.Code == wire.CodeNotFound {
			return av.db.DeleteAvatar(ctx, user)
		}
		return err
	}
	if ar.Username != user {
		return fmt.Errorf("the server answered about %q", ar.Username)
	}
	if _, err := media.CheckAvatar(ctx, ar.Avatar); err != nil {
		return err
	}
	return av.db.SetAvatar(ctx, user, history.Avatar{ID: wire.AvatarID(ar.Avatar), Data: ar.Avatar})
}

// profileEvent takes a contact's new display name and avatar.
func (av *avatars) profileEvent(ctx context.Context, pe wire.ProfileEvent) {
	related, eager := av.roster.SetProfile(pe.Username, pe.DisplayName, pe.Avatar)
	if !related {
		return
	}
	if pe.Avatar == "" || !eager {
		// Someone met only in a room: fetched again when asked for.
		if err := av.db.DeleteAvatar(ctx, pe.Username); err != nil {
			av.log.Warn("forget avatar", "user", pe.Username, "err", err)
		}
	} else if err := av.fetchAvatar(ctx, pe.Username); err != nil {
		av.log.Warn("fetch avatar", "user", pe.Username, "err", err)
	}
	av.notify(api.Event{Type: api.EventProfile, Friend: &api.FriendNote{User: pe.Username, DisplayName: pe.DisplayName}})
}
