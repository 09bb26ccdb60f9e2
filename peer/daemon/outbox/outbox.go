// Package outbox keeps the daemon's outgoing messages moving: each copy
// (message, recipient) stored in history leaves in order behind the
// copies before it for the same recipient, directly when the recipient's
// daemon can be reached, else sealed through the server's relay, and a
// copy that finds no path waits with a growing back-off.
//
// The outbox owns its flush loop and its per-recipient order; it knows
// the two paths only as the Path interface its owner gives it, so its
// tests drive it with fakes of both.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// Tuning.
const (
	// flushBatch is how many copies for one recipient one round sends.
	flushBatch = 64
	// RetryMin and RetryMax bound the back-off between tries of a copy
	// that found no path.
	RetryMin = 5 * time.Second
	RetryMax = 5 * time.Minute
	// maxCount bounds Count's look at each recipient's queue.
	maxCount = 10000
)

// ErrNoPath means a copy could not leave now: no direct connection and no
// relay (the server is away or refused it for a reason that may pass).
var ErrNoPath = errors.New("no path to the recipient now")

// ErrRefused marks a copy the other side of a working path refused (a
// RunPath's error): the copies behind it may still go that way.
var ErrRefused = errors.New("refused by the recipient")

// Store is what the outbox keeps its copies in (a *history.Store).
type Store interface {
	PendingRecipients(ctx context.Context) ([]string, error)
	Pending(ctx context.Context, to string, limit int) ([]history.OutboxItem, error)
	Attempted(ctx context.Context, id, to string, next time.Time) error
	Done(ctx context.Context, id, to string, via history.Via) error
	Held(ctx context.Context, user string) (bool, error)
	Message(ctx context.Context, sender, id string) (history.Message, error)
}

// Path sends one copy of a message to its recipient and returns once the
// other side (the recipient's daemon, or the server's relay) has
// committed it.
type Path interface {
	Deliver(ctx context.Context, to string, m history.Message) error
}

// Config is what an outbox works with.
type Config struct {
	Store Store
	// Direct is tried first; Relay when Direct fails.
	Direct, Relay Path
	// Sent is told of each copy that left, so local clients can be.
	Sent func(ctx context.Context, id string)
	// Interval spaces the flush rounds when nothing kicks the loop.
	Interval time.Duration
	Logger   *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Outbox delivers the copies stored in history.
type Outbox struct {
	cfg  Config
	kick chan struct{}
	// force makes the next round ignore the copies' back-off: a path
	// just opened.
	force atomic.Bool
	// locks keep one recipient's copies going out in order.
	locks userLocks
	// submitMu keeps to one the submits that hold many recipients'
	// locks at once (submitMany).
	submitMu sync.Mutex
}

// New makes an outbox; Run moves it.
func New(cfg Config) *Outbox {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sent == nil {
		cfg.Sent = func(context.Context, string) {}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = RetryMin
	}
	return &Outbox{cfg: cfg, kick: make(chan struct{}, 1)}
}

// Run flushes the outbox whenever a path may have opened (Kick,
// PathOpened) and every Interval, until ctx ends.
func (o *Outbox) Run(ctx context.Context) {
	t := time.NewTicker(o.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.kick:
		case <-t.C:
		}
		o.FlushAll(ctx)
	}
}

// Kick asks for a round soon.
func (o *Outbox) Kick() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// PathOpened asks for a round that tries every copy at once, back-off or
// not: a contact came online, a direct connection opened, or the server
// link came back.
func (o *Outbox) PathOpened() {
	o.force.Store(true)
	o.Kick()
}

// FlushAll runs one round over every recipient with copies waiting.
func (o *Outbox) FlushAll(ctx context.Context) {
	force := o.force.Swap(false)
	users, err := o.cfg.Store.PendingRecipients(ctx)
	if err != nil {
		o.cfg.Logger.Warn("list outbox", "err", err)
		return
	}
	for _, u := range users {
		if ctx.Err() != nil {
			return
		}
		o.Flush(ctx, u, force)
	}
}

// Submit tries the copies of the stored message id now, each behind what
// already waits for its recipient (a group's relayed copies together in
// few requests when the relay takes batches: submitMany), and returns
// how each went (recipient → api.Via…). me is the message's sender.
func (o *Outbox) Submit(ctx context.Context, me, id string, to []string) map[string]string {
	if bp, ok := o.cfg.Relay.(BatchPath); ok && len(to) > 1 {
		if gs, ok := o.cfg.Store.(GroupStore); ok {
			return o.submitMany(ctx, bp, gs, me, id, to)
		}
	}
	out := make(map[string]string, len(to))
	for _, u := range to {
		via := o.Flush(ctx, u, true)[id]
		if via != "" {
			out[u] = via
			continue
		}
		// Not sent by this flush: u is held (nothing goes to them), or a
		// concurrent flush (another Submit to u, or the loop) took the
		// copy out first.
		if held, err := o.cfg.Store.Held(ctx, u); err == nil && held {
			out[u] = api.ViaHeld
			continue
		}
		out[u] = o.settled(ctx, me, id)
	}
	return out
}

// Summary is how a message went as a whole, from how each copy went: the
// one way all went, else api.ViaPartial (api.ViaQueued with no copy).
func Summary(copies map[string]string) string {
	via := ""
	for _, v := range copies {
		switch {
		case via == "":
			via = v
		case via != v:
			via = api.ViaPartial
		}
	}
	if via == "" {
		via = api.ViaQueued
	}
	return via
}

// Flush sends user's copies in order until one cannot go, and returns
// how each sent copy went (message id → api.Via…). With force it tries
// even a head copy whose retry time has not come. The copies go together
// where the paths take runs (RunPath, BatchPath): several in one
// exchange, in order, instead of one round trip each.
func (o *Outbox) Flush(ctx context.Context, user string, force bool) map[string]string {
	unlock := o.locks.Lock(user)
	defer unlock()
	out := make(map[string]string)
	items, err := o.cfg.Store.Pending(ctx, user, flushBatch)
	if errors.Is(err, history.ErrHeld) {
		return out
	}
	if err != nil {
		o.cfg.Logger.Warn("read outbox", "user", user, "err", err)
		return out
	}
	if len(items) > 0 && !force && items[0].NextAttempt.After(o.cfg.Now()) {
		return out // the head waits, and so does the rest, in order
	}
	for len(items) > 0 {
		n, err := o.directRun(ctx, user, items)
		o.settleRun(ctx, items[:n], history.ViaDirect, out)
		items = items[n:]
		if len(items) == 0 || err == nil {
			continue
		}
		// items[0] did not go directly: the relay takes it alone when
		// the other side refused it, else the rest with it.
		o.cfg.Logger.Debug("no direct delivery; trying the relay", "to", user, "err", err)
		k := len(items)
		if n > 0 || errors.Is(err, ErrRefused) {
			k = 1
		}
		errs := o.relayRun(ctx, items[:k])
		i := 0
		for i < k && errs[i] == nil {
			i++
		}
		o.settleRun(ctx, items[:i], history.ViaRelay, out)
		if i < k {
			o.retryLater(ctx, items[i], errs[i])
			for _, rest := range items[i:] {
				out[rest.Message.ID] = api.ViaQueued
			}
			// What the relay took after the copy it refused is sent:
			// marked so, it is not sent again.
			for j := i + 1; j < k; j++ {
				if errs[j] == nil {
					o.settleRun(ctx, items[j:j+1], history.ViaRelay, out)
				}
			}
			return out
		}
		items = items[k:]
	}
	return out
}

// RunPath is a Path that also takes several copies for one recipient in
// one exchange, in order (the direct path: one request carries a run).
// DeliverRun returns how many of ms (a prefix) the other side committed
// and, when the next one did not go, why: wrapping ErrRefused when the
// other side refused it; fewer than len(ms) with a nil error means the
// rest was not tried yet.
type RunPath interface {
	Path
	DeliverRun(ctx context.Context, to string, ms []history.Message) (n int, err error)
}

// directRun sends a prefix of items over the direct path: a run when it
// takes runs, else the head alone. It returns how many went, and why the
// next did not.
func (o *Outbox) directRun(ctx context.Context, user string, items []history.OutboxItem) (int, error) {
	if rp, ok := o.cfg.Direct.(RunPath); ok {
		msgs := make([]history.Message, len(items))
		for i, it := range items {
			msgs[i] = it.Message
		}
		n, err := rp.DeliverRun(ctx, user, msgs)
		if n < 0 || n > len(items) {
			return 0, fmt.Errorf("direct run: %d of %d sent", n, len(items))
		}
		if n == 0 && err == nil {
			err = ErrNoPath
		}
		return n, err
	}
	if err := o.cfg.Direct.Deliver(ctx, user, items[0].Message); err != nil {
		return 0, err
	}
	return 1, nil
}

// relayRun sends items through the relay, in order, together when it
// takes batches (BatchPath: one relay.send), and returns one outcome per
// copy. Without batches it stops at the first copy that does not go.
func (o *Outbox) relayRun(ctx context.Context, items []history.OutboxItem) []error {
	errs := make([]error, len(items))
	if bp, ok := o.cfg.Relay.(BatchPath); ok && len(items) > 1 {
		for start := 0; start < len(items); start += wire.MaxRelayBatch {
			part := items[start:min(len(items), start+wire.MaxRelayBatch)]
			copies := make([]Copy, len(part))
			for i, it := range part {
				copies[i] = Copy{To: it.To, Message: it.Message}
			}
			res := bp.DeliverBatch(ctx, copies)
			for i := range part {
				if i < len(res) {
					errs[start+i] = res[i]
				} else {
					errs[start+i] = ErrNoPath
				}
			}
		}
		return errs
	}
	for i, it := range items {
		if errs[i] = o.cfg.Relay.Deliver(ctx, it.To, it.Message); errs[i] != nil {
			for j := i + 1; j < len(items); j++ {
				errs[j] = ErrNoPath
			}
			break
		}
	}
	return errs
}

// settleRun marks items sent by via, together (the marks share one
// commit), and tells of each; a copy that cannot be marked is tried
// again later.
func (o *Outbox) settleRun(ctx context.Context, items []history.OutboxItem, via history.Via, out map[string]string) {
	errs := make([]error, len(items))
	if len(items) == 1 {
		errs[0] = o.cfg.Store.Done(ctx, items[0].Message.ID, items[0].To, via)
	} else {
		var wg sync.WaitGroup
		for i, it := range items {
			wg.Go(func() { errs[i] = o.cfg.Store.Done(ctx, it.Message.ID, it.To, via) })
		}
		wg.Wait()
	}
	for i, it := range items {
		if errs[i] != nil {
			o.retryLater(ctx, it, fmt.Errorf("mark sent: %w", errs[i]))
			out[it.Message.ID] = api.ViaQueued
			continue
		}
		out[it.Message.ID] = string(via)
		o.cfg.Sent(ctx, it.Message.ID)
	}
}

// Count is how many copies wait, in all.
func (o *Outbox) Count(ctx context.Context) int {
	users, err := o.cfg.Store.PendingRecipients(ctx)
	if err != nil {
		return 0
	}
	n := 0
	for _, u := range users {
		if items, err := o.cfg.Store.Pending(ctx, u, maxCount); err == nil {
			n += len(items)
		}
	}
	return n
}

// Backoff is how long a copy that failed attempts times waits.
func Backoff(attempts int) time.Duration {
	return min(RetryMin<<min(attempts, 10), RetryMax)
}

// retryLater records a failed try with a growing back-off.
func (o *Outbox) retryLater(ctx context.Context, it history.OutboxItem, why error) {
	if err := o.cfg.Store.Attempted(ctx, it.Message.ID, it.To, o.cfg.Now().Add(Backoff(it.Attempts))); err != nil {
		o.cfg.Logger.Warn("record send attempt", "err", err)
	}
	o.cfg.Logger.Debug("message waits in the outbox", "to", it.To, "id", it.Message.ID, "why", why)
}

// deliver sends one copy, directly if it can, else through the relay,
// and marks it done.
func (o *Outbox) deliver(ctx context.Context, it history.OutboxItem) (history.Via, error) {
	via := history.ViaDirect
	err := o.cfg.Direct.Deliver(ctx, it.To, it.Message)
	if err != nil {
		o.cfg.Logger.Debug("no direct delivery; trying the relay", "to", it.To, "err", err)
		via = history.ViaRelay
		if err := o.cfg.Relay.Deliver(ctx, it.To, it.Message); err != nil {
			return "", err
		}
	}
	if err := o.cfg.Store.Done(ctx, it.Message.ID, it.To, via); err != nil {
		return "", fmt.Errorf("mark sent: %w", err)
	}
	return via, nil
}
