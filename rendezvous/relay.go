package rendezvous

import (
	"context"
	"errors"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// Relay delivery window: at most relayWindow envelopes pushed and not yet
// acknowledged per connection, fetched relayBatch at a time. This keeps a
// backlog from flooding the send queue of a slow client.
const (
	relayWindow = 128
	relayBatch  = 32
)

// relayState is a connection's delivery progress, guarded by conn.mu.
type relayState struct {
	cursor   int64               // highest seq pushed on this connection
	inflight map[string]struct{} // pushed, not yet acknowledged
	running  bool                // a delivery goroutine is active
	again    bool                // more work arrived while it ran
}

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
	if len(req.IDs) == 0 || len(req.IDs) > wire.MaxAckIDs {
		return nil, wire.Invalid("ids", "must list 1 to %d ids", wire.MaxAckIDs)
	}
	for _, id := range req.IDs {
		if werr := wire.CheckMessageID("ids", id); werr != nil {
			return nil, werr
		}
	}
	n, err := s.store.AckRelay(ctx, me, req.IDs)
	if err != nil {
		return nil, c.internal("relay: ack", err)
	}
	s.cfg.Metrics.RelayDelivered(n)
	c.mu.Lock()
	for _, id := range req.IDs {
		delete(c.relay.inflight, id)
	}
	c.mu.Unlock()
	c.afterReply = c.kickRelay
	return wire.Empty{}, nil
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
			c.relay.inflight[m.ID] = struct{}{}
			c.relay.cursor = m.Seq
		}
		c.mu.Unlock()
		for _, m := range msgs {
			c.push(wire.EvRelay, wire.RelayEvent{ID: m.ID, From: m.Sender, Envelope: m.Envelope, At: m.Created})
		}
	}
}
