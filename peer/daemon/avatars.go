package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lanchat/lanchat/internal/media"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// Avatars: the server keeps each user's avatar with the profile and names
// it by its id (wire.AvatarID) in friends.list, group.members and the
// profile event. The daemon keeps in history the avatars of the user and
// of every contact, fetching one (avatar.get) when its id changes, and
// serves them to local clients.

// Avatar returns the avatar kept for user.
func (d *Daemon) Avatar(ctx context.Context, user string) (api.Avatar, error) {
	if _, err := d.requireLogin(); err != nil {
		return api.Avatar{}, err
	}
	user = strings.ToLower(user)
	a, err := d.db.Avatar(ctx, user)
	if errors.Is(err, history.ErrNotFound) && d.fetchOnDemand(ctx, user) {
		a, err = d.db.Avatar(ctx, user)
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
func (d *Daemon) fetchOnDemand(ctx context.Context, user string) bool {
	d.mu.Lock()
	related := d.roster.related(user)
	d.mu.Unlock()
	if !related || d.link == nil || !d.link.HasSession() {
		return false
	}
	if err := d.fetchAvatar(ctx, user); err != nil {
		d.log.Debug("fetch avatar on demand", "user", user, "err", err)
		return false
	}
	return true
}

// keptAvatarIDs returns the ids of the avatars kept, by user; an empty
// map if they cannot be read (the lists then show initials).
func (d *Daemon) keptAvatarIDs(ctx context.Context) map[string]string {
	ids, err := d.db.AvatarIDs(ctx)
	if err != nil {
		d.log.Warn("read avatar ids", "err", err)
		return map[string]string{}
	}
	return ids
}

// keepOwnAvatar keeps the avatar this user just set (or forgets it),
// without asking the server for what it was just sent.
func (d *Daemon) keepOwnAvatar(ctx context.Context, me string, avatar *[]byte) {
	if avatar == nil {
		return
	}
	var err error
	if len(*avatar) == 0 {
		err = d.db.DeleteAvatar(ctx, me)
	} else {
		err = d.db.SetAvatar(ctx, me, history.Avatar{ID: wire.AvatarID(*avatar), Data: *avatar})
	}
	if err != nil {
		d.log.Warn("keep own avatar", "err", err)
	}
}

// refreshAvatars makes the avatars kept match want (user → avatar id, ""
// for none), which names the user and every contact. The avatars of the
// user, friends and co-members of groups (eager) are fetched when their
// id changed. Those of people met only in rooms (the lobby holds everyone)
// are fetched when a client asks for one (Avatar), so a daemon does not
// fetch a whole server's pictures; a kept one that changed is forgotten.
// Avatars removed, and those of users no longer related, are forgotten.
func (d *Daemon) refreshAvatars(ctx context.Context, want map[string]string, eager map[string]bool) {
	kept, err := d.db.AvatarIDs(ctx)
	if err != nil {
		d.log.Warn("read avatar ids", "err", err)
		return
	}
	for user, id := range kept {
		if w, ok := want[user]; !ok || w == "" || w != id && !eager[user] {
			if err := d.db.DeleteAvatar(ctx, user); err != nil {
				d.log.Warn("forget avatar", "user", user, "err", err)
			}
		}
	}
	for user, id := range want {
		if id == "" || kept[user] == id || !eager[user] {
			continue
		}
		if err := d.fetchAvatar(ctx, user); err != nil {
			d.log.Warn("fetch avatar", "user", user, "err", err)
		}
	}
}

// closeContact reports whether user's avatar is fetched at once: the user
// is a friend or shares a group that is not a room.
func (r *roster) closeContact(user string) bool {
	if _, ok := r.friends[user]; ok {
		return true
	}
	for name, ms := range r.members {
		if !r.groups[name].Room && slices.Contains(ms, user) {
			return true
		}
	}
	return false
}

// fetchAvatar asks the server for user's avatar, checks it as the server
// did and keeps it.
func (d *Daemon) fetchAvatar(ctx context.Context, user string) error {
	var ar wire.AvatarResponse
	if err := d.link.Call(ctx, wire.OpAvatarGet, wire.UserRequest{Username: user}, &ar); err != nil {
		var werr *wire.Error
		if errors.As(err, &werr) && werr.Code == wire.CodeNotFound {
			return d.db.DeleteAvatar(ctx, user)
		}
		return err
	}
	if ar.Username != user {
		return fmt.Errorf("the server answered about %q", ar.Username)
	}
	if _, err := media.CheckAvatar(ctx, ar.Avatar); err != nil {
		return err
	}
	return d.db.SetAvatar(ctx, user, history.Avatar{ID: wire.AvatarID(ar.Avatar), Data: ar.Avatar})
}

// profileEvent takes a contact's new display name and avatar.
func (d *Daemon) profileEvent(ctx context.Context, pe wire.ProfileEvent) {
	d.mu.Lock()
	if !d.roster.related(pe.Username) {
		d.mu.Unlock()
		return
	}
	if f, ok := d.roster.friends[pe.Username]; ok {
		f.DisplayName, f.Avatar = pe.DisplayName, pe.Avatar
		d.roster.friends[pe.Username] = f
	}
	eager := d.roster.closeContact(pe.Username)
	d.mu.Unlock()
	if pe.Avatar == "" || !eager {
		// Someone met only in a room: fetched again when asked for.
		if err := d.db.DeleteAvatar(ctx, pe.Username); err != nil {
			d.log.Warn("forget avatar", "user", pe.Username, "err", err)
		}
	} else if err := d.fetchAvatar(ctx, pe.Username); err != nil {
		d.log.Warn("fetch avatar", "user", pe.Username, "err", err)
	}
	d.notify(api.Event{Type: api.EventProfile, Friend: &api.FriendNote{User: pe.Username, DisplayName: pe.DisplayName}})
}
