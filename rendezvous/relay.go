package rendezvous

import (
	"context"
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

func opRelaySend(ctx context.Context, c *conn, req *wire.RelaySendRequest) (any, *wire.Error) {
	s := c.srv
	me := c.authedUser()
	if werr := wire.CheckMessageID("id", req.ID); werr != nil {
		return nil, werr
	}
	if len(req.Envelope) == 0 || len(req.Envelope) > s.cfg.MaxEnvelope {
		return nil, wire.Invalid("envelope", "must be 1 to %d bytes", s.cfg.MaxEnvelope)
	}
	to, werr := c.lookupUser(ctx, "to", req.To)
	if werr != nil {
		return nil, werr
	}
	if to.Name == me {
		return nil, wire.Invalid("to", "you cannot relay to yourself")
	}
	if ok, err := s.related(ctx, me, to.Name); err != nil {
		return nil, c.internal("relay: check relation", err)
	} else if !ok {
		return nil, wire.Errorf(wire.CodeNotFriends, "%s is neither your friend nor in a group with you", to.Name)
	}
	m := store.RelayMessage{Recipient: to.Name, ID: req.ID, Sender: me, Envelope: req.Envelope, Created: s.utcNow()}
	inserted, err := s.store.PutRelay(ctx, m, s.cfg.RelayQuota)
	if errors.Is(err, store.ErrQuota) {
		return nil, wire.Errorf(wire.CodeQuotaExceeded, "%s has too many messages waiting; try again when they have been online", to.Name)
	} else if errors.Is(err, store.ErrSenderQuota) {
		return nil, wire.Errorf(wire.CodeQuotaExceeded, "you have as many messages waiting for %s as one sender may (%d, %d bytes); try again when they have been online",
			to.Name, s.cfg.RelayQuota.SenderCount, s.cfg.RelayQuota.SenderBytes)
	} else if err != nil {
		return nil, c.internal("relay: store", err)
	}
	// The store committed durably before we answer: an acknowledged
	// envelope survives a crash.
	if !inserted {
		return wire.RelaySendResponse{Status: "duplicate"}, nil
	}
	s.cfg.Metrics.RelayQueued()
	if rc := s.hub.conn(to.Name); rc != nil {
		c.afterReply = rc.kickRelay
	}
	return wire.RelaySendResponse{Status: "queued"}, nil
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
				if sc := s.hub.conn(u); sc != nil {
					sc.pushDrops()
				}
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
		c.log.Warn("load relay drop notices", "user", user, "err", err)
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
			c.log.Warn("load relayed messages", "user", user, "err", err)
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
		for _, m := range msgs {
			c.push(wire.EvRelay, wire.RelayEvent{ID: m.ID, From: m.Sender, Envelope: m.Envelope, At: m.Created})
		}
	}
}
