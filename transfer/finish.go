package transfer

// Finishing: files into place once their hash matches, and attempts to
// their end (done, abort, or clean-up after a cancel).

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// finish compares a complete file's hash and moves it into place.
func (t *session) finish(i int) error {
	t.mu.Lock()
	es, st := &t.entries[i], t.cp.Entries[i]
	t.mu.Unlock()
	partial := partialName(st.Path, t.id, i)
	if es.sum != *es.want {
		// The partial file is worthless: start this file over next time.
		t.root.Remove(filepath.FromSlash(partial))
		t.save(i, 0)
		return fmt.Errorf("%w: %s", ErrMismatch, st.Path)
	}
	f, err := openPartial(t.root, partial, st.Size == 0)
	if err == nil {
		err = f.Chmod(filePerm(t.offer.Entries[i].Mode))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil && st.ModTime != 0 {
		mt := time.Unix(0, st.ModTime)
		err = t.root.Chtimes(filepath.FromSlash(partial), mt, mt)
	}
	var final string
	if err == nil {
		if sameFile(t.root, st.Path, st.Size, es.sum) {
			// This very file is already in place: an earlier attempt put
			// it there, and its Finish was lost in a crash. Keep that one
			// rather than add a numbered copy.
			final, err = st.Path, t.root.Remove(filepath.FromSlash(partial))
		} else {
			final, err = place(t.root, partial, st.Path)
		}
	}
	if err != nil {
		return fmt.Errorf("finish %s: %w", st.Path, rootError(err))
	}
	if err := t.r.cfg.Progress.Finish(t.saveCtx(), t.id, i, final); err != nil {
		t.log.Warn("cannot record finished file", "entry", i, "err", err)
	}
	t.mu.Lock()
	es.finished = true
	t.cp.Entries[i].Path, t.cp.Entries[i].Done = final, true
	t.remaining--
	if t.remaining == 0 {
		close(t.allDone)
	}
	t.mu.Unlock()
	t.meter.addFile()
	t.log.Debug("file received", "entry", i, "path", final)
	return nil
}

// filePerm is the mode a received file gets: the sender's permission
// bits, never writable by others or set-id, always readable and writable
// by us.
func filePerm(mode uint32) fs.FileMode {
	return fs.FileMode(mode)&0o755 | 0o600
}

// save records entry i's verified length, even after the context ended.
func (t *session) save(i int, verified int64) {
	ctx, cancel := context.WithTimeout(t.saveCtx(), saveTimeout)
	defer cancel()
	if err := t.r.cfg.Progress.Save(ctx, t.id, i, verified); err != nil {
		t.log.Warn("cannot record progress", "entry", i, "err", err)
	}
}

func (t *session) saveCtx() context.Context { return context.WithoutCancel(t.ctx) }

// end closes the attempt after run: it tells the sender how it ended,
// waits for the data streams, and removes partial files if the transfer
// was cancelled.
func (t *session) end(err error) error {
	if err == nil {
		err = writeEvent(t.ctl, opDone, nil)
	} else if !isPeerError(err) {
		t.ctl.SetWriteDeadline(time.Now().Add(abortTimeout))
		if werr := writeAbort(t.ctl, err); werr != nil {
			t.log.Debug("could not send abort", "err", werr)
		}
	}
	cause := err
	if cause == nil {
		cause = errSessionOver
	}
	t.cancel(cause)
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.data.Wait()
	switch {
	case err == nil:
		t.setDirTimes()
		if ferr := t.r.cfg.Progress.Forget(t.saveCtx(), t.id); ferr != nil {
			t.log.Warn("cannot forget finished transfer", "err", ferr)
		}
		t.log.Info("received", "bytes", t.received.Load(), "dir", t.dir)
	case errors.Is(err, ErrCancelled):
		t.discard(t.cp)
		t.log.Info("transfer cancelled", "err", err)
	default:
		t.log.Info("transfer stopped", "err", err)
	}
	t.meter.stop(err)
	return err
}

// errSessionOver wakes data streams still attached once a transfer has
// completed.
var errSessionOver = errors.New("transfer over")

// setDirTimes gives received folders the sender's modification times,
// now that their contents are written.
func (t *session) setDirTimes() {
	for _, st := range slices.Backward(t.cp.Entries) {
		if st.Dir && st.ModTime != 0 {
			mt := time.Unix(0, st.ModTime)
			t.root.Chtimes(filepath.FromSlash(st.Path), mt, mt)
		}
	}
}

// discard removes what an abandoned transfer left: partial files, then
// the folders it made if they are empty, then its checkpoint. Files
// already in place stay.
func (t *session) discard(cp *Checkpoint) {
	for i, st := range cp.Entries {
		if !st.Dir && !st.Done {
			err := t.root.Remove(filepath.FromSlash(partialName(st.Path, t.id, i)))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.log.Warn("cannot remove partial file", "entry", i, "err", err)
			}
		}
	}
	for _, d := range plannedDirs(cp) {
		t.root.Remove(filepath.FromSlash(d)) // fails, as it should, unless empty
	}
	if err := t.r.cfg.Progress.Forget(t.saveCtx(), t.id); err != nil {
		t.log.Warn("cannot forget transfer", "err", err)
	}
}

// discardAt is discard for a checkpoint whose destination is not open.
func (t *session) discardAt(cp *Checkpoint) {
	root, err := os.OpenRoot(cp.Dir)
	if err != nil {
		t.log.Warn("cannot open destination to clean up", "err", err)
		if err := t.r.cfg.Progress.Forget(t.saveCtx(), t.id); err != nil {
			t.log.Warn("cannot forget transfer", "err", err)
		}
		return
	}
	defer root.Close()
	t.root = root
	t.discard(cp)
	t.root = nil
}

// result describes the transfer once run has returned.
func (t *session) result() *Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := &Result{ID: t.id, Peer: t.conn.User(), Dir: t.dir, Bytes: t.received.Load()}
	for _, st := range t.cp.Entries {
		res.Paths = append(res.Paths, st.Path)
	}
	res.Resumed = t.resumed
	return res
}

// sameFile reports whether name, inside root, is a regular file of size
// bytes whose SHA-256 is sum.
func sameFile(root *os.Root, name string, size int64, sum [32]byte) bool {
	fi, err := root.Lstat(filepath.FromSlash(name))
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != size {
		return false
	}
	f, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return [32]byte(h.Sum(nil)) == sum
}
