package transfer

// Finishing: files into place once their hash matches, and attempts to
// their end (done, abort, or clean-up after a cancel).

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/lanchat/lanchat/transfer/checkpoint"
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
	var err error
	if st.Size == 0 {
		// No data came to make and seal the file: do it now.
		var f *os.File
		if f, err = openPartial(t.root, partial, true); err == nil {
			err = t.seal(f, i)
		}
	}
	var final string
	if err == nil {
		// Only an earlier attempt can have put this file in place: a new
		// plan picked free names.
		if t.resuming && sameFile(t.root, st.Path, st.Size, es.sum, t.offer.ChunkSize) {
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

// maxSealing bounds the complete files of one attempt that are being
// synced at once, each on its own.
const maxSealing = 64

// Small files are synced in groups, where the system allows (see
// groupSyncer): files under groupLimit bytes, up to maxGrouped of them
// waiting at once.
const (
	groupLimit = 1 << 20
	maxGrouped = 512
)

// sealLater seals the complete partial file f of entry i, which holds
// all size bytes verified, and finishes it, in a goroutine of its own,
// so that the data stream that received it goes on to the next file
// meanwhile. Big files have their own syncs in flight together, up to
// maxSealing; small ones, where t.group is set, are closed and wait for
// one sync of the whole file system with the others complete by then,
// instead of one sync's latency per file.
//
// Durability stays as it was: every file's data, mode and time are
// durable before it takes its final name, so after a crash a final name
// holds a whole verified file or is not there. No verified length is
// saved for a complete file: its Finish follows, and if the attempt ends
// before that, the next one finds the written chunks held or
// sends the file's end again.
func (t *session) sealLater(f *os.File, i int, size int64) {
	grouped := t.group != nil && size < groupLimit
	slots := t.sealing
	if grouped {
		slots = t.grouping
	}
	slots <- struct{}{}
	t.data.Add(1) // the caller's data stream holds one already
	go func() {
		defer t.data.Done()
		defer func() { <-slots }()
		var err error
		if grouped {
			if err = t.prepareSeal(f, i); err == nil {
				err = t.group.wait()
			}
		} else {
			err = t.seal(f, i)
		}
		if err != nil {
			t.fail(fmt.Errorf("finish %s: %w", t.cp.Entries[i].Path, rootError(err)))
			return
		}
		if err := t.dataDone(i); err != nil {
			t.fail(err)
		}
	}()
}

// seal gives entry i's open partial file f the sender's mode and
// modification time, syncs it and closes it: it is then ready to take
// its final name.
func (t *session) seal(f *os.File, i int) error {
	err := t.setMeta(f, i)
	if err == nil {
		if err = f.Sync(); err != nil {
			err = fmt.Errorf("sync: %w", err)
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// prepareSeal is seal without the sync, which the group's makes.
func (t *session) prepareSeal(f *os.File, i int) error {
	err := t.setMeta(f, i)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// setMeta gives entry i's open partial file f the sender's mode and
// modification time.
func (t *session) setMeta(f *os.File, i int) error {
	t.mu.Lock()
	st := t.cp.Entries[i]
	t.mu.Unlock()
	err := f.Chmod(filePerm(t.offer.Entries[i].Mode, t.r.umask))
	if err == nil && st.ModTime != 0 {
		mt := time.Unix(0, st.ModTime)
		err = t.root.Chtimes(filepath.FromSlash(partialName(st.Path, t.id, i)), mt, mt)
	}
	return err
}

// filePerm is the mode a received file gets under the receiver's umask:
// what a file the user made would get (0666 &^ umask), and the owner's
// execute bit if the sender's file had it, so a script stays runnable.
// Never set-id, never more open than the umask allows.
func filePerm(mode uint32, umask int) fs.FileMode {
	perm := fs.FileMode(0o666) | fs.FileMode(mode)&0o100
	return perm &^ fs.FileMode(umask&0o777)
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
	t.closeEntries()
	switch {
	case err == nil:
		t.setDirTimes()
		if ferr := t.r.cfg.Progress.Forget(t.saveCtx(), t.id); ferr != nil {
			t.log.Warn("cannot forget finished transfer", "err", ferr)
		}
		t.log.Info("received", "bytes", t.received.Load(), "direct", t.direct.Load(), "dir", t.dir)
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
func (t *session) discard(cp *checkpoint.Transfer) {
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
func (t *session) discardAt(cp *checkpoint.Transfer) {
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
	res.Direct = t.direct.Load()
	return res
}

// sameFile reports whether name, inside root, is a regular file of size
// bytes whose whole-file hash, with chunks of chunkSize, is sum.
func sameFile(root *os.Root, name string, size int64, sum [hashSize]byte, chunkSize int) bool {
	fi, err := root.Lstat(filepath.FromSlash(name))
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != size {
		return false
	}
	f, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		return false
	}
	defer f.Close()
	buf := getBuffer(chunkSize)
	defer putBuffer(chunkSize, buf)
	got, err := fileSum(f, size, chunkSize, *buf)
	return err == nil && got == sum
}
