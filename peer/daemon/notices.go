package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/transfer"
)

// A transfer cancelled here may still be held by its receiver (an offer
// it has not answered, one accepted while this daemon was away, one
// waiting to resume). Its record then owes the receiver a cancel notice
// (history.Transfer.NoticeOwed), which the transfer scheduler delivers
// whenever the receiver is reachable, across restarts, until the
// receiver acknowledges it (docs/protocol.md, "transfer.cancel").

// noticeKey names a cancel notice's delivery among the running sends.
func noticeKey(id string) string { return "notice/" + id }

// startNotices delivers the cancel notices owed to peers reachable now.
func (tr *transfers) startNotices(ctx context.Context, now time.Time) {
	recs, err := tr.db.CancelNotices(ctx)
	if err != nil {
		tr.log.Warn("list cancel notices", "err", err)
		return
	}
	for _, rec := range recs {
		if rec.NextAttempt.After(now) && tr.peers.get(rec.Peer) == nil {
			continue
		}
		sctx, cancel := context.WithCancelCause(ctx)
		if !tr.outgoing.start(noticeKey(rec.ID), "", cancel) {
			cancel(nil)
			continue
		}
		tr.spawn(func() {
			defer tr.outgoing.stop(noticeKey(rec.ID))
			defer cancel(nil)
			tr.runNotice(sctx, rec)
		})
	}
}

// runNotice tells the receiver of a transfer cancelled here that it is
// cancelled (transfer.SendCancel), or schedules another try.
func (tr *transfers) runNotice(ctx context.Context, rec history.Transfer) {
	var err error
	if c := tr.peers.connect(ctx, rec.Peer, false); c == nil {
		err = errors.New("no direct path to " + rec.Peer + " now")
	} else {
		err = transfer.SendCancel(ctx, transferConn{c}, rec.ID)
	}
	if err != nil && tr.ctx.Err() != nil {
		return // stopping: the notice goes after the next start
	}
	wait := transferBackoff(rec.Attempts)
	_, uerr := tr.db.UpdateTransfer(context.WithoutCancel(tr.ctx), rec.ID, func(t *history.Transfer) error {
		if err == nil {
			t.NoticeOwed, t.NextAttempt = false, time.Time{}
			return nil
		}
		t.Attempts++
		t.NextAttempt = time.Now().Add(wait)
		return nil
	})
	if uerr != nil {
		tr.log.Warn("record cancel notice", "id", rec.ID, "err", uerr)
	}
	if err != nil {
		tr.log.Debug("cancel notice not delivered yet", "id", rec.ID, "to", rec.Peer, "err", err)
		return
	}
	tr.log.Info("cancel notice delivered", "id", rec.ID, "to", rec.Peer)
}

// cancelOutgoing records an outgoing transfer cancelled here. If it was
// ever offered, its receiver may hold it (offered, accepted, waiting to
// resume): it is owed a cancel notice, which startNotices delivers.
func (tr *transfers) cancelOutgoing(id string) {
	rec, err := tr.db.UpdateTransfer(context.WithoutCancel(tr.ctx), id, func(t *history.Transfer) error {
		if t.State.Final() {
			return nil
		}
		t.State, t.Error = history.TransferCancelled, "cancelled"
		t.NoticeOwed, t.NextAttempt = t.Attempts > 0, time.Time{}
		return nil
	})
	if err != nil {
		tr.log.Warn("record transfer end", "id", id, "err", err)
		return
	}
	tr.log.Info("transfer ended", "id", id, "peer", rec.Peer, "state", string(rec.State))
	tr.transferEvent(rec, 0)
	if rec.NoticeOwed {
		tr.kickTransfers()
	}
}
