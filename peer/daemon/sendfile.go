package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/transfer"
)

// File transfers wait for a direct path: only small things go through
// the relay, and files do not.
const (
	// maxOfferPaths bounds the paths of one send-file.
	maxOfferPaths = 1000
	// transferRetryMin and transferRetryMax bound the back-off of a
	// transfer whose path broke.
	transferRetryMin = 2 * time.Second
	transferRetryMax = 2 * time.Minute
	// transferTick is how often the scheduler looks at waiting transfers
	// without being kicked.
	transferTick = 5 * time.Second
	// maxSkippedShown bounds the skipped paths a reply lists.
	maxSkippedShown = 100
)

// sending tracks the outgoing transfers running now, and the cancel
// notices being delivered, so each runs once, cancel can reach it, and
// no peer gets more than transfer.MaxOffersInFlight at once.
type sending struct {
	mu      sync.Mutex
	running map[string]runningSend // by transfer id, or noticeKey(id)
}

// runningSend is one attempt in progress; peer is "" for a notice, which
// is not an offer and counts against no cap.
type runningSend struct {
	peer   string
	cancel context.CancelCauseFunc
}

// start records an attempt at id to peer, unless one runs already or
// peer has transfer.MaxOffersInFlight running.
func (s *sending) start(id, peer string, cancel context.CancelCauseFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.running = make(map[string]runningSend)
	}
	if _, ok := s.running[id]; ok {
		return false
	}
	if peer != "" {
		n := 0
		for _, r := range s.running {
			if r.peer == peer {
				n++
			}
		}
		if n >= transfer.MaxOffersInFlight {
			return false
		}
	}
	s.running[id] = runningSend{peer: peer, cancel: cancel}
	return true
}

func (s *sending) stop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running, id)
}

func (s *sending) cancel(id string, cause error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.running[id]
	if ok {
		r.cancel(cause)
	}
	return ok
}

// SendFile offers files and folders to a user or to each member of a
// #group. Each recipient gets a transfer of its own; it starts at once
// when a direct path exists, and by itself when one opens.
func (tr *transfers) SendFile(ctx context.Context, req api.SendFileRequest) (api.SendFileResult, error) {
	me, err := tr.session.requireLogin()
	if err != nil {
		return api.SendFileResult{}, err
	}
	if len(req.Paths) == 0 {
		return api.SendFileResult{}, api.Errorf(api.CodeInvalid, "no file or folder to send")
	}
	if len(req.Paths) > maxOfferPaths {
		return api.SendFileResult{}, api.Errorf(api.CodeInvalid, "%d paths; the most is %d (send their folder instead)", len(req.Paths), maxOfferPaths)
	}
	for _, p := range req.Paths {
		if !filepath.IsAbs(p) {
			return api.SendFileResult{}, api.Errorf(api.CodeInvalid, "%q is not an absolute path", p)
		}
	}
	conv, to, err := tr.messages.recipients(ctx, me, req.Target)
	if err != nil {
		return api.SendFileResult{}, err
	}
	offer, err := transfer.NewOffer(req.Paths...)
	if err != nil {
		return api.SendFileResult{}, api.Errorf(api.CodeInvalid, "%v", err)
	}
	group := strings.TrimPrefix(conv, "g:")
	if group == conv {
		group = ""
	}
	res := api.SendFileResult{}
	var recs []history.Transfer
	for i, sk := range offer.Skipped {
		if i == maxSkippedShown {
			res.Skipped = append(res.Skipped, api.SkippedPath{Path: "…", Reason: fmt.Sprintf("and %d more", len(offer.Skipped)-i)})
			break
		}
		res.Skipped = append(res.Skipped, api.SkippedPath{Path: sk.Path, Reason: sk.Reason})
	}
	for _, u := range to {
		rec := history.Transfer{
			ID: transfer.NewID(), Outgoing: true, Peer: u, Group: group, State: history.TransferQueued,
			Paths: req.Paths, Name: offerName(offer), Files: offer.Files(), Total: offer.Total(),
		}
		if err := tr.db.AddTransfer(ctx, rec); err != nil {
			return res, fmt.Errorf("store transfer: %w", err)
		}
		if stored, err := tr.db.Transfer(ctx, rec.ID); err == nil {
			rec = stored
		}
		recs = append(recs, rec)
		res.Transfers = append(res.Transfers, tr.apiTransfer(rec, 0))
	}
	tr.addFileItem(ctx, conv, recs) // fileitems.go
	for _, rec := range recs {
		tr.transferEvent(rec, 0)
	}
	tr.kickTransfers()
	return res, nil
}

// offerName summarises an offer in one line: the name the user picked
// ("q3.pdf", or "photos/" for a lone folder), or the first of them and a
// count ("photos and 2 more"), where a slash would stand before a word.
func offerName(o *transfer.Offer) string {
	var tops []string
	folder := map[string]bool{}
	for _, e := range o.Entries {
		top, rest, _ := strings.Cut(e.Path, "/")
		if _, seen := folder[top]; !seen {
			tops = append(tops, top)
		}
		folder[top] = folder[top] || rest != "" || e.Dir
	}
	switch len(tops) {
	case 0:
		return ""
	case 1:
		if folder[tops[0]] {
			return tops[0] + "/"
		}
		return tops[0]
	default:
		return fmt.Sprintf("%s and %d more", tops[0], len(tops)-1)
	}
}

// kickTransfers asks the scheduler to look at waiting transfers now.
func (tr *transfers) kickTransfers() {
	select {
	case tr.transferKick <- struct{}{}:
	default:
	}
}

// transferLoop starts outgoing transfers whose recipient is reachable
// directly: when kicked (a send-file, a peer connected) and every
// transferTick.
func (tr *transfers) transferLoop(ctx context.Context) {
	tr.sweepMedia(ctx) // mediatransfer.go
	t := time.NewTicker(transferTick)
	defer t.Stop()
	for {
		tr.startTransfers(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tr.transferKick:
		case <-t.C:
		}
	}
}

func (tr *transfers) startTransfers(ctx context.Context) {
	if tr.session.self() == "" {
		return
	}
	recs, err := tr.db.ResumableTransfers(ctx)
	if err != nil {
		tr.log.Warn("list transfers", "err", err)
		return
	}
	now := time.Now()
	for _, rec := range recs {
		if rec.NextAttempt.After(now) && tr.peers.get(rec.Peer) == nil {
			continue
		}
		sctx, cancel := context.WithCancelCause(ctx)
		if !tr.outgoing.start(rec.ID, rec.Peer, cancel) {
			cancel(nil)
			continue // running already, or as many to this peer as it takes
		}
		tr.spawn(func() {
			defer tr.outgoing.stop(rec.ID)
			defer cancel(nil)
			tr.runSend(sctx, rec)
		})
	}
	tr.startNotices(ctx, now)
}

// runSend makes one attempt at an outgoing transfer.
func (tr *transfers) runSend(ctx context.Context, rec history.Transfer) {
	if !tr.mediaReady(ctx, rec) { // mediatransfer.go
		return
	}
	c := tr.peers.connect(ctx, rec.Peer, false)
	if c == nil {
		tr.transferRetry(rec, errors.New("no direct path to "+rec.Peer+" now"))
		return
	}
	offer, err := transfer.NewOffer(rec.Paths...)
	if err != nil {
		tr.transferEnd(rec.ID, history.TransferFailed, fmt.Sprintf("cannot read what was offered: %v", err))
		return
	}
	offer.ID = rec.ID
	rec, err = tr.db.UpdateTransfer(tr.ctx, rec.ID, func(t *history.Transfer) error {
		if t.State.Final() {
			return errFinal // cancelled meanwhile
		}
		t.State, t.Error, t.Attempts = history.TransferActive, "", t.Attempts+1
		t.Files, t.Total = offer.Files(), offer.Total()
		return nil
	})
	if errors.Is(err, errFinal) {
		return
	}
	if err != nil {
		tr.log.Warn("record transfer start", "id", rec.ID, "err", err)
		return
	}
	tr.transferEvent(rec, 0)
	tr.log.Info("sending files", "id", rec.ID, "to", rec.Peer, "files", offer.Files(), "bytes", offer.Total())
	res, err := transfer.Send(ctx, transferConn{c}, offer, transfer.SendOptions{
		OnProgress: tr.progressSink, Logger: tr.log.With("part", "transfer"),
	})
	var sent, chunks, resumed int64
	var striped int
	var streams []int64
	if res != nil {
		sent, chunks, resumed, striped, streams = res.Bytes, res.Chunks, res.Resumed, res.Striped, res.StreamBytes
	}
	tr.log.Info("transfer attempt ended", "id", rec.ID, "to", rec.Peer, "bytes", sent, "chunks", chunks, "resumed", resumed,
		"striped", striped, "stream_bytes", streams, "err", err)
	switch {
	case err == nil:
		tr.transferEnd(rec.ID, history.TransferDone, "")
	case errors.Is(context.Cause(ctx), transfer.ErrCancelled):
		// Cancelled here: the receiver hears of it from the abort, and
		// from a notice in case the abort did not reach it.
		tr.cancelOutgoing(rec.ID)
	case errors.Is(err, transfer.ErrCancelled):
		tr.transferEnd(rec.ID, history.TransferCancelled, rec.Peer+" cancelled it: "+errText(err))
	case errors.Is(err, transfer.ErrLimit):
		tr.transferRetry(rec, fmt.Errorf("%s's daemon takes no more from you for now, this one waits: %w", rec.Peer, err))
	case errors.Is(err, transfer.ErrRejected):
		tr.transferEnd(rec.ID, history.TransferRejected, rec.Peer+" declined: "+errText(err))
	case errors.Is(err, transfer.ErrNoSpace), errors.Is(err, transfer.ErrDiskFull):
		tr.transferEnd(rec.ID, history.TransferFailed, rec.Peer+"'s disk is full: "+errText(err)+"; what was verified is kept, send again to resume")
	case errors.Is(err, transfer.ErrSource), errors.Is(err, transfer.ErrInvalidOffer), errors.Is(err, transfer.ErrUnsafePath), errors.Is(err, transfer.ErrProtocol),
		errors.Is(err, transfer.ErrVersion):
		tr.transferEnd(rec.ID, history.TransferFailed, errText(err))
	case tr.ctx.Err() != nil:
		// The daemon is stopping: the transfer resumes at the next start.
		tr.db.UpdateTransfer(context.WithoutCancel(tr.ctx), rec.ID, func(t *history.Transfer) error {
			if !t.State.Final() {
				t.State = history.TransferWaiting
			}
			return nil
		})
	default:
		tr.transferRetry(rec, err)
	}
}

func errText(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// transferRetry records a broken attempt; the transfer resumes by itself.
func (tr *transfers) transferRetry(rec history.Transfer, why error) {
	wait := transferBackoff(rec.Attempts)
	rec, err := tr.db.UpdateTransfer(tr.ctx, rec.ID, func(t *history.Transfer) error {
		if t.State.Final() {
			return nil
		}
		t.State = history.TransferWaiting
		if t.Attempts == 0 {
			t.State = history.TransferQueued // it never started
		}
		t.NextAttempt = time.Now().Add(wait)
		t.Error = errText(why)
		return nil
	})
	if err != nil {
		tr.log.Warn("record transfer retry", "err", err)
		return
	}
	tr.log.Debug("transfer waits for a direct path", "id", rec.ID, "to", rec.Peer, "why", why)
	tr.transferEvent(rec, 0)
}

// errFinal stops an update of a transfer that ended meanwhile.
var errFinal = errors.New("transfer ended already")

// transferEnd records how a transfer ended for good. A transfer that
// ended already keeps its first end: cancelled and rejected are final.
func (tr *transfers) transferEnd(id string, state history.TransferState, why string) {
	rec, err := tr.db.UpdateTransfer(context.WithoutCancel(tr.ctx), id, func(t *history.Transfer) error {
		if t.State.Final() {
			return nil
		}
		t.State, t.Error = state, why
		if state == history.TransferDone {
			t.Done, t.Error = t.Total, ""
		}
		return nil
	})
	if err != nil {
		tr.log.Warn("record transfer end", "id", id, "err", err)
		return
	}
	tr.log.Info("transfer ended", "id", id, "peer", rec.Peer, "state", string(state))
	tr.transferEvent(rec, 0)
}

// transferBackoff is how long a transfer (or a cancel notice) that failed
// attempts times waits before the next try.
func transferBackoff(attempts int) time.Duration {
	return min(transferRetryMin<<min(attempts, 8), transferRetryMax)
}
