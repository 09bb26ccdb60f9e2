package rendezvous

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// Relay delivery window: at most relayWindow envelopes pushed and not yet
// acknowledged per connection, fetched relayBatch at a time. This keeps a
// backlog from flooding the send queue of a slow client. The window holds
// only while the recipient answers: its daemon takes every envelope out of
// the window (stored, parked or refused), so none can hold it for good.
const (
	relayWindow = 128
	relayBatch  = 32
	// dropBatch is how many drop notices one relay.dropped event carries;
	// the next batch follows the sender's acknowledgement.
	dropBatch = 256
)

// relayState is a connection's delivery progress, guarded by conn.mu.
type relayState struct {
	cursor   int64                 // highest seq pushed on this connection
	inflight map[relayKey]struct{} // pushed, not yet acknowledged
	running  bool                  // a delivery goroutine is active
	again    bool                  // more work arrived while it ran
}

// relayKey is a relayed message's identity for its recipient.
type relayKey struct{ sender, id string }

// opRelaySend stores a batch of envelopes. The batch's shape (count,
// total bytes, decoding) is checked first: a malformed batch is answered
// with an error and closes the connection. Then each envelope is checked
// on its own (id, size, recipient, relation), and those that pass are
// stored together; the reply, one result per envelope, goes only after
// the store committed them durably.
func opRelaySend(ctx context.Context, c *conn, body json.RawMessage) (any, *wire.Error) {
	s := c.srv
	req, err := wire.DecodeRelaySend(body, s.cfg.MaxFrame/2)
	if err != nil {
		werr := wire.Errorf(wire.CodeMalformed, "%v", err)
		c.afterReply = func() { c.fail(werr) }
		return nil, werr
	}
	me := c.authedUser()
	results := make([]wire.RelaySendResult, len(req.Envelopes))
	msgs := make([]store.RelayMessage, 0, len(req.Envelopes))
	at := make([]int, 0, len(req.Envelopes)) // msgs[j] is envelope at[j]
	checked := map[string]relayTarget{}
	now := s.utcNow()
	for i, e := range req.Envelopes {
		if werr := wire.CheckMessageID("id", e.ID); werr != nil {
			results[i].Error = werr
			continue
		}
		if len(e.Envelope) == 0 || len(e.Envelope) > s.cfg.MaxEnvelope {
			results[i].Error = wire.Invalid("envelope", "must be 1 to %d bytes", s.cfg.MaxEnvelope)
			continue
		}
		t, ok := checked[e.To]
		if !ok {
			t = c.relayTarget(ctx, me, e.To)
			checked[e.To] = t
		}
		if t.err != nil {
			results[i].Error = t.err
			continue
		}
		msgs = append(msgs, store.RelayMessage{Recipient: t.name, ID: e.ID, Sender: me, Envelope: e.Envelope, Created: now})
		at = append(at, i)
	}
	if len(msgs) == 0 {
		return wire.RelaySendResponse{Results: results}, nil
	}
	puts, err := s.store.PutRelays(ctx, msgs, s.cfg.RelayQuota)
	if err != nil {
		return nil, c.internal("relay: store", err)
	}
	// The store committed durably before we answer: an acknowledged
	// envelope survives a crash.
	kick := map[string]bool{}
	for j, p := range puts {
		r := &results[at[j]]
		to := msgs[j].Recipient
		switch {
		case errors.Is(p.Err, store.ErrQuota):
			r.Error = wire.Errorf(wire.CodeQuotaExceeded, "%s has too many messages waiting; try again when they have been online", to)
		case errors.Is(p.Err, store.ErrSenderQuota):
			r.Error = wire.Errorf(wire.CodeQuotaExceeded, "you have as many messages waiting for %s as one sender may (%d, %d bytes); try again when they have been online",
				to, s.cfg.RelayQuota.SenderCount, s.cfg.RelayQuota.SenderBytes)
		case p.Err != nil:
			r.Error = c.internal("relay: store", p.Err)
		case p.Inserted:
			r.Status = "queued"
			s.cfg.Metrics.RelayQueued()
			kick[to] = true
		default:
			r.Status = "duplicate"
		}
	}
	if len(kick) > 0 {
		c.afterReply = func() {
			for to := range kick {
				// Here or on another node.
				s.kickRelayOf(to)
			}
		}
	}
	return wire.RelaySendResponse{Results: results}, nil
}

// relayTarget is a recipient of a relay.send batch, checked once per
// batch: its normalized name, or why nothing may be relayed to it.
type relayTarget struct {
	name string
	err  *wire.Error
}

// relayTarget checks that me may relay to the user named to: an enabled
// account, not me, a friend or a fellow group member.
func (c *conn) relayTarget(ctx context.Context, me, to string) relayTarget {
	u, werr := c.lookupUser(ctx, "to", to)
	if werr != nil {
		return relayTarget{err: werr}
	}
	if u.Name == me {
		return relayTarget{err: wire.Invalid("to", "you cannot relay to yourself")}
	}
	if ok, err := c.srv.related(ctx, me, u.Name); err != nil {
		return relayTarget{err: c.internal("relay: check relation", err)}
	} else if !ok {
		return relayTarget{err: wire.Errorf(wire.CodeNotFriends, "%s is neither your friend nor in a group with you", u.Name)}
	}
	return relayTarget{name: u.Name}
}

func opRelayAck(ctx context.Context, c *conn, req *wire.RelayAckRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	if n := len(req.Acks) + len(req.Refused); n == 0 || n > wire.MaxAckIDs {
		return nil, wire.Invalid("acks", "must name 1 to %d messages", wire.MaxAckIDs)
	}
	acks, werr := relayRefs("acks", req.Acks)
	if werr != nil {
		return nil, werr
	}
	refused, werr := relayRefs("refused", req.Refused)
	if werr != nil {
		return nil, werr
	}
	n, err := s.store.AckRelay(ctx, me, acks, refused, s.utcNow())
	if err != nil {
		return nil, c.internal("relay: ack", err)
	}
	s.cfg.Metrics.RelayDelivered(n)
	c.mu.Lock()
	for _, r := range append(acks, refused...) {
		delete(c.relay.inflight, relayKey{r.Sender, r.ID})
	}
	c.mu.Unlock()
	c.afterReply = c.kickRelay
	if len(refused) > 0 {
		senders := map[string]bool{}
		for _, r := range refused {
			senders[r.Sender] = true
		}
		c.afterReply = func() {
			c.kickRelay()
			for u := range senders {
				s.pushDropsOf(u)
			}
		}
	}
	return wire.Empty{}, nil
}

// relayRefs checks the messages an ack names.
func relayRefs(field string, refs []wire.RelayRef) ([]store.RelayRef, *wire.Error) {
	out := make([]store.RelayRef, 0, len(refs))
	for _, r := range refs {
		from, werr := wire.NormalizeUsername(field, r.From)
		if werr != nil {
			return nil, werr
		}
		if werr := wire.CheckMessageID(field, r.ID); werr != nil {
			return nil, werr
		}
		out = append(out, store.RelayRef{Sender: from, ID: r.ID})
	}
	return out, nil
}

func opRelayDroppedAck(ctx context.Context, c *conn, req *wire.RelayDroppedAckRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	if len(req.Drops) == 0 || len(req.Drops) > wire.MaxAckIDs {
		return nil, wire.Invalid("drops", "must name 1 to %d notices", wire.MaxAckIDs)
	}
	refs := make([]store.DropRef, 0, len(req.Drops))
	for _, d := range req.Drops {
		to, werr := wire.NormalizeUsername("drops", d.To)
		if werr != nil {
			return nil, werr
		}
		if werr := wire.CheckMessageID("drops", d.ID); werr != nil {
			return nil, werr
		}
		refs = append(refs, store.DropRef{Recipient: to, ID: d.ID})
	}
	if _, err := s.store.AckRelayDrops(ctx, me, refs); err != nil {
		return nil, c.internal("relay: ack drops", err)
	}
	c.afterReply = c.pushDrops
	return wire.Empty{}, nil
}

// pushDrops pushes the oldest batch of drop notices waiting for this
// connection's user, if any. It runs at login, after each acknowledgement
// of notices (so one batch is out at a time), and when the relay drops
// something of an online sender's.
func (c *conn) pushDrops() {
	s := c.srv
	c.mu.Lock()
	user, ending := c.user, c.ending
	c.mu.Unlock()
	if user == "" || ending {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	drops, err := s.store.RelayDrops(ctx, user, dropBatch)
	if err != nil {
		c.logger().Warn("load relay drop notices", "user", user, "err", err)
		return
	}
	if len(drops) == 0 {
		return
	}
	ev := wire.RelayDroppedEvent{Drops: make([]wire.RelayDrop, 0, len(drops))}
	for _, d := range drops {
		ev.Drops = append(ev.Drops, wire.RelayDrop{To: d.Recipient, ID: d.ID, Reason: d.Reason, At: d.At})
	}
	c.push(wire.EvRelayDropped, ev)
}

// kickRelay makes sure a delivery pass runs for this connection. Passes
// never overlap: a kick during a pass makes it go round once more.
func (c *conn) kickRelay() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.user == "" || c.ending {
		return
	}
	if c.relay.running {
		c.relay.again = true
		return
	}
	c.relay.running = true
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			c.deliverRelay()
			c.mu.Lock()
			if !c.relay.again || c.ending || c.user == "" {
				c.relay.running = false
				c.mu.Unlock()
				return
			}
			c.relay.again = false
			c.mu.Unlock()
		}
	}()
}

// deliverRelay pushes stored envelopes past the cursor while the window
// has room.
func (c *conn) deliverRelay() {
	s := c.srv
	for {
		c.mu.Lock()
		user, cursor, room := c.user, c.relay.cursor, relayWindow-len(c.relay.inflight)
		c.mu.Unlock()
		if user == "" || room <= 0 {
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
		msgs, err := s.store.PendingRelay(ctx, user, cursor, min(room, relayBatch))
		cancel()
		if err != nil {
			c.logger().Warn("load relayed messages", "user", user, "err", err)
			return
		}
		if len(msgs) == 0 {
			return
		}
		c.mu.Lock()
		if c.user != user || c.ending {
			c.mu.Unlock()
			return
		}
		for _, m := range msgs {
			c.relay.inflight[relayKey{m.Sender, m.ID}] = struct{}{}
			c.relay.cursor = m.Seq
		}
		c.mu.Unlock()
		c.pushRelay(msgs)
	}
}

// pushRelay pushes msgs in as few relay events as fit the frame limit:
// an event carries envelopes of at most half the frame limit together
// (base64 makes them a third larger), and always at least one (no
// envelope is over half the limit).
func (c *conn) pushRelay(msgs []store.RelayMessage) {
	budget := c.srv.cfg.MaxFrame / 2
	for len(msgs) > 0 {
		ev := wire.RelayBatchEvent{Envelopes: make([]wire.RelayEvent, 0, len(msgs))}
		size := 0
		for len(msgs) > 0 && len(ev.Envelopes) < wire.MaxRelayBatch {
			m := msgs[0]
			if len(ev.Envelopes) > 0 && size+len(m.Envelope) > budget {
				break
			}
			size += len(m.Envelope)
			ev.Envelopes = append(ev.Envelopes, wire.RelayEvent{ID: m.ID, From: m.Sender, Envelope: m.Envelope, At: m.Created})
			msgs = msgs[1:]
		}
		c.push(wire.EvRelay, ev)
	}
}
