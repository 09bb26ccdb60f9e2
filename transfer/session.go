package transfer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// saveTimeout bounds a progress write made after the transfer's context
// ended, so that what was verified is still recorded.
const saveTimeout = 5 * time.Second

// session is one attempt at receiving a transfer: it owns the control
// stream and the data streams attached to it.
type session struct {
	r     *Receiver
	id    string
	key   string // peer + "/" + id
	peer  string // sender's key in hex
	conn  Conn
	ctl   Stream
	br    *bufio.Reader
	rd    *wire.Reader // the control stream's frames, read through br
	offer *Offer
	log   *slog.Logger

	ctx    context.Context
	cancel context.CancelCauseFunc
	gone   chan struct{} // closed when the attempt has fully ended

	// Set up before the answer, read-only afterwards.
	root  *os.Root
	dir   string
	meter *meter
	held  [][][hashSize]byte // by entry, until the answer: see reconcile
	// resuming is set when the attempt continues a checkpoint.
	resuming bool

	sealing  chan struct{} // a slot per file being sealed: see sealLater
	grouping chan struct{} // a slot per small file waiting for its group's sync
	group    *groupSyncer  // nil where files are synced one by one

	mu        sync.Mutex
	moved     *sync.Cond           // on mu: an entry's verified prefix grew, it opened, or the attempt ended
	cp        *checkpoint.Transfer // paths updated by finish
	entries   []entryState         // see entryState for who owns what
	remaining int                  // files not finished
	allDone   chan struct{}
	ready     bool // data streams may attach
	closed    bool // no more may
	data      sync.WaitGroup

	received atomic.Int64
	owed     atomic.Int64 // bytes reserved for this attempt when it was accepted; see Receiver.reserve
	direct   atomic.Int64 // bytes written with direct I/O
	resumed  int64        // bytes verified before this attempt, or held and confirmed; guarded by mu
}

// entryState is the receiver's working state of one entry, guarded by
// session.mu unless said otherwise. In this attempt its data may come in
// several segments at once (a striped big file comes over several
// data streams): they share the open partial file, and each verified
// chunk either extends the verified prefix pos or waits in ahead until
// the chunks before it are verified too.
type entryState struct {
	pos  int64      // verified bytes: the prefix the checkpoint may record
	held int64      // bytes past pos the partial file holds, their hashes in the answer
	hash *wholeHash // whole-file hash of the first pos bytes, once started

	started  bool                 // a segment came in this attempt; from is set
	opening  bool                 // the first segment is opening f
	from     int64                // where this attempt's data starts: pos, plus the held bytes the sender kept
	f        *os.File             // the partial file, open from the first segment until sealed or the attempt ends
	direct   *directFile          // f's direct-I/O twin for whole chunks, or nil; set and closed with f
	active   [][2]int64           // segments being received
	ahead    map[int64]aheadChunk // verified chunks past pos, by offset
	top      int64                // end of the highest verified chunk
	saved    int64                // verified bytes last recorded
	saving   bool                 // a lane is syncing f to record pos
	lastSave time.Time

	sealed    bool      // f handed to sealLater
	dataDone  bool      // all bytes verified and synced; sum is set
	sum       [32]byte  // whole-file hash of the received file
	want      *[32]byte // whole-file hash the sender announced
	finishing bool
	finished  bool
}

// aheadChunk is a verified chunk past the verified prefix: its hash
// joins the whole-file hash once every chunk before it has.
type aheadChunk struct {
	sum [hashSize]byte
	n   int64
}

func newSession(ctx context.Context, r *Receiver, c Conn, s Stream, br *bufio.Reader, rd *wire.Reader, o *Offer) *session {
	ctx, cancel := context.WithCancelCause(ctx)
	peer := peerID(c)
	t := &session{
		r: r, id: o.ID, key: peer + "/" + o.ID, peer: peer, conn: c, ctl: s, br: br, rd: rd, offer: o,
		log: r.log.With("transfer", o.ID, "peer", c.User()),
		ctx: ctx, cancel: cancel, gone: make(chan struct{}), allDone: make(chan struct{}),
		sealing: make(chan struct{}, maxSealing), grouping: make(chan struct{}, maxGrouped),
	}
	t.moved = sync.NewCond(&t.mu)
	context.AfterFunc(ctx, t.wake)
	return t
}

// wake wakes the data streams waiting on t.moved.
func (t *session) wake() {
	t.mu.Lock()
	t.moved.Broadcast()
	t.mu.Unlock()
}

// peerID names a peer by its whole identity key, in hex.
func peerID(c Conn) string { return hex.EncodeToString(c.PeerKey()) }

// receive decides on the offer, answers it, runs the transfer and cleans
// up after it.
func (t *session) receive() (*Result, error) {
	defer t.cancel(nil)
	cp, err := t.r.cfg.Progress.Load(t.ctx, t.id)
	if err != nil {
		err = fmt.Errorf("load progress: %w", err)
		refuse(t.ctl, err, "receiver cannot read its progress")
		return nil, err
	}
	if cp != nil && cp.Peer != t.peer {
		err := fmt.Errorf("%w: transfer id already used by another peer", ErrInvalidOffer)
		refuse(t.ctl, err, err.Error())
		return nil, err
	}
	if cp == nil {
		// A new transfer: within the peer's hourly caps, or refused
		// before anyone is asked.
		if err := t.r.offers.admit(time.Now(), t.peer, t.id, len(t.offer.Entries)); err != nil {
			refuse(t.ctl, err, err.Error())
			return nil, err
		}
	}
	req := &Request{Peer: t.conn.User(), PeerKey: t.conn.PeerKey(), Offer: t.offer, Resume: cp != nil}
	if cp != nil {
		req.Dir = cp.Dir
	}
	// A sender that gives up while the user thinks ends the decision,
	// and so does one that cancels, with its reason.
	watch := t.watchControl()
	dec := t.r.cfg.Decide(t.ctx, req)
	if err := watch.stop(); err != nil {
		t.cancel(err) // the sender spoke before the answer: it ends here
	}
	if t.ctx.Err() != nil {
		err := t.stopReason()
		if cp != nil && errors.Is(err, ErrCancelled) {
			t.discardAt(cp)
		}
		if !isPeerError(err) {
			refuse(t.ctl, err, "")
		}
		return nil, err
	}
	if !dec.Accept {
		if cp != nil {
			t.discardAt(cp)
		}
		why := ErrRejected
		if dec.Cancelled {
			why = ErrCancelled
		}
		refuse(t.ctl, why, dec.Reason)
		t.log.Info("refused offer", "why", why, "reason", dec.Reason)
		return nil, fmt.Errorf("%w: %s", why, dec.Reason)
	}
	if cp == nil && dec.Dir == "" {
		err := errors.New("accepted without a destination folder")
		refuse(t.ctl, err, "receiver has no destination folder")
		return nil, err
	}
	if err := t.prepare(cp, dec.Dir); err != nil {
		refuse(t.ctl, err, err.Error())
		return nil, err
	}
	defer t.root.Close()
	t.group = newGroupSyncer(t.root)
	defer t.group.close() // after end, which waits for the data streams
	ans := t.answer()
	t.held = nil
	t.mu.Lock()
	t.ready = true
	t.mu.Unlock()
	if err := writeEvent(t.ctl, opAnswer, ans); err != nil {
		return nil, t.end(err)
	}
	t.log.Info("accepted offer", "dir", t.dir, "entries", len(t.offer.Entries), "resume", cp != nil)
	if err := t.end(t.run()); err != nil {
		return nil, err
	}
	return t.result(), nil
}

// prepare opens the destination, plans or reconciles the entries, checks
// free space, records the checkpoint and makes the folders.
func (t *session) prepare(cp *checkpoint.Transfer, dir string) error {
	if cp != nil {
		dir = cp.Dir
	}
	dir, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		t.root, err = os.OpenRoot(dir)
	}
	if err != nil {
		return fmt.Errorf("open destination: %w", err)
	}
	t.dir = dir
	if cp != nil && !sameShape(cp, t.offer) {
		t.discard(cp)
		cp = nil
	}
	t.resuming = cp != nil
	if cp == nil {
		// Plan, and make the folders once the checkpoint records them.
		cp, err = t.plan()
		if err == nil {
			err = t.checkSpace(cp)
		}
		if err == nil {
			err = t.r.cfg.Progress.Begin(t.ctx, t.id, cp)
		}
		if err == nil {
			err = makeDirs(t.root, plannedDirs(cp))
		}
	} else {
		// Check (or remake) the folders before looking inside them.
		err = makeDirs(t.root, plannedDirs(cp))
		if err == nil {
			err = t.reconcile(cp)
		}
		if err == nil {
			err = t.checkSpace(cp)
		}
		if err == nil {
			err = t.r.cfg.Progress.Begin(t.ctx, t.id, cp)
		}
	}
	if err != nil {
		err = rootError(err)
		t.root.Close()
		return err
	}
	t.cp = cp
	t.entries = make([]entryState, len(cp.Entries))
	var done int64
	files := 0
	for i, st := range cp.Entries {
		es := &t.entries[i]
		switch {
		case st.Dir:
			es.finished = true
		case st.Done:
			es.finished = true
			done += st.Size
			files++
		default:
			es.pos, es.saved = st.Verified, st.Verified
			if t.held != nil {
				es.held = int64(len(t.held[i])) * int64(t.offer.ChunkSize)
			}
			done += st.Verified
			t.remaining++
			if st.Size == 0 {
				es.dataDone, es.sum = true, newWholeHash(0).sum()
			}
		}
	}
	if t.remaining == 0 {
		close(t.allDone)
	}
	t.resumed = done
	t.meter = startMeter(t.r.cfg.OnProgress, t.r.cfg.ProgressInterval, Status{
		ID: t.id, Peer: t.conn.User(), Total: t.offer.Total(), FilesTotal: t.offer.Files(),
	}, done, files)
	return nil
}

// plan picks a free place for every entry of a new transfer.
func (t *session) plan() (*checkpoint.Transfer, error) {
	p := newPlanner(t.root)
	cp := &checkpoint.Transfer{Peer: t.peer, Dir: t.dir, Entries: make([]checkpoint.Entry, len(t.offer.Entries))}
	for i, e := range t.offer.Entries {
		var planned string
		var err error
		if e.Dir {
			planned, err = p.dir(e.Path)
		} else {
			planned, err = p.file(e.Path)
		}
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", e.Path, err)
		}
		cp.Entries[i] = checkpoint.Entry{Offered: e.Path, Path: planned, Size: e.Size, ModTime: e.ModTime, Dir: e.Dir}
	}
	return cp, nil
}

// sameShape reports whether a resumed offer has the entries of the
// checkpoint, file contents aside.
func sameShape(cp *checkpoint.Transfer, o *Offer) bool {
	if len(cp.Entries) != len(o.Entries) {
		return false
	}
	for i, e := range o.Entries {
		if st := cp.Entries[i]; st.Dir != e.Dir || st.Offered != e.Path {
			return false
		}
	}
	return true
}

// reconcile checks a resumed transfer's partial files against the
// checkpoint: a file whose size or time changed starts over, and each
// resume offset is what the partial file really holds, rounded down to
// a chunk, and short of the end so that the last chunk and the whole
// hash are always checked in the same attempt.
//
// It also hashes the whole chunks a partial file
// holds past that offset (a crash between two saves leaves them), up to
// the per-entry and per-answer bounds, into t.held for the answer; each
// partial file is cut after the chunks hashed.
func (t *session) reconcile(cp *checkpoint.Transfer) error {
	cs := int64(t.offer.ChunkSize)
	budget := maxHeldTotal
	t.held = make([][][hashSize]byte, len(cp.Entries))
	buf := getBuffer(t.offer.ChunkSize)
	defer putBuffer(t.offer.ChunkSize, buf)
	for i := range cp.Entries {
		st, e := &cp.Entries[i], t.offer.Entries[i]
		if st.Dir {
			continue
		}
		changed := st.Size != e.Size || st.ModTime != e.ModTime
		if changed {
			st.Size, st.ModTime, st.Verified, st.Done = e.Size, e.ModTime, 0, false
		}
		if st.Done {
			continue
		}
		partial := partialName(st.Path, t.id, i)
		info, err := t.root.Lstat(filepath.FromSlash(partial))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			st.Verified = 0
			continue
		case err != nil:
			return fmt.Errorf("check partial file: %w", err)
		case !info.Mode().IsRegular():
			return fmt.Errorf("%w: %s is not a file", ErrUnsafePath, partial)
		}
		v := min(st.Verified, info.Size()) / cs * cs
		if v >= st.Size && st.Size > 0 {
			v = lastChunkStart(st.Size, cs)
		}
		st.Verified = v
		f, err := openPartial(t.root, partial, false)
		if err != nil {
			return fmt.Errorf("trim partial file: %w", err)
		}
		keep := v
		if budget > 0 && !changed && st.Size > 0 {
			end := min(info.Size(), lastChunkStart(st.Size, cs))
			held, err := hashHeld(t.ctx, f, v, end, cs, min(maxHeldChunks, budget), *buf)
			if err != nil {
				f.Close()
				return fmt.Errorf("hash partial file %s: %w", st.Path, err)
			}
			t.held[i] = held
			budget -= len(held)
			keep += int64(len(held)) * cs
		}
		err = f.Truncate(keep)
		f.Close()
		if err != nil {
			return fmt.Errorf("trim partial file: %w", err)
		}
	}
	return nil
}

// checkSpace refuses a transfer the destination's disk cannot hold
// beside what the transfers running still owe, and reserves what it
// needs until it ends.
func (t *session) checkSpace(cp *checkpoint.Transfer) error {
	var need int64
	for _, st := range cp.Entries {
		if !st.Dir && !st.Done {
			need += st.Size - st.Verified
		}
	}
	return t.r.reserve(t, need)
}

// makeDirs creates the planned folders, parents first, refusing any
// component that exists as a symbolic link or a file.
func makeDirs(root *os.Root, deepestFirst []string) error {
	for _, d := range slices.Backward(deepestFirst) {
		name := filepath.FromSlash(d)
		info, err := root.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			if err = root.Mkdir(name, 0o755); err == nil {
				continue
			}
			if errors.Is(err, fs.ErrExist) {
				info, err = root.Lstat(name)
			}
		}
		if err != nil {
			return fmt.Errorf("make folder %s: %w", d, err)
		}
		if info.Mode()&fs.ModeSymlink != 0 || !info.IsDir() {
			return fmt.Errorf("%w: %s is %v, not a folder", ErrUnsafePath, d, info.Mode().Type())
		}
	}
	return nil
}

// answer lists where the sender resumes, and the hashes of the chunks
// held past each resume point.
func (t *session) answer() answerBody {
	ans := answerBody{Version: Version}
	for i, st := range t.cp.Entries {
		var held [][hashSize]byte
		if t.held != nil {
			held = t.held[i]
		}
		switch {
		case st.Dir:
		case st.Done:
			ans.Done = append(ans.Done, i)
		case t.entries[i].pos > 0 || len(held) > 0:
			p := resumePoint{Entry: i, Offset: t.entries[i].pos}
			for _, h := range held {
				p.Held = append(p.Held, hex.EncodeToString(h[:]))
			}
			ans.Resume = append(ans.Resume, p)
		}
	}
	return ans
}

// run reads the sender's control frames until it is done and every file
// is in place, or the transfer fails.
func (t *session) run() error {
	stop := context.AfterFunc(t.ctx, func() { t.ctl.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		f, err := readFrame(t.rd)
		if err != nil {
			if t.ctx.Err() != nil {
				return t.stopReason()
			}
			return fmt.Errorf("%w: control stream: %w", ErrInterrupted, err)
		}
		switch f.Op {
		case opFile:
			var b fileBody
			if err := decodeEvent(f, opFile, &b); err != nil {
				return err
			}
			if err := t.fileHash(b); err != nil {
				return err
			}
			continue
		case opDone:
			if err := decodeEvent(f, opDone, nil); err != nil {
				return err
			}
		default:
			return decodeEvent(f, opFile, nil) // the abort's error, or a protocol error
		}
		break
	}
	select {
	case <-t.allDone:
		return nil
	case <-t.ctx.Done():
		return t.stopReason()
	}
}

// stopReason says why the session's context ended.
func (t *session) stopReason() error {
	cause := context.Cause(t.ctx)
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrInterrupted, cause)
	}
	return cause
}

// fail stops the session with err, unless it has stopped already.
func (t *session) fail(err error) { t.cancel(err) }

// attach admits a data stream; the caller calls t.data.Done when it ends.
func (t *session) attach() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.ready || t.closed {
		return false
	}
	t.data.Add(1)
	return true
}

// fileHash records a file's announced hash and finishes the file if its
// data is complete.
func (t *session) fileHash(b fileBody) error {
	sum, err := hex.DecodeString(b.SHA256)
	if err != nil || len(sum) != sha256.Size || b.Entry < 0 || b.Entry >= len(t.entries) {
		return fmt.Errorf("%w: bad file frame for entry %d", ErrProtocol, b.Entry)
	}
	t.mu.Lock()
	es := &t.entries[b.Entry]
	if es.want != nil || es.finished {
		t.mu.Unlock()
		return fmt.Errorf("%w: unexpected file frame for entry %d", ErrProtocol, b.Entry)
	}
	es.want = (*[32]byte)(sum)
	ready := es.dataDone && !es.finishing
	es.finishing = es.finishing || ready
	t.mu.Unlock()
	if ready {
		return t.finish(b.Entry)
	}
	return nil
}

// dataDone records that entry i's data is verified and synced, and
// finishes the file if its hash has arrived.
func (t *session) dataDone(i int) error {
	t.mu.Lock()
	es := &t.entries[i]
	if es.pos == t.cp.Entries[i].Size {
		es.dataDone = true
		es.sum = es.hash.sum()
		es.hash = nil
	}
	ready := es.dataDone && es.want != nil && !es.finishing
	es.finishing = es.finishing || ready
	t.mu.Unlock()
	if ready {
		return t.finish(i)
	}
	return nil
}
