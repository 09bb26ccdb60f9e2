package outbox

import (
	"context"
	"sync"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// submitWorkers bounds the recipients a group submit works on at once
// (reading their queues, trying their direct connections).
const submitWorkers = 16

// Copy is one copy of a message for one recipient.
type Copy struct {
	To      string
	Message history.Message
}

// BatchPath is a Path that can also take many recipients' copies at
// once (the relay: one relay.send request carries up to
// wire.MaxRelayBatch envelopes). DeliverBatch returns one error per
// copy, in order; nil means the other side committed that copy.
type BatchPath interface {
	Path
	DeliverBatch(ctx context.Context, copies []Copy) []error
}

// submitMany is Submit for a message to several recipients with a relay
// that takes batches: each recipient's earlier copies go first, in
// order, as Flush sends them; the message's own copy goes directly when
// it can, and the copies left are handed to the relay together, at most
// wire.MaxRelayBatch a call. Each recipient's lock is held from reading
// its queue until its copy is settled, so order holds against the flush
// loop; submitMu keeps two of these from waiting on each other's locks.
func (o *Outbox) submitMany(ctx context.Context, bp BatchPath, me, id string, to []string) map[string]string {
	o.submitMu.Lock()
	defer o.submitMu.Unlock()

	type held struct {
		it     history.OutboxItem
		unlock func()
	}
	var (
		mu    sync.Mutex
		out   = make(map[string]string, len(to))
		relay []held
		wg    sync.WaitGroup
		sem   = make(chan struct{}, submitWorkers)
	)
	set := func(u, via string) {
		mu.Lock()
		out[u] = via
		mu.Unlock()
	}
	seen := make(map[string]bool, len(to))
	for _, u := range to {
		if seen[u] {
			continue
		}
		seen[u] = true
		if h, err := o.cfg.Store.Held(ctx, u); err == nil && h {
			set(u, api.ViaHeld)
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			unlock := o.locks.Lock(u)
			it, via, ok := o.before(ctx, u, id)
			if !ok {
				unlock()
				if via == "" {
					via = o.settled(ctx, me, id)
				}
				set(u, via)
				return
			}
			if err := o.cfg.Direct.Deliver(ctx, u, it.Message); err == nil {
				set(u, o.settle(ctx, it, history.ViaDirect, nil))
				unlock()
				return
			}
			mu.Lock()
			relay = append(relay, held{it, unlock})
			mu.Unlock()
		}()
	}
	wg.Wait()
	// Local clients hear of the message's state once, when its copies
	// are settled, not once per copy: with a big group that is the cost.
	defer func() {
		for _, via := range out {
			if via == api.ViaDirect || via == api.ViaRelay {
				o.cfg.Sent(ctx, id)
				return
			}
		}
	}()

	for len(relay) > 0 {
		n := min(len(relay), wire.MaxRelayBatch)
		part := relay[:n]
		relay = relay[n:]
		copies := make([]Copy, n)
		for i, h := range part {
			copies[i] = Copy{To: h.it.To, Message: h.it.Message}
		}
		errs := bp.DeliverBatch(ctx, copies)
		for i, h := range part {
			var err error
			if i < len(errs) {
				err = errs[i]
			} else {
				err = ErrNoPath
			}
			out[h.it.To] = o.settle(ctx, h.it, history.ViaRelay, err)
			h.unlock()
		}
	}
	return out
}

// before sends, in order, what waits for u ahead of message id, and
// returns id's own copy once it is next. ok is false when id's copy is
// not to be sent now: an earlier copy could not go (via is queued), or
// id is not pending for u any more (via is "").
func (o *Outbox) before(ctx context.Context, u, id string) (it history.OutboxItem, via string, ok bool) {
	items, err := o.cfg.Store.Pending(ctx, u, flushBatch)
	if err != nil {
		o.cfg.Logger.Warn("read outbox", "user", u, "err", err)
		return it, api.ViaQueued, false
	}
	for _, x := range items {
		if x.Message.ID == id {
			return x, "", true
		}
		if _, err := o.deliver(ctx, x); err != nil {
			o.retryLater(ctx, x, err)
			return it, api.ViaQueued, false
		}
		o.cfg.Sent(ctx, x.Message.ID)
	}
	return it, "", false
}

// settle settles one copy that went by via (err nil) or did not: marks
// it sent, or records the try for a later one.
func (o *Outbox) settle(ctx context.Context, it history.OutboxItem, via history.Via, err error) string {
	if err == nil {
		err = o.cfg.Store.Done(ctx, it.Message.ID, it.To, via)
	}
	if err != nil {
		o.retryLater(ctx, it, err)
		return api.ViaQueued
	}
	return string(via)
}

// settled is how message id went when its copy was taken out of the
// queue by a concurrent flush.
func (o *Outbox) settled(ctx context.Context, me, id string) string {
	if m, err := o.cfg.Store.Message(ctx, me, id); err == nil && m.State != history.StateQueued && m.Via != "" {
		return string(m.Via)
	}
	return api.ViaQueued
}
