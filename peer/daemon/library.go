package daemon

// Shared file libraries (docs/protocol.md, "Library listings" and
// "Multi-source download"): a group's or room's listing travels as
// share, unshare and holder messages through the group send path, end to
// end encrypted like any message; files come directly from the members
// holding them (transfer.Fetch), never through the server.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/roster"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/transfer"
)

var _ api.LibraryService = (*library)(nil)

// library serves the shared file libraries of the user's groups and
// rooms; its methods are the API's LibraryService.
type library struct {
	log     *slog.Logger
	session *session
	roster  *roster.Roster
	// rosterSettled waits for the roster syncs asked for so far
	// (serverFeed.syncs), before a group's members are read.
	rosterSettled func(context.Context)
	peers         *peerSet
	db            *history.Store  // set once history is open
	link          keyLink         // set once the link exists
	ctx           context.Context // Run's: work that outlives a request ends with it
	// kick asks the outbox to try what was just queued; downloads is
	// where fetched files go by default.
	kick      func()
	downloads func() string
}

// isLibraryKind reports whether a message kind is one of a library's.
func isLibraryKind(k string) bool {
	return k == content.KindShare || k == content.KindUnshare || k == content.KindHolder
}

// libraryGroup resolves a library's target: "#name" names a group or a
// room the user is in. It is the one place a target becomes a library;
// it returns the group and the other members.
func (lb *library) libraryGroup(ctx context.Context, target string) (wire.Group, []string, error) {
	name, ok := strings.CutPrefix(target, "#")
	if !ok || name == "" {
		return wire.Group{}, nil, api.Errorf(api.CodeInvalid, "a library belongs to a group or room: give #name, not %q", target)
	}
	if lb.rosterSettled != nil {
		// A member who joined a moment ago is in the roster once the
		// sync that change asked for has run.
		lb.rosterSettled(ctx)
	}
	me := lb.session.self()
	g, members, known := lb.roster.Group(name)
	if !known {
		return wire.Group{}, nil, api.Errorf(api.CodeNotFound, "you are not a member of a group or room #%s", name)
	}
	var others []string
	for _, u := range members {
		if u != me {
			others = append(others, u)
		}
	}
	return g, others, nil
}

// libraryPost sends a library message to the group's other members
// through the outbox, as a group message of its kind.
func (lb *library) libraryPost(ctx context.Context, g wire.Group, to []string, it content.Item) error {
	kind, body, err := content.Encode(it)
	if err != nil {
		return api.Errorf(api.CodeInvalid, "%v", err)
	}
	if len(to) == 0 {
		return nil
	}
	id, err := newMessageID()
	if err != nil {
		return err
	}
	m := history.Message{ID: id, Conversation: history.Group(g.ID), From: lb.session.self(), Kind: kind, Body: string(body), Sent: time.Now()}
	if _, err := lb.db.AddOutgoing(ctx, m, to); err != nil {
		return fmt.Errorf("store %s message: %w", kind, err)
	}
	lb.kick()
	return nil
}

// ShareAdd hashes the files given (and those of folders) where they
// are, lists them in the library and tells the members.
func (lb *library) ShareAdd(ctx context.Context, req api.ShareAddRequest) (api.ShareList, error) {
	me, err := lb.session.requireLogin()
	if err != nil {
		return api.ShareList{}, err
	}
	g, to, err := lb.libraryGroup(ctx, req.Target)
	if err != nil {
		return api.ShareList{}, err
	}
	files, err := shareFiles(req.Paths)
	if err != nil {
		return api.ShareList{}, err
	}
	out := api.ShareList{Target: "#" + g.Name}
	for _, sf := range files {
		sum, info, err := hashShared(ctx, sf.abs)
		if err != nil {
			return out, api.Errorf(api.CodeInvalid, "%s: %v", sf.abs, err)
		}
		id, err := newMessageID()
		if err != nil {
			return out, err
		}
		it := content.Share{ID: id, Path: sf.path, Size: info.Size(), SHA256: hex.EncodeToString(sum[:]), Folder: sf.folder}
		if err := it.Validate(); err != nil {
			return out, api.Errorf(api.CodeInvalid, "%s: %v", sf.abs, err)
		}
		now := time.Now()
		item := history.LibraryItem{Group: g.ID, ID: id, Sharer: me, Path: it.Path, Size: it.Size, SHA256: it.SHA256, Shared: now}
		if _, err := lb.db.AddShare(ctx, item); err != nil {
			return out, err
		}
		if err := lb.db.SetLocal(ctx, history.LocalCopy{Group: g.ID, ID: id, Path: sf.abs, Size: info.Size(),
			ModTime: info.ModTime(), SHA256: it.SHA256}); err != nil {
			return out, err
		}
		if err := lb.libraryPost(ctx, g, to, it); err != nil {
			return out, err
		}
		item.Holders = []history.Holder{{User: me}}
		out.Shares = append(out.Shares, lb.apiShare(item, true))
	}
	return out, nil
}

// sharedFile is a file to share: where it is, and its path in the
// listing.
type sharedFile struct {
	abs, path string
	folder    bool
}

// shareFiles expands the paths given: a file is itself, a folder its
// regular files (symbolic links are not followed), at most
// api.MaxSharedFiles in all.
func shareFiles(paths []string) ([]sharedFile, error) {
	var out []sharedFile
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, api.Errorf(api.CodeInvalid, "%s: %v", p, err)
		}
		info, err := os.Stat(abs)
		if err != nil {
			return nil, api.Errorf(api.CodeInvalid, "%v", err)
		}
		if info.Mode().IsRegular() {
			out = append(out, sharedFile{abs: abs, path: filepath.Base(abs)})
			continue
		}
		if !info.IsDir() {
			return nil, api.Errorf(api.CodeInvalid, "%s is neither a file nor a folder", p)
		}
		base := filepath.Base(abs)
		err = filepath.WalkDir(abs, func(fp string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !de.Type().IsRegular() {
				return nil
			}
			if len(out) >= api.MaxSharedFiles {
				return fmt.Errorf("more than %d files", api.MaxSharedFiles)
			}
			rel, err := filepath.Rel(abs, fp)
			if err != nil {
				return err
			}
			out = append(out, sharedFile{abs: fp, path: path.Join(base, filepath.ToSlash(rel)), folder: true})
			return nil
		})
		if err != nil {
			return nil, api.Errorf(api.CodeInvalid, "%s: %v", p, err)
		}
	}
	if len(out) > api.MaxSharedFiles {
		return nil, api.Errorf(api.CodeInvalid, "more than %d files", api.MaxSharedFiles)
	}
	return out, nil
}

// hashShared returns a file's whole-file hash and what it was when
// hashed; a file that changed while it was hashed is refused.
func hashShared(ctx context.Context, p string) ([32]byte, fs.FileInfo, error) {
	f, err := os.Open(p)
	if err != nil {
		return [32]byte{}, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return [32]byte{}, nil, err
	}
	if !info.Mode().IsRegular() {
		return [32]byte{}, nil, errors.New("not a regular file")
	}
	sum, err := transfer.FileHash(f, info.Size())
	if err != nil {
		return sum, nil, err
	}
	if after, err := f.Stat(); err != nil || !sameFile(info, after) {
		return sum, nil, errors.New("the file changed while it was hashed")
	}
	return sum, info, ctx.Err()
}

// sameFile reports whether a file's size and time are as recorded.
func sameFile(a, b fs.FileInfo) bool {
	return a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// Shares lists a library.
func (lb *library) Shares(ctx context.Context, target string) (api.ShareList, error) {
	if _, err := lb.session.requireLogin(); err != nil {
		return api.ShareList{}, err
	}
	g, _, err := lb.libraryGroup(ctx, target)
	if err != nil {
		return api.ShareList{}, err
	}
	items, err := lb.db.Library(ctx, g.ID)
	if err != nil {
		return api.ShareList{}, err
	}
	out := api.ShareList{Target: "#" + g.Name}
	for _, it := range items {
		held, err := lb.db.HasLocal(ctx, g.ID, it.ID)
		if err != nil {
			return out, err
		}
		out.Shares = append(out.Shares, lb.apiShare(it, held))
	}
	return out, nil
}

// apiShare describes an item, with its holders online now.
func (lb *library) apiShare(it history.LibraryItem, held bool) api.Share {
	s := api.Share{ID: it.ID, Path: it.Path, Size: it.Size, SHA256: it.SHA256, Sharer: it.Sharer, Shared: it.Shared,
		Holders: len(it.Holders), Held: held}
	me := lb.session.self()
	for _, h := range it.Holders {
		switch {
		case h.Bad:
			s.Refused = append(s.Refused, h.User)
		case h.User != me && lb.holderOnline(h.User):
			s.Online++
		}
	}
	s.Available = held || s.Online > 0
	return s
}

// holderOnline reports whether user is connected, or online by the server.
func (lb *library) holderOnline(user string) bool {
	if lb.peers.get(user) != nil {
		return true
	}
	pr, ok := lb.roster.Presence(user)
	return ok && pr.Status != wire.StatusOffline
}

// ShareRemove withdraws an item: its sharer, or the group's owner.
func (lb *library) ShareRemove(ctx context.Context, target, id string) error {
	me, err := lb.session.requireLogin()
	if err != nil {
		return err
	}
	g, to, err := lb.libraryGroup(ctx, target)
	if err != nil {
		return err
	}
	it, err := lb.db.LibraryItem(ctx, g.ID, id)
	if errors.Is(err, history.ErrNotFound) {
		return api.Errorf(api.CodeNotFound, "no file %s in the library of #%s", id, g.Name)
	}
	if err != nil {
		return err
	}
	if it.Sharer != me && !lb.libraryModerator(ctx, g, me) {
		return api.Errorf(api.CodeForbidden, "only %s, who shared it, or an owner or admin of #%s may withdraw it", it.Sharer, g.Name)
	}
	if err := lb.libraryPost(ctx, g, to, content.Unshare{ID: id}); err != nil {
		return err
	}
	return lb.db.RemoveShare(ctx, g.ID, id)
}

// moderatorTimeout bounds asking the server who a room's admins are.
const moderatorTimeout = 5 * time.Second

// libraryModerator reports whether user may withdraw anyone's item from
// g's library: its owner, or for a room an admin the owner named, as
// the server's member list says (the server keeps room roles). With the
// server away, only the owner may.
func (lb *library) libraryModerator(ctx context.Context, g wire.Group, user string) bool {
	if user == g.Owner {
		return true
	}
	if !g.Room || lb.link == nil {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, moderatorTimeout)
	defer cancel()
	var gm wire.GroupMembersResponse
	if err := lb.link.Call(cctx, wire.OpGroupMembers, wire.GroupRequest{Group: g.Name}, &gm); err != nil {
		lb.log.Info("library: room admins unknown", "room", g.Name, "err", err)
		return false
	}
	for _, m := range gm.Members {
		if m.Username == user {
			return m.Owner || m.Admin
		}
	}
	return false
}

// ShareKeep sets whether fetched files stay available to others, and
// tells the groups of the files fetched so far whether this user serves
// them now (a file changed since it was fetched is no longer served).
func (lb *library) ShareKeep(ctx context.Context, req api.ShareKeepRequest) error {
	me, err := lb.session.requireLogin()
	if err != nil {
		return err
	}
	if err := lb.db.SetSetting(ctx, history.SettingShareKeep, fmt.Sprint(req.On)); err != nil {
		return err
	}
	copies, err := lb.db.FetchedCopies(ctx)
	if err != nil {
		return err
	}
	for _, c := range copies {
		g, known := lb.roster.GroupByID(c.Group)
		if !known {
			continue
		}
		on := req.On
		if on {
			if info, err := os.Stat(c.Path); err != nil || info.Size() != c.Size || !info.ModTime().Equal(c.ModTime) {
				lb.dropLocal(c)
				continue
			}
		}
		if err := lb.db.SetHolder(ctx, c.Group, c.ID, me, on, time.Now()); err != nil && !errors.Is(err, history.ErrNotFound) {
			return err
		}
		_, to, err := lb.libraryGroup(ctx, "#"+g.Name)
		if err == nil {
			err = lb.libraryPost(ctx, g, to, content.Holder{ID: c.ID, On: on})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// receiveLibrary applies a library message of an admitted member of
// m.Group: it returns nil once its effect is committed, or a refusal.
func (lb *library) receiveLibrary(ctx context.Context, m incoming) *wire.Error {
	if m.Group == "" {
		return wire.Invalid("kind", "a %s message belongs to a group", m.Kind)
	}
	it, err := content.Decode(m.Kind, []byte(m.Body))
	if err != nil {
		return wire.Invalid("body", "%v", err)
	}
	switch v := it.(type) {
	case content.Share:
		sent, _ := history.ClampSent(m.Sent, time.Now())
		_, err = lb.db.AddShare(ctx, history.LibraryItem{Group: m.Group, ID: v.ID, Sharer: m.From,
			Path: v.Path, Size: v.Size, SHA256: v.SHA256, Shared: sent})
		if errors.Is(err, history.ErrConflict) {
			return wire.Errorf(wire.CodeConflict, "library id already used")
		}
	case content.Unshare:
		var item history.LibraryItem
		item, err = lb.db.LibraryItem(ctx, m.Group, v.ID)
		if errors.Is(err, history.ErrNotFound) {
			return nil
		}
		if err == nil {
			g, _ := lb.roster.GroupByID(m.Group)
			if m.From != item.Sharer && !lb.libraryModerator(ctx, g, m.From) {
				lb.log.Info("library: withdrawal by neither sharer nor owner or admin ignored", "from", m.From, "id", v.ID)
				return nil
			}
			err = lb.db.RemoveShare(ctx, m.Group, v.ID)
		}
	case content.Holder:
		err = lb.db.SetHolder(ctx, m.Group, v.ID, m.From, v.On, m.Sent)
		if errors.Is(err, history.ErrNotFound) {
			return nil
		}
	}
	if err != nil {
		lb.log.Error("library: store", "kind", m.Kind, "err", err)
		return wire.Errorf(wire.CodeInternal, "internal error")
	}
	return nil
}
