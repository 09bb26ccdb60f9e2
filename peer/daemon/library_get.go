package daemon

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/transfer"
)

// ShareGet downloads a library item from the members holding it, from
// several at once when several are online, each chunk checked against
// the listed hash. A holder whose copy fails the check is marked so and
// not asked again. With share-keep on, the file is then served to the
// others too, and they are told.
func (lb *library) ShareGet(ctx context.Context, req api.ShareGetRequest) (api.ShareGetResult, error) {
	me, err := lb.session.requireLogin()
	if err != nil {
		return api.ShareGetResult{}, err
	}
	g, to, err := lb.libraryGroup(ctx, req.Target)
	if err != nil {
		return api.ShareGetResult{}, err
	}
	it, err := lb.db.LibraryItem(ctx, g.ID, req.ID)
	if errors.Is(err, history.ErrNotFound) {
		return api.ShareGetResult{}, api.Errorf(api.CodeNotFound, "no file %s in the library of #%s", req.ID, g.Name)
	}
	if err != nil {
		return api.ShareGetResult{}, err
	}
	raw, err := hex.DecodeString(it.SHA256)
	if err != nil || len(raw) != 32 {
		return api.ShareGetResult{}, fmt.Errorf("library item %s: bad hash", it.ID)
	}
	var sum [32]byte
	copy(sum[:], raw)
	dir := req.Dir
	if dir == "" {
		dir = lb.downloads()
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return api.ShareGetResult{}, api.Errorf(api.CodeInvalid, "%v", err)
	}
	var sources []transfer.Conn
	for _, h := range it.Holders {
		if h.Bad || h.User == me {
			continue
		}
		if c := lb.peers.connect(ctx, h.User, true); c != nil {
			sources = append(sources, transferConn{c})
		}
	}
	if len(sources) == 0 {
		return api.ShareGetResult{}, api.Errorf(api.CodeUnavailable, "no member holding %s is reachable now", it.Path)
	}
	res, err := transfer.Fetch(ctx, transfer.FetchConfig{
		Sources: sources, SHA256: sum, Size: it.Size, Dir: dir, Name: it.Path,
		SourceFailed: func(c transfer.Conn, err error) {
			if errors.Is(err, transfer.ErrMismatch) || errors.Is(err, transfer.ErrCorrupt) {
				lb.log.Warn("library: a holder's copy does not match the listing", "holder", c.User(), "id", it.ID)
				if err := lb.db.MarkBad(context.WithoutCancel(ctx), g.ID, it.ID, c.User()); err != nil {
					lb.log.Error("library: mark holder", "err", err)
				}
			}
		},
		Logger: lb.log.With("part", "library"),
	})
	if err != nil {
		if errors.Is(err, transfer.ErrMismatch) || errors.Is(err, transfer.ErrCorrupt) {
			return api.ShareGetResult{}, api.Errorf(api.CodeUnavailable, "no holder online has a copy matching the listing: %v", err)
		}
		return api.ShareGetResult{}, api.Errorf(api.CodeUnavailable, "%v", err)
	}
	full := filepath.Join(dir, filepath.FromSlash(res.Path))
	out := api.ShareGetResult{Path: full, Size: it.Size, Bytes: res.Bytes, Resumed: res.Resumed, From: res.BySource}
	st, err := lb.db.Settings(ctx)
	if err != nil || !st.ShareKeep {
		return out, nil
	}
	info, err := os.Stat(full)
	if err != nil {
		return out, nil
	}
	if err := lb.db.SetLocal(ctx, history.LocalCopy{Group: g.ID, ID: it.ID, Path: full, Size: info.Size(),
		ModTime: info.ModTime(), Fetched: true, SHA256: it.SHA256}); err != nil {
		return out, err
	}
	if err := lb.db.SetHolder(ctx, g.ID, it.ID, me, true, time.Now()); err != nil && !errors.Is(err, history.ErrNotFound) {
		return out, err
	}
	return out, lb.libraryPost(ctx, g, to, content.Holder{ID: it.ID, On: true})
}

// servePull answers a member's pull of a library file: a copy this user
// serves of a file with that hash, in a group the asker is a member of,
// still as it was when verified (size and time); a changed or vanished
// one is dropped, and the group told it is no longer served from here.
func (lb *library) servePull(ctx context.Context, req *transfer.PullRequest) (transfer.PullSource, error) {
	st, err := lb.db.Settings(ctx)
	if err != nil {
		return nil, err
	}
	copies, err := lb.db.LocalCopies(ctx, hex.EncodeToString(req.SHA256[:]), st.ShareKeep)
	if err != nil {
		return nil, err
	}
	member := false
	for _, c := range copies {
		ok := lb.roster.Member(c.Group, req.Peer)
		if !ok || c.Size != req.Size {
			continue
		}
		member = true
		f, err := os.Open(c.Path)
		if err == nil {
			info, serr := f.Stat()
			if serr == nil && info.Mode().IsRegular() && info.Size() == c.Size && info.ModTime().Equal(c.ModTime) {
				return f, nil
			}
			f.Close()
		}
		lb.log.Info("library: a shared file changed or vanished; no longer served", "id", c.ID, "path", c.Path)
		lb.dropLocal(c)
	}
	if member {
		return nil, fmt.Errorf("%w: the file changed or vanished here", transfer.ErrSource)
	}
	return nil, fmt.Errorf("%w: no such file shared with you here", transfer.ErrRejected)
}

// dropLocal stops serving a copy and tells its group.
func (lb *library) dropLocal(c history.LocalCopy) {
	ctx := context.WithoutCancel(lb.ctx)
	if err := lb.db.RemoveLocal(ctx, c.Group, c.ID); err != nil {
		lb.log.Error("library: drop local copy", "err", err)
		return
	}
	g, known := lb.roster.GroupByID(c.Group)
	if !known {
		return
	}
	if err := lb.db.SetHolder(ctx, c.Group, c.ID, lb.session.self(), false, time.Now()); err != nil && !errors.Is(err, history.ErrNotFound) {
		lb.log.Error("library: holder", "err", err)
	}
	_, to, err := lb.libraryGroup(ctx, "#"+g.Name)
	if err == nil {
		err = lb.libraryPost(ctx, g, to, content.Holder{ID: c.ID, On: false})
	}
	if err != nil {
		lb.log.Error("library: tell the group", "err", err)
	}
}
