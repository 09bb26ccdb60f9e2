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

// GroupStore is what a group submit needs of the store besides Store:
// the message's queued copies read together, and its copies marked sent
// together (a *history.Store).
type GroupStore interface {
	QueuedCopies(ctx context.Context, sender, id string) (history.Fanout, error)
	DoneMany(ctx context.Context, id string, to []string, via history.Via) error
}

// LivePath is a Path that can tell, without dialling, whether it has an
// open connection to a recipient (the direct path). A group submit tries
// it only for those: dialling hundreds of members who are not on the LAN
// would hold up their copies for nothing.
type LivePath interface {
	Path
	Live(to string) bool
}

// submitMany is Submit for a message to several recipients with a relay
// that takes batches and a store that reads and marks copies together.
// Each recipient's earlier copies go first, in order, as Flush sends
// them; the message's own copy goes directly to recipients with an open
// direct connection, and the rest are handed to the relay together, at
// most wire.MaxRelayBatch a call. Each recipient's lock is held from
// reading its queue until its copy is settled, so order holds against
// the flush loop; submitMu keeps two of these from waiting on each
// other's locks.
func (o *Outbox) submitMany(ctx context.Context, bp BatchPath, gs GroupStore, me, id string, to []string) map[string]string {
	o.submitMu.Lock()
	defer o.submitMu.Unlock()
	f := fanout{o: o, bp: bp, gs: gs, me: me, id: id, out: make(map[string]string, len(to)), unlock: make(map[string]func(), len(to))}
	defer f.unlockAll()

	// The recipients whose lock is free are read together; those a
	// flush holds now go one by one once it is done.
	var busy []string
	seen := make(map[string]bool, len(to))
	for _, u := range to {
		if seen[u] {
			continue
		}
		seen[u] = true
		if unlock, ok := o.locks.TryLock(u); ok {
			f.unlock[u] = unlock
		} else {
			busy = append(busy, u)
		}
	}
	fan, err := gs.QueuedCopies(ctx, me, id)
	if err != nil {
		o.cfg.Logger.Warn("read outbox", "id", id, "err", err)
		for _, u := range to {
			f.out[u] = api.ViaQueued
		}
		return f.out
	}
	// Local clients hear of the message's state once, when its copies
	// are settled, not once per copy: with a big group that is the cost.
	defer f.tellSent(ctx)

	var (
		relay, direct []history.OutboxItem
		one           []string // recipients who go one by one
	)
	live, _ := o.cfg.Direct.(LivePath)
	pending := make(map[string]bool, len(fan.Heads)+len(fan.Behind)+len(fan.Held))
	for _, u := range fan.Held {
		pending[u] = true
		f.out[u] = api.ViaHeld
		f.release(u)
	}
	for _, u := range fan.Behind {
		pending[u] = true
		if _, mine := f.unlock[u]; mine {
			one = append(one, u)
		}
	}
	for _, it := range fan.Heads {
		pending[it.To] = true
		switch _, mine := f.unlock[it.To]; {
		case !mine:
		case live != nil && !live.Live(it.To):
			relay = append(relay, it)
		default:
			direct = append(direct, it)
		}
	}
	for u := range f.unlock {
		if !pending[u] {
			// Not queued any more: a flush took it out before we
			// locked.
			f.out[u] = o.settled(ctx, me, id)
			f.release(u)
		}
	}
	for _, u := range busy {
		if _, held := f.out[u]; !held {
			one = append(one, u)
		}
	}

	// The relay's batch goes while the direct copies and the one-by-one
	// recipients are worked on; what of those still has to go through
	// the relay follows in a last batch.
	var (
		wg   sync.WaitGroup
		late []history.OutboxItem
	)
	wg.Go(func() { late = f.slow(ctx, direct, one) })
	f.relayAll(ctx, relay)
	wg.Wait()
	f.relayAll(ctx, late)
	return f.out
}

// fanout is one group submit's state.
type fanout struct {
	o      *Outbox
	bp     BatchPath
	gs     GroupStore
	me, id string

	mu     sync.Mutex
	out    map[string]string // recipient → api.Via…
	unlock map[string]func() // recipients whose lock is held
}

func (f *fanout) set(u, via string) {
	f.mu.Lock()
	f.out[u] = via
	f.mu.Unlock()
}

// hold records u's lock, taken after the submit began.
func (f *fanout) hold(u string, unlock func()) {
	f.mu.Lock()
	f.unlock[u] = unlock
	f.mu.Unlock()
}

// release unlocks u.
func (f *fanout) release(u string) {
	f.mu.Lock()
	unlock := f.unlock[u]
	delete(f.unlock, u)
	f.mu.Unlock()
	if unlock != nil {
		unlock()
	}
}

func (f *fanout) unlockAll() {
	f.mu.Lock()
	locks := f.unlock
	f.unlock = nil
	f.mu.Unlock()
	for _, unlock := range locks {
		unlock()
	}
}

// tellSent tells local clients once that the message went, if any copy
// did.
func (f *fanout) tellSent(ctx context.Context) {
	for _, via := range f.out {
		if via == api.ViaDirect || via == api.ViaRelay {
			f.o.cfg.Sent(ctx, f.id)
			return
		}
	}
}

// slow tries the direct copies, and sends each one-by-one recipient's
// earlier copies then tries its copy directly, submitWorkers at a time;
// it returns the copies that have to go through the relay, their
// recipients still locked.
func (f *fanout) slow(ctx context.Context, direct []history.OutboxItem, one []string) []history.OutboxItem {
	o := f.o
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		sem  = make(chan struct{}, submitWorkers)
		done []string
		late []history.OutboxItem
	)
	try := func(it history.OutboxItem) {
		if err := o.cfg.Direct.Deliver(ctx, it.To, it.Message); err != nil {
			o.cfg.Logger.Debug("no direct delivery; the copy goes through the relay", "to", it.To, "err", err)
			mu.Lock()
			late = append(late, it)
			mu.Unlock()
			return
		}
		mu.Lock()
		done = append(done, it.To)
		mu.Unlock()
	}
	for _, it := range direct {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			try(it)
		})
	}
	live, _ := o.cfg.Direct.(LivePath)
	for _, u := range one {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f.mu.Lock()
			_, mine := f.unlock[u]
			f.mu.Unlock()
			if !mine {
				f.hold(u, o.locks.Lock(u))
			}
			it, via, ok := o.before(ctx, u, f.id)
			if !ok {
				if via == "" {
					via = o.settled(ctx, f.me, f.id)
				}
				f.set(u, via)
				f.release(u)
				return
			}
			if live != nil && !live.Live(u) {
				mu.Lock()
				late = append(late, it)
				mu.Unlock()
				return
			}
			try(it)
		})
	}
	wg.Wait()
	f.settleMany(ctx, done, history.ViaDirect)
	return late
}

// relayAll hands items to the relay, wire.MaxRelayBatch a call, and
// settles them.
func (f *fanout) relayAll(ctx context.Context, items []history.OutboxItem) {
	for len(items) > 0 {
		n := min(len(items), wire.MaxRelayBatch)
		part := items[:n]
		items = items[n:]
		copies := make([]Copy, n)
		for i, it := range part {
			copies[i] = Copy{To: it.To, Message: it.Message}
		}
		errs := f.bp.DeliverBatch(ctx, copies)
		var ok []string
		failed := make(map[string]error)
		for i, it := range part {
			err := ErrNoPath
			if i < len(errs) {
				err = errs[i]
			}
			if err == nil {
				ok = append(ok, it.To)
			} else {
				failed[it.To] = err
			}
		}
		f.settleMany(ctx, ok, history.ViaRelay)
		for _, it := range part {
			if err, bad := failed[it.To]; bad {
				f.o.retryLater(ctx, it, err)
				f.set(it.To, api.ViaQueued)
				f.release(it.To)
			}
		}
	}
}

// settleMany marks the copies to recipients to sent by via, together,
// and unlocks them. If that fails they stay queued and go again (the
// recipient stores a message once).
func (f *fanout) settleMany(ctx context.Context, to []string, via history.Via) {
	if len(to) == 0 {
		return
	}
	if err := f.gs.DoneMany(ctx, f.id, to, via); err != nil {
		f.o.cfg.Logger.Warn("mark sent", "id", f.id, "err", err)
		for _, u := range to {
			f.set(u, api.ViaQueued)
			f.release(u)
		}
		return
	}
	for _, u := range to {
		f.set(u, string(via))
		f.release(u)
	}
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
