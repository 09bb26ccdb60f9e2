package daemon

import (
	"fmt"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/daemon/roster"
)

// maxRoomBuckets bounds the (room, sender) pairs a roomBudget keeps.
const maxRoomBuckets = 4096

// roomBudget holds the room messages that reach this daemon directly to
// the room's per-minute rate per member, as room.post holds the sender
// to it on the server: a daemon that skips room.post cannot flood the
// members it reaches on the LAN. A copy over the budget is refused
// (rate_limited); the sender's outbox then hands it to the relay, whose
// quotas bound it, so an honest sender loses nothing. Each (room,
// sender) pair is a token bucket of the room's rate, refilled at that
// rate a minute, as the server's is.
type roomBudget struct {
	mu      sync.Mutex
	buckets map[roomSender]*roomBucket
}

type roomSender struct{ room, from string }

type roomBucket struct {
	tokens float64
	at     time.Time
}

// take charges one message from from to group gid at now, if gid is a
// room with a known rate in r; it returns the refusal if the sender's
// budget there is spent.
func (b *roomBudget) take(r *roster.Roster, gid, from string, now time.Time) *wire.Error {
	if gid == "" {
		return nil
	}
	g, ok := r.GroupByID(gid)
	if !ok || !g.Room || g.Rate <= 0 {
		return nil
	}
	rate := float64(g.Rate)
	b.mu.Lock()
	defer b.mu.Unlock()
	key := roomSender{gid, from}
	bk := b.buckets[key]
	if bk == nil {
		if b.buckets == nil || len(b.buckets) >= maxRoomBuckets {
			b.prune(now)
		}
		bk = &roomBucket{tokens: rate, at: now}
		b.buckets[key] = bk
	}
	if d := now.Sub(bk.at); d > 0 {
		bk.tokens = min(rate, bk.tokens+rate*d.Minutes())
		bk.at = now
	}
	if bk.tokens < 1 {
		wait := time.Duration((1 - bk.tokens) / rate * float64(time.Minute))
		return &wire.Error{Code: wire.CodeRateLimited, RetryAfterMS: max(wait.Milliseconds(), 1),
			Message: fmt.Sprintf("at most %d messages a minute to #%s from one member", g.Rate, g.Name)}
	}
	bk.tokens--
	return nil
}

// prune forgets the buckets that are full again (a fresh one is the
// same), and every one if that is not enough.
func (b *roomBudget) prune(now time.Time) {
	for k, bk := range b.buckets {
		if now.Sub(bk.at) >= time.Minute {
			delete(b.buckets, k)
		}
	}
	if b.buckets == nil || len(b.buckets) >= maxRoomBuckets {
		b.buckets = make(map[roomSender]*roomBucket)
	}
}
