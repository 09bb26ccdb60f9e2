package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

const (
	burstRounds  = 3    // quick queries at start, a second apart at most
	maxQuestions = 16   // per query
	maxRecords   = 4096 // records a watcher keeps
	// tick is how often a watcher forgets expired records and reports.
	tick = 250 * time.Millisecond
)

// watcher keeps the records of one service type on our links: it
// queries (a burst at start, then every interval plus jitter), listens
// to every response on port 5353, whoever asked, and calls changed
// after each tick. Its run goroutine is its only writer; stop it by
// cancelling run's context.
type watcher struct {
	service          string
	iface            string
	interval, jitter time.Duration
	log              *slog.Logger
	changed          func(now time.Time, found []found)

	// mu guards what follows: run and the endpoint's readers share it.
	mu      sync.Mutex
	ep      *endpoint
	cache   *cache
	blocked error
	warned  bool
}

func newWatcher(service, iface string, interval, jitter, maxAge time.Duration, log *slog.Logger, changed func(time.Time, []found)) *watcher {
	return &watcher{service: service, iface: iface, interval: interval, jitter: jitter, log: log,
		changed: changed, cache: newCache(service, maxAge, maxRecords)}
}

// run queries and reports until ctx ends, then closes the sockets.
func (w *watcher) run(ctx context.Context) {
	defer func() {
		w.mu.Lock()
		ep := w.ep
		w.ep = nil
		w.mu.Unlock()
		if ep != nil {
			ep.close()
		}
	}()
	ticker := time.NewTicker(min(tick, w.interval))
	defer ticker.Stop()
	next := time.Now()
	for round := 1; ; {
		now := time.Now()
		if !now.Before(next) {
			err := w.query(now)
			w.mu.Lock()
			w.blocked = err
			warn := err != nil && !w.warned
			w.warned = w.warned || warn
			w.mu.Unlock()
			switch {
			case warn:
				w.log.Warn("LAN discovery is not working; contacts will be reached through the endpoints the server reports", "err", err)
			case err != nil:
				w.log.Debug("mdns query failed", "err", err)
			}
			next = now.Add(w.wait(round))
			round++
		}
		w.mu.Lock()
		w.cache.expire(now)
		found := w.cache.instances()
		if w.cache.refused > 0 {
			w.log.Debug("mdns cache full", "max", maxRecords, "refused", w.cache.refused)
			w.cache.refused = 0
		}
		w.mu.Unlock()
		w.changed(now, found)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// wait returns the pause after round: short during the first burst, then
// interval plus jitter so that daemons started together drift apart.
func (w *watcher) wait(round int) time.Duration {
	if round < burstRounds {
		return min(time.Second, w.interval)
	}
	d := w.interval
	if w.jitter > 0 {
		d += rand.N(w.jitter)
	}
	return d
}

// query follows the links (opening the sockets if need be) and sends a
// query on each. The error wraps ErrNoMulticast when none went out.
func (w *watcher) query(now time.Time) error {
	ls, err := links(w.iface)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	if w.ep == nil {
		ep, err := listen(ls, w.handle)
		if err != nil {
			return err
		}
		w.ep = ep
	} else if err := w.ep.join(ls); err != nil {
		errs = append(errs, err)
	}
	sent := 0
	for _, l := range w.ep.joined() {
		if err := w.ep.multicast(l, w.cache.query(l, now, maxQuestions)); err != nil {
			errs = append(errs, err)
			continue
		}
		sent++
	}
	if sent == 0 {
		return fmt.Errorf("%w: %w", ErrNoMulticast, errors.Join(append(errs, errors.New("no query sent"))...))
	}
	return nil
}

// handle takes the records of a response heard on one of our links.
func (w *watcher) handle(p packet) {
	if !p.msg.Response || p.src.Port() != mdnsPort {
		return // section 6: responses come from port 5353
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cache.add(p, time.Now())
}

// err returns why the last query could not go out, or nil.
func (w *watcher) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.blocked
}
