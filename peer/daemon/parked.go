package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/history"
)

// Relayed envelopes (docs/protocol.md, "relay.ack"): the daemon takes every
// envelope the server pushes out of the server's delivery window, so that
// no envelope can hold back the ones behind it. Each is, after its own
// commit here:
//   - stored in history (or a receipt recorded) and acknowledged;
//   - parked in history.db when it cannot be acted on yet (a held sender,
//     a group not known to have the sender, a sender who is not a contact
//     now, a failure that may pass) and acknowledged; parked envelopes
//     are re-examined after every roster sync and trust;
//   - refused when it can never be opened or is not acceptable (forged,
//     sealed to a key this machine does not have, malformed), which the
//     server passes on to its sender as a drop notice.
// Only a failure of this daemon's own database leaves an envelope
// unanswered on the server, which pushes it again at the next session.

// Bounds of the parked store: per sender, and in all. Beyond them the
// oldest parked envelopes are dropped, with a log line.
var parkLimits = history.ParkLimits{
	SenderCount: 256,
	SenderBytes: 16 << 20,
	TotalCount:  4096,
	TotalBytes:  256 << 20,
}

// relayGather is how many relay events that are already waiting the
// server loop takes into one batch: one commit and one relay.ack for all.
const relayGather = 128

// reexaminePage is how many parked envelopes one re-examination reads at
// a time.
const reexaminePage = 64

// relayBatch collects what one batch of relayed envelopes comes to.
type relayBatch struct {
	acks     []wire.RelayRef
	refused  []wire.RelayRef
	park     []history.Parked
	receipts []wire.RelayRef // stored messages whose senders get a receipt
}

// receiveRelayed takes a batch of envelopes the server pushed, in order,
// and answers for all of them with one acknowledgement, sent only after
// everything it names is committed here.
func (ms *messages) receiveRelayed(ctx context.Context, evs []wire.RelayEvent) {
	me := ms.recipient()
	if me == "" {
		return
	}
	b := ms.takeRelayedBatch(ctx, me, evs)
	ms.sendReceipts(ctx, b.receipts)
}

// takeRelayedBatch commits what it can of a batch, answers the server and
// returns what the batch came to; the receipts are left to the caller, to
// be sent without holding parkMu.
func (ms *messages) takeRelayedBatch(ctx context.Context, me string, evs []wire.RelayEvent) relayBatch {
	ms.parkMu.Lock()
	defer ms.parkMu.Unlock()
	var b relayBatch
	texts := &textRun{ms: ms, b: &b}
	for _, ev := range evs {
		ms.takeRelayed(ctx, me, ev, &b, texts)
	}
	texts.flush(ctx)
	if len(b.park) > 0 {
		dropped, err := ms.db.Park(ctx, b.park, parkLimits)
		if err != nil {
			// Not acknowledged: the server pushes them again with the
			// next session.
			ms.log.Error("park relayed envelopes", "count", len(b.park), "err", err)
			b.park = nil
		} else {
			for _, p := range b.park {
				b.acks = append(b.acks, wire.RelayRef{From: p.Sender, ID: p.ID})
			}
			ms.logParked(b.park, dropped)
		}
	}
	ms.answerRelay(ctx, b.acks, b.refused)
	return b
}

// takeRelayed decides about one relayed envelope and records the outcome
// in b. Texts are left to texts, which commits them together; other
// messages are committed to history here, after the texts before them;
// parking is left to the caller, which commits all of a batch at once.
func (ms *messages) takeRelayed(ctx context.Context, me string, ev wire.RelayEvent, b *relayBatch, texts *textRun) {
	ref := wire.RelayRef{From: ev.From, ID: ev.ID}
	if wire.CheckMessageID("id", ev.ID) != nil {
		return // the server would refuse an answer naming it
	}
	if _, werr := wire.NormalizeUsername("from", ev.From); werr != nil {
		return
	}
	park := history.Parked{Sender: ev.From, ID: ev.ID, Envelope: ev.Envelope, At: ev.At}
	if park.At.IsZero() || park.At.After(time.Now()) {
		park.At = time.Now()
	}
	switch out := ms.openRelayed(ctx, me, park, texts); out.result {
	case relayTaken:
	case relayStored:
		b.acks = append(b.acks, ref)
		if out.receipt {
			b.receipts = append(b.receipts, ref)
		}
	case relayPark:
		park.Reason, park.Group = out.reason, out.group
		b.park = append(b.park, park)
	case relayRefuse:
		ms.log.Warn("refusing relayed envelope", "id", ev.ID, "from", ev.From, "why", out.why)
		b.refused = append(b.refused, ref)
	case relayLeave:
		ms.log.Warn("cannot take a relayed message now; it stays on the server", "id", ev.ID, "from", ev.From, "why", out.why)
	}
}

// relayResult is what became of a relayed envelope.
type relayResult int

const (
	relayStored relayResult = iota // in history (or a receipt recorded)
	relayPark                      // to be parked
	relayRefuse                    // never acceptable
	relayLeave                     // not committed here: leave it on the server
	relayTaken                     // taken into a run of texts, which answers for it
)

type relayOutcome struct {
	result  relayResult
	reason  history.ParkReason // for relayPark
	group   string             // for relayPark: the group the message named
	receipt bool               // for relayStored: send the sender a receipt
	why     any                // for relayRefuse, relayLeave: for the log
}

// openRelayed opens a relayed (or parked) envelope and, when it may be
// taken now, commits it to history; or, with texts, hands a text over to
// the run (relayTaken), committing the run's texts first when it takes
// anything else.
func (ms *messages) openRelayed(ctx context.Context, me string, p history.Parked, texts *textRun) relayOutcome {
	m, err := ms.openEnvelope(ctx, me, p.Envelope)
	switch {
	case errors.Is(err, history.ErrHeld):
		return relayOutcome{result: relayPark, reason: history.ParkHeld}
	case errors.Is(err, errTransient):
		return relayOutcome{result: relayPark, reason: history.ParkRetry}
	case err != nil:
		return relayOutcome{result: relayRefuse, why: err}
	}
	// The signed message must be the one the server named: its identity
	// is (sender, id), and the server acknowledges it under that name.
	// receive checks the sender, as it checks a direct connection's.
	if m.ID != p.ID {
		return relayOutcome{result: relayRefuse, why: "the signed id differs from the relay's"}
	}
	if texts != nil {
		if texts.add(ctx, m, p.Sender, me, p) {
			return relayOutcome{result: relayTaken}
		}
		texts.flush(ctx)
	}
	reason, werr := ms.receive(ctx, arrival{Message: m, Sender: p.Sender, Me: me, Via: history.ViaRelay, Arrived: p.At})
	switch {
	case reason != "":
		return relayOutcome{result: relayPark, reason: reason, group: m.Group}
	case werr == nil:
		return relayOutcome{result: relayStored, receipt: m.Kind != kindReceipt}
	case werr.Code == wire.CodeInternal:
		return relayOutcome{result: relayLeave, why: werr}
	}
	return relayOutcome{result: relayRefuse, why: werr}
}

// answerRelay acknowledges and refuses relayed envelopes, in calls of at
// most wire.MaxAckIDs.
func (ms *messages) answerRelay(ctx context.Context, acks, refused []wire.RelayRef) {
	for len(acks)+len(refused) > 0 {
		var req wire.RelayAckRequest
		n := min(len(acks), wire.MaxAckIDs)
		req.Acks, acks = acks[:n], acks[n:]
		n = min(len(refused), wire.MaxAckIDs-len(req.Acks))
		req.Refused, refused = refused[:n], refused[n:]
		if err := ms.link.Call(ctx, wire.OpRelayAck, req, nil); err != nil {
			ms.log.Warn("acknowledge relayed messages", "err", err)
			return
		}
	}
}

// logParked says what was parked, and what the bounds dropped.
func (ms *messages) logParked(parked, dropped []history.Parked) {
	for _, p := range parked {
		ms.log.Debug("parked a relayed envelope", "from", p.Sender, "id", p.ID, "reason", p.Reason)
	}
	count := map[string]int{}
	for _, p := range parked {
		count[p.Sender]++
	}
	for u, n := range count {
		ms.log.Info("parked relayed envelopes that cannot be taken now", "from", u, "count", n)
	}
	dcount := map[string]int{}
	for _, p := range dropped {
		dcount[p.Sender]++
		ms.log.Debug("dropped a parked envelope", "from", p.Sender, "id", p.ID, "reason", p.Reason)
	}
	for u, n := range dcount {
		ms.log.Warn("dropped the oldest parked envelopes beyond the bound", "from", u, "count", n)
	}
}

// reexamineParked tries again every parked envelope whose reason may have
// passed (the sender trusted, a member of the group now, a contact now),
// and drops those older than the relay's retention. The roster sync and
// the trust path call it.
func (ms *messages) reexamineParked(ctx context.Context) {
	me := ms.session.self()
	if me == "" {
		return
	}
	ms.sendReceipts(ctx, ms.reexamineAll(ctx, me))
}

// reexamineAll re-examines every parked envelope under parkMu and returns
// the messages taken, whose senders get a receipt.
func (ms *messages) reexamineAll(ctx context.Context, me string) []wire.RelayRef {
	ms.parkMu.Lock()
	defer ms.parkMu.Unlock()
	var receipts []wire.RelayRef
	for after := int64(0); ctx.Err() == nil; {
		ps, err := ms.db.ParkedAfter(ctx, after, reexaminePage)
		if err != nil {
			ms.log.Warn("read parked envelopes", "err", err)
			break
		}
		if len(ps) == 0 {
			break
		}
		for _, p := range ps {
			after = p.Seq
			ms.reexamine(ctx, me, p, &receipts)
		}
	}
	return receipts
}

// kickReexamine asks the server loop to re-examine the parked envelopes
// soon. It never blocks, so it is safe under parkMu (a key seen changed
// back while an envelope is being opened).
func (ms *messages) kickReexamine() {
	select {
	case ms.reexamineKick <- struct{}{}:
	default:
	}
}

// reexamine takes one parked envelope out of the store if it may be taken
// now, keeps it (with its current reason) if not, and drops it if it is
// too old or can never be taken.
func (ms *messages) reexamine(ctx context.Context, me string, p history.Parked, receipts *[]wire.RelayRef) {
	if time.Since(p.At) > ms.relayRetention {
		ms.log.Warn("dropping a parked envelope older than the relay's retention", "from", p.Sender, "id", p.ID, "reason", p.Reason)
		ms.unpark(ctx, p)
		return
	}
	if !ms.mayHavePassed(ctx, p) {
		return
	}
	env, err := ms.db.ParkedEnvelope(ctx, p.Seq)
	if err != nil {
		ms.log.Warn("read parked envelope", "from", p.Sender, "id", p.ID, "err", err)
		return
	}
	p.Envelope = env
	switch out := ms.openRelayed(ctx, me, p, nil); out.result {
	case relayStored:
		ms.log.Info("took a parked message", "from", p.Sender, "id", p.ID, "was", p.Reason)
		ms.unpark(ctx, p)
		if out.receipt {
			*receipts = append(*receipts, wire.RelayRef{From: p.Sender, ID: p.ID})
		}
	case relayPark:
		if out.reason != p.Reason || out.group != p.Group {
			p.Reason, p.Group = out.reason, out.group
			if _, err := ms.db.Park(ctx, []history.Parked{p}, history.ParkLimits{}); err != nil {
				ms.log.Warn("re-park envelope", "from", p.Sender, "id", p.ID, "err", err)
			}
		}
	case relayRefuse:
		ms.log.Warn("dropping a parked envelope that cannot be taken", "from", p.Sender, "id", p.ID, "why", out.why)
		ms.unpark(ctx, p)
	case relayLeave:
	}
}

// mayHavePassed reports, cheaply and without opening the envelope,
// whether the reason a parked envelope waits may no longer hold.
func (ms *messages) mayHavePassed(ctx context.Context, p history.Parked) bool {
	switch p.Reason {
	case history.ParkHeld:
		held, err := ms.db.Held(ctx, p.Sender)
		return err == nil && !held
	case history.ParkGroup:
		return ms.roster.Member(p.Group, p.Sender)
	case history.ParkContact:
		return ms.roster.Related(p.Sender)
	}
	return true
}

func (ms *messages) unpark(ctx context.Context, p history.Parked) {
	if err := ms.db.Unpark(ctx, p.Sender, p.ID); err != nil {
		ms.log.Warn("unpark envelope", "err", err)
	}
}

// relayDropped records what the relay dropped for good of ours: each copy
// named becomes failed, with the reason, and local clients are told. The
// notices are acknowledged after the commit.
func (ms *messages) relayDropped(ctx context.Context, ev wire.RelayDroppedEvent) {
	var refs []wire.RelayDropRef
	for _, dr := range ev.Drops {
		err := ms.db.Failed(ctx, dr.ID, dr.To, dropReason(dr.Reason))
		if err != nil && !errors.Is(err, history.ErrNotFound) {
			ms.log.Warn("record a dropped message", "to", dr.To, "id", dr.ID, "err", err)
			continue // not acknowledged: the server tells us again
		}
		if err == nil {
			ms.log.Warn("the relay dropped a message undelivered", "to", dr.To, "id", dr.ID, "reason", dr.Reason)
			ms.messageState(ctx, dr.ID)
		}
		refs = append(refs, wire.RelayDropRef{To: dr.To, ID: dr.ID})
	}
	for len(refs) > 0 {
		n := min(len(refs), wire.MaxAckIDs)
		if err := ms.link.Call(ctx, wire.OpRelayDroppedAck, wire.RelayDroppedAckRequest{Drops: refs[:n]}, nil); err != nil {
			ms.log.Warn("acknowledge drop notices", "err", err)
			return
		}
		refs = refs[n:]
	}
}

// dropReason is the user's sentence for a drop notice's reason.
func dropReason(reason string) string {
	switch reason {
	case wire.DropExpired:
		return "the server kept it for its whole retention time and dropped it undelivered"
	case wire.DropRefused:
		return "the recipient's daemon could not open it"
	}
	return "the server dropped it undelivered (" + reason + ")"
}
