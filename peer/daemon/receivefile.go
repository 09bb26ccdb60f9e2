package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/transfer"
)

// maxTransfersListed bounds lanchat transfers.
const maxTransfersListed = 500

// decisions are the offers waiting for the user (lanchat accept or
// reject) while their sender waits on the line.
type decisions struct {
	mu      sync.Mutex
	waiting map[string]chan transfer.Decision
}

func (ds *decisions) wait(id string) (<-chan transfer.Decision, func()) {
	ch := make(chan transfer.Decision, 1)
	ds.mu.Lock()
	if ds.waiting == nil {
		ds.waiting = make(map[string]chan transfer.Decision)
	}
	ds.waiting[id] = ch
	ds.mu.Unlock()
	return ch, func() {
		ds.mu.Lock()
		if ds.waiting[id] == ch {
			delete(ds.waiting, id)
		}
		ds.mu.Unlock()
	}
}

// drop forgets a waiting offer whose attempt is ending anyway.
func (ds *decisions) drop(id string) {
	ds.mu.Lock()
	delete(ds.waiting, id)
	ds.mu.Unlock()
}

// answer gives a waiting offer its decision and reports whether one was
// waiting.
func (ds *decisions) answer(id string, dec transfer.Decision) bool {
	ds.mu.Lock()
	ch, ok := ds.waiting[id]
	delete(ds.waiting, id)
	ds.mu.Unlock()
	if ok {
		ch <- dec
	}
	return ok
}

// newReceiver makes the daemon's file receiver, its resume state kept in
// the history database.
func (tr *transfers) newReceiver() (*transfer.Receiver, error) {
	return transfer.NewReceiver(transfer.ReceiverConfig{
		Decide:     tr.decide,
		Cancelled:  tr.peerCancelled,
		Pull:       tr.library.servePull, // library.go
		Progress:   tr.db.Checkpoints(),
		OnProgress: tr.progressSink,
		Logger:     tr.log.With("part", "transfer"),
	})
}

// serveTransfer hands a transfer stream a contact opened to the receiver:
// a transfer's control stream or one of its data streams.
func (tr *transfers) serveTransfer(c *direct.Conn, s *direct.Stream) {
	res, err := tr.receiver.Serve(c.Context(), transferConn{c}, transferStream{s})
	if res != nil {
		tr.log.Info("files received", "id", res.ID, "from", res.Peer, "dir", res.Dir, "files", len(res.Paths), "bytes", res.Bytes, "resumed", res.Resumed, "direct", res.Direct)
		tr.receivedEnd(res.ID, tr.keepReceivedMedia(res)) // mediatransfer.go
	} else if err != nil {
		tr.log.Debug("transfer stream ended", "from", c.User(), "err", err)
	}
}

// downloads is where files from contacts go.
func (tr *transfers) downloads() string {
	if tr.downloadsDir != "" {
		return tr.downloadsDir
	}
	if dir := userDownloads(); dir != "" {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
	}
	return filepath.Join(tr.home.Dir(), "downloads")
}

// decide answers an offer: contacts' files are taken into the downloads
// folder at once unless the user asked to be asked (--ask-files); the
// rest wait for lanchat accept or reject.
func (tr *transfers) decide(ctx context.Context, req *transfer.Request) transfer.Decision {
	o := req.Offer
	rec, err := tr.db.Transfer(ctx, o.ID)
	switch {
	case errors.Is(err, history.ErrNotFound):
		rec = history.Transfer{ID: o.ID, Peer: req.Peer, State: history.TransferOffered, Name: offerName(o), Files: o.Files(), Total: o.Total()}
		if err := tr.db.AddTransfer(ctx, rec); err != nil {
			tr.log.Warn("store offer", "err", err)
			return transfer.Decision{Reason: "the receiver could not record the offer"}
		}
		tr.addFileItem(ctx, history.Direct(req.Peer), []history.Transfer{rec}) // fileitems.go
	case err != nil:
		tr.log.Warn("read transfer", "err", err)
		return transfer.Decision{Reason: "the receiver could not read its transfers"}
	case rec.Outgoing || rec.Peer != req.Peer:
		return transfer.Decision{Reason: "transfer id already in use"}
	}
	if dec, ok := tr.decideMedia(ctx, req, rec); ok { // mediatransfer.go
		return dec
	}
	// A transfer that ended here stays ended, a resume included: the
	// sender is told why, and ends it too.
	if rec.State.Final() {
		return finalDecision(rec)
	}
	if req.Resume {
		return tr.acceptInto(ctx, rec, req.Dir)
	}
	if rec.Dir != "" {
		// Accepted while the sender was away: go.
		return tr.acceptInto(ctx, rec, rec.Dir)
	}
	if tr.autoAccept(ctx, req.Peer) {
		return tr.acceptInto(ctx, rec, tr.downloads())
	}
	if rec.State != history.TransferOffered {
		var err error
		rec, err = tr.db.UpdateTransfer(ctx, o.ID, func(t *history.Transfer) error {
			if t.State.Final() {
				return errFinal
			}
			t.State = history.TransferOffered
			return nil
		})
		if err != nil {
			if now, rerr := tr.db.Transfer(ctx, o.ID); rerr == nil && now.State.Final() {
				return finalDecision(now)
			}
			return transfer.Decision{Reason: "the receiver could not record the offer"}
		}
	}
	tr.log.Info("file offer waits for the user", "id", o.ID, "from", req.Peer, "name", rec.Name)
	tr.transferEvent(rec, 0)
	ch, done := tr.decisions.wait(o.ID)
	defer done()
	// An answer given before the wait was in place is in the record:
	// accept and reject record it before they answer a waiting offer.
	if now, err := tr.db.Transfer(ctx, o.ID); err == nil {
		switch {
		case now.State.Final():
			return finalDecision(now)
		case now.Dir != "":
			return tr.acceptInto(ctx, now, now.Dir)
		}
	}
	select {
	case dec := <-ch:
		return dec
	case <-ctx.Done():
		if errors.Is(context.Cause(ctx), transfer.ErrCancelled) {
			// The sender cancelled it, or the user here did.
			tr.transferEnd(o.ID, history.TransferCancelled, req.Peer+" cancelled the offer")
			return transfer.Decision{Cancelled: true, Reason: "cancelled"}
		}
		// The sender gave up for now; the offer stays until the user
		// answers, and the sender's next attempt gets the answer.
		return transfer.Decision{Reason: "no answer yet"}
	}
}

// finalDecision refuses an offer of a transfer that ended here.
func finalDecision(rec history.Transfer) transfer.Decision {
	switch rec.State {
	case history.TransferCancelled:
		return transfer.Decision{Cancelled: true, Reason: "cancelled on the receiver's side"}
	case history.TransferDone:
		return transfer.Decision{Reason: "already received"}
	case history.TransferFailed:
		return transfer.Decision{Reason: "failed on the receiver's side: " + rec.Error}
	}
	return transfer.Decision{Reason: "declined"}
}

// acceptInto accepts rec into dir, unless it ended meanwhile.
func (tr *transfers) acceptInto(ctx context.Context, rec history.Transfer, dir string) transfer.Decision {
	if !tr.setReceiving(ctx, rec.ID, dir) {
		if now, err := tr.db.Transfer(ctx, rec.ID); err == nil && now.State.Final() {
			return finalDecision(now)
		}
		return transfer.Decision{Reason: "the receiver could not record the transfer"}
	}
	return transfer.Decision{Accept: true, Dir: dir}
}

// peerCancelled acts on a sender's cancel notice: its transfer, unless
// it ended already, is cancelled (the Receiver then removes what it
// left).
func (tr *transfers) peerCancelled(ctx context.Context, peer, id string) {
	rec, err := tr.db.Transfer(ctx, id)
	if err != nil || rec.Outgoing || rec.Peer != peer || rec.State.Final() {
		return
	}
	tr.decisions.drop(id)
	tr.transferEnd(id, history.TransferCancelled, peer+" cancelled it")
}

// autoAccept says whether files from user are taken without asking: a
// friend's, once this run has synced the roster. The roster kept on disk
// is older than the server's (user may have been removed since), so on
// it every offer waits for the user. An offer that comes while the first
// sync is under way (contacts dial as soon as our presence shows) waits
// a little for it.
func (tr *transfers) autoAccept(ctx context.Context, user string) bool {
	if tr.askFiles {
		return false
	}
	tr.waitSynced(ctx)
	return tr.roster.TrustedFriend(user)
}

// setReceiving records an accepted transfer as moving into dir, and
// reports whether it did: not if the transfer ended meanwhile.
func (tr *transfers) setReceiving(ctx context.Context, id, dir string) bool {
	rec, err := tr.db.UpdateTransfer(ctx, id, func(t *history.Transfer) error {
		if t.State.Final() {
			return errFinal
		}
		t.State, t.Dir, t.Error = history.TransferActive, dir, ""
		return nil
	})
	if err != nil {
		if !errors.Is(err, errFinal) {
			tr.log.Warn("record accepted transfer", "id", id, "err", err)
		}
		return false
	}
	tr.transferEvent(rec, 0)
	return true
}

// receivedEnd records how an attempt at an incoming transfer ended.
func (tr *transfers) receivedEnd(id string, err error) {
	switch {
	case err == nil:
		tr.transferEnd(id, history.TransferDone, "")
	case errors.Is(err, transfer.ErrCancelled):
		tr.transferEnd(id, history.TransferCancelled, errText(err))
	case errors.Is(err, transfer.ErrRejected):
		tr.transferEnd(id, history.TransferRejected, "declined")
	case errors.Is(err, transfer.ErrNoSpace), errors.Is(err, transfer.ErrDiskFull):
		tr.transferEnd(id, history.TransferFailed, "the disk is full: "+errText(err)+"; what was verified is kept")
	case errors.Is(err, transfer.ErrUnsafePath), errors.Is(err, transfer.ErrInvalidOffer), errors.Is(err, transfer.ErrProtocol):
		tr.transferEnd(id, history.TransferFailed, errText(err))
	default:
		// Broken: the sender resumes it from the last verified chunk.
		rec, uerr := tr.db.UpdateTransfer(context.WithoutCancel(tr.ctx), id, func(t *history.Transfer) error {
			if !t.State.Final() {
				t.State, t.Error = history.TransferWaiting, errText(err)
			}
			return nil
		})
		if uerr == nil {
			tr.transferEvent(rec, 0)
		}
	}
}

// progressSink takes progress reports from transfers. It must not block:
// reports go to progressLoop, and a report that finds it busy is dropped
// unless it is the last of an attempt.
func (tr *transfers) progressSink(st transfer.Status) {
	select {
	case tr.progress <- st:
	default:
		if st.Final {
			tr.spawn(func() {
				select {
				case tr.progress <- st:
				case <-tr.ctx.Done():
				}
			})
		}
	}
}

// progressLoop records transfer progress and tells local clients.
func (tr *transfers) progressLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case st := <-tr.progress:
			tr.onProgress(ctx, st)
		}
	}
}

func (tr *transfers) onProgress(ctx context.Context, st transfer.Status) {
	if st.Final && !st.Sending && st.Err != nil {
		tr.receivedEnd(st.ID, st.Err)
		return
	}
	if st.Final {
		return // the sender's runSend and the receiver's serveTransfer record the end
	}
	rec, err := tr.db.UpdateTransfer(ctx, st.ID, func(t *history.Transfer) error {
		t.Done = st.Bytes
		if st.Total > 0 {
			t.Total = st.Total
		}
		return nil
	})
	if err != nil {
		return
	}
	tr.transferEvent(rec, st.Rate)
}

// Transfers lists transfers both ways, newest first.
func (tr *transfers) Transfers(ctx context.Context) ([]api.Transfer, error) {
	if _, err := tr.session.requireLogin(); err != nil {
		return nil, err
	}
	recs, err := tr.db.Transfers(ctx, maxTransfersListed)
	if err != nil {
		return nil, fmt.Errorf("list transfers: %w", err)
	}
	out := make([]api.Transfer, 0, len(recs))
	for _, r := range recs {
		out = append(out, tr.apiTransfer(r, tr.rate(r.ID)))
	}
	return out, nil
}

// TransferAction accepts, rejects or cancels a transfer.
func (tr *transfers) TransferAction(ctx context.Context, id, action string, req api.AcceptRequest) (api.Transfer, error) {
	if _, err := tr.session.requireLogin(); err != nil {
		return api.Transfer{}, err
	}
	rec, err := tr.db.Transfer(ctx, id)
	if errors.Is(err, history.ErrNotFound) {
		return api.Transfer{}, api.Errorf(api.CodeNotFound, "no transfer %s (lanchat transfers lists them)", id)
	}
	if err != nil {
		return api.Transfer{}, fmt.Errorf("read transfer: %w", err)
	}
	if rec.State.Final() {
		return api.Transfer{}, api.Errorf(api.CodeConflict, "transfer %s is %s already", id, rec.State)
	}
	switch action {
	case api.TransferAccept:
		return tr.acceptOffer(ctx, rec, req.Dir)
	case api.TransferReject:
		if rec.Outgoing || rec.State != history.TransferOffered {
			return api.Transfer{}, api.Errorf(api.CodeConflict, "only an offer waiting for you can be rejected; use cancel")
		}
		// Final first, so that an offer not yet waiting finds it.
		tr.transferEnd(id, history.TransferRejected, "declined")
		tr.decisions.answer(id, transfer.Decision{Reason: "declined"})
	case api.TransferCancel:
		if rec.Outgoing {
			if !tr.outgoing.cancel(id, transfer.ErrCancelled) {
				tr.cancelOutgoing(id)
			}
		} else {
			// Final first, so that no attempt starting now is accepted;
			// then the attempt deciding or running stops, or what a
			// waiting one left goes, at once.
			tr.transferEnd(id, history.TransferCancelled, "cancelled")
			tr.decisions.answer(id, transfer.Decision{Cancelled: true, Reason: "cancelled on the receiver's side"})
			tr.receiver.Cancel(ctx, id)
		}
	}
	// Wait briefly for a running transfer to wind down, so the reply
	// shows the end state.
	deadline := time.Now().Add(3 * time.Second)
	for {
		rec, err = tr.db.Transfer(ctx, id)
		if err != nil || rec.State.Final() || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return tr.apiTransfer(rec, 0), nil
}

// acceptOffer takes an offered transfer into dir (the downloads folder if
// empty).
func (tr *transfers) acceptOffer(ctx context.Context, rec history.Transfer, dir string) (api.Transfer, error) {
	if rec.Outgoing {
		return api.Transfer{}, api.Errorf(api.CodeConflict, "transfer %s is one you send", rec.ID)
	}
	if rec.Dir != "" {
		return api.Transfer{}, api.Errorf(api.CodeConflict, "transfer %s was accepted already, into %s", rec.ID, rec.Dir)
	}
	if dir == "" {
		dir = tr.downloads()
	}
	if !filepath.IsAbs(dir) {
		return api.Transfer{}, api.Errorf(api.CodeInvalid, "%q is not an absolute path", dir)
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return api.Transfer{}, api.Errorf(api.CodeInvalid, "%s is not a folder", dir)
	}
	// Recorded first (waiting for the sender to come back), so that an
	// offer not yet waiting finds it; then a waiting offer goes.
	rec, err := tr.db.UpdateTransfer(ctx, rec.ID, func(t *history.Transfer) error {
		t.State, t.Dir = history.TransferWaiting, dir
		return nil
	})
	if err != nil {
		return api.Transfer{}, fmt.Errorf("record accept: %w", err)
	}
	if tr.decisions.answer(rec.ID, transfer.Decision{Accept: true, Dir: dir}) {
		rec, err = tr.db.UpdateTransfer(ctx, rec.ID, func(t *history.Transfer) error {
			if t.State == history.TransferWaiting {
				t.State = history.TransferActive
			}
			return nil
		})
		if err != nil {
			return api.Transfer{}, fmt.Errorf("record accept: %w", err)
		}
	}
	tr.transferEvent(rec, 0)
	return tr.apiTransfer(rec, 0), nil
}
