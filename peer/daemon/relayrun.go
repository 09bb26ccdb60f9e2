package daemon

import (
	"context"
	"errors"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/history"
)

// textRun collects the texts of one batch of relayed envelopes that may
// be taken now, to be committed together (history.AddIncomingRun: one
// fsync for the run) before the batch is acknowledged. Anything else in
// the batch is taken only after the texts before it are committed, so
// the conversation keeps the relay's order.
type textRun struct {
	ms   *messages
	b    *relayBatch
	rows []history.Message
	refs []wire.RelayRef
}

// add takes m, which came through the relay from sender, into the run if
// it is a text that may be taken now, and reports whether it did.
func (r *textRun) add(ctx context.Context, m envelope.Message, sender, me string, p history.Parked) bool {
	if m.Kind != history.KindText || m.From != sender || m.To != me {
		return false
	}
	in := incoming{ID: m.ID, From: m.From, Group: m.Group, Sent: m.Sent, Kind: m.Kind, Body: string(m.Body), Via: history.ViaRelay, Arrived: p.At}
	conv, park, werr := r.ms.admit(ctx, &in)
	if werr != nil || park != "" {
		return false // receive says what becomes of it
	}
	r.rows = append(r.rows, r.ms.incomingRow(ctx, in, conv, ""))
	r.refs = append(r.refs, wire.RelayRef{From: p.Sender, ID: p.ID})
	return true
}

// flush commits the texts collected so far and records in the batch
// what became of each: acknowledged with a receipt once stored, refused
// when its id is taken by another message, left on the server when this
// side failed.
func (r *textRun) flush(ctx context.Context) {
	for len(r.rows) > 0 {
		inserted, n, err := r.ms.db.AddIncomingRun(ctx, r.rows)
		var added []history.Message
		for i := range n {
			if inserted[i] {
				added = append(added, r.rows[i])
			}
			r.b.acks = append(r.b.acks, r.refs[i])
			r.b.receipts = append(r.b.receipts, r.refs[i])
		}
		r.ms.announceRun(ctx, added)
		if err == nil {
			r.rows, r.refs = r.rows[:0], r.refs[:0]
			return
		}
		if n == 0 && !errors.Is(err, history.ErrConflict) && !errors.Is(err, history.ErrInvalid) {
			// The commit failed: none of them is here; the server
			// pushes them again with the next session.
			r.ms.log.Warn("cannot take relayed messages now; they stay on the server", "count", len(r.rows), "err", err)
			r.rows, r.refs = r.rows[:0], r.refs[:0]
			return
		}
		// rows[n] can never be stored (its id is taken, or it is
		// invalid): refused; the ones after it go on.
		r.ms.log.Warn("refusing relayed envelope", "id", r.refs[n].ID, "from", r.refs[n].From, "why", err)
		r.b.refused = append(r.b.refused, r.refs[n])
		r.rows, r.refs = r.rows[n+1:], r.refs[n+1:]
	}
}
