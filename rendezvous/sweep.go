package rendezvous

import (
	"context"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// Sweeper periods.
const (
	disabledPoll    = time.Second
	expirySweep     = time.Minute
	disabledOverlap = 2 * time.Second
)

// startSweepers runs the background jobs: relay and session expiry, login
// back-off pruning, and closing sessions of accounts the operator disabled
// (the admin command writes the store directly, so the server polls).
func (s *Server) startSweepers() {
	if s.cluster != nil {
		s.runCluster()
	}
	s.sweepWG.Add(2)
	go func() {
		defer s.sweepWG.Done()
		// A short retention (tests, demos) is swept more often, so that
		// nothing outlives it by much.
		s.every(min(expirySweep, max(s.cfg.RelayRetention/4, time.Second)), s.expire)
	}()
	go func() {
		defer s.sweepWG.Done()
		since := s.cfg.Now()
		s.every(disabledPoll, func(ctx context.Context) {
			now := s.cfg.Now()
			// A failed poll leaves since where it was, so the next one
			// covers this window too.
			if s.closeDisabled(ctx, since.Add(-disabledOverlap)) {
				since = now
			}
		})
	}()
}

// every runs fn now and then every period until the server stops.
func (s *Server) every(period time.Duration, fn func(context.Context)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(s.ctx, period)
		fn(ctx)
		cancel()
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) expire(ctx context.Context) {
	now := s.cfg.Now()
	if n, senders, err := s.store.ExpireRelay(ctx, now.Add(-s.cfg.RelayRetention), now.UTC()); err != nil {
		s.log.Warn("expire relayed messages", "err", err)
	} else if n > 0 {
		s.cfg.Metrics.RelayExpired(n)
		s.log.Info("expired relayed messages; their senders are told", "count", n, "senders", len(senders))
		for _, u := range senders {
			s.pushDropsOf(u)
		}
	}
	if _, err := s.store.DeleteExpiredSessions(ctx, now); err != nil {
		s.log.Warn("expire sessions", "err", err)
	}
	s.guard.prune()
	s.registers.prune()
}

// closeDisabled signs out the sessions of accounts disabled since then,
// and reports whether it could look.
func (s *Server) closeDisabled(ctx context.Context, since time.Time) bool {
	users, err := s.store.DisabledSince(ctx, since)
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Warn("poll disabled accounts; the next poll covers this window again", "err", err)
		}
		return false
	}
	for _, u := range users {
		if c := s.hub.conn(u); c != nil {
			s.log.Info("closing session of disabled account", "user", u)
			c.signOut(wire.SignedOutDisabled)
		}
	}
	return true
}
