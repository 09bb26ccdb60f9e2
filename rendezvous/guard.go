package rendezvous

import (
	"context"
	"math"
	"net/netip"
	"sync"
	"time"
)

// Login back-off: after a few free failures, each further failure doubles
// the wait before the next attempt is even checked.
const (
	freeFailuresUser = 5
	freeFailuresAddr = 20
	maxBackoff       = 15 * time.Minute
	strikeMemory     = time.Hour // failures older than this are forgotten
	maxStrikes       = 100000    // bound on remembered keys per map
)

// addrKey is the unit that per-address limits count: an IPv4 address, or
// the /64 of an IPv6 address, since one host may hold a whole /64 and
// pick a fresh source address inside it for every attempt.
func addrKey(a netip.Addr) netip.Prefix {
	a = a.Unmap().WithZone("")
	bits := 64
	if a.Is4() {
		bits = 32
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{} // an invalid address: all such share one key
	}
	return p
}

type strike struct {
	fails int
	until time.Time // no attempt before this
	last  time.Time
}

// loginGuard counts password checks per account and per source address
// (see addrKey), and lets one check per account run at a time. An attempt
// is counted before its password is hashed and refunded if the password
// was right, so concurrent guesses cannot all pass the check before any of
// them is counted. mu guards every field.
type loginGuard struct {
	mu     sync.Mutex
	now    func() time.Time
	byUser map[string]*strike
	byAddr map[netip.Prefix]*strike
	busy   map[string]chan struct{} // accounts with a check running; closed when it ends
}

func newLoginGuard(now func() time.Time) *loginGuard {
	return &loginGuard{
		now:    now,
		byUser: make(map[string]*strike),
		byAddr: make(map[netip.Prefix]*strike),
		busy:   make(map[string]chan struct{}),
	}
}

// attempt is one password check admitted by begin. Its owner calls done
// exactly once.
type attempt struct {
	g       *loginGuard
	user    string
	addr    netip.Prefix
	before  strike // the address's count before this attempt
	release chan struct{}
}

// begin admits one password check of user from addr and counts it as a
// failure until done says otherwise. While another check of the same
// account runs it waits for that one to end (or ctx). A positive wait
// means the back-off applies: the caller must refuse and check nothing.
func (g *loginGuard) begin(ctx context.Context, user string, addr netip.Addr) (*attempt, time.Duration, error) {
	key := addrKey(addr)
	for {
		g.mu.Lock()
		now := g.now()
		if w := g.waitLocked(user, key, now); w > 0 {
			g.mu.Unlock()
			return nil, w, nil
		}
		if running := g.busy[user]; running != nil {
			g.mu.Unlock()
			select {
			case <-running:
				continue // look at the count again: that check may have failed
			case <-ctx.Done():
				return nil, 0, ctx.Err()
			}
		}
		a := &attempt{g: g, user: user, addr: key, release: make(chan struct{})}
		if s := g.byAddr[key]; s != nil {
			a.before = *s
		}
		g.busy[user] = a.release
		bump(g.byUser, user, freeFailuresUser, now)
		bump(g.byAddr, key, freeFailuresAddr, now)
		g.mu.Unlock()
		return a, 0, nil
	}
}

// done ends the check. If the password was right (ok), the account's
// failures are cleared and the address gets back this one attempt; its
// earlier failures stay, so logging in to one's own account does not
// reset a guessing spree.
func (a *attempt) done(ok bool) {
	g := a.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if ok {
		delete(g.byUser, a.user)
		refund(g.byAddr, a.addr, a.before)
	}
	delete(g.busy, a.user)
	close(a.release)
}

func (g *loginGuard) waitLocked(user string, key netip.Prefix, now time.Time) time.Duration {
	var w time.Duration
	if s := g.byUser[user]; s != nil && s.until.After(now) {
		w = s.until.Sub(now)
	}
	if s := g.byAddr[key]; s != nil && s.until.After(now) {
		w = max(w, s.until.Sub(now))
	}
	return w
}

// prune forgets old failures.
func (g *loginGuard) prune() {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	pruneStrikes(g.byUser, now)
	pruneStrikes(g.byAddr, now)
}

func bump[K comparable](m map[K]*strike, k K, free int, now time.Time) {
	s := m[k]
	if s == nil {
		if len(m) >= maxStrikes {
			pruneStrikes(m, now)
			if len(m) >= maxStrikes {
				// Still full under a flood: forget an arbitrary entry.
				for victim := range m {
					delete(m, victim)
					break
				}
			}
		}
		s = &strike{}
		m[k] = s
	}
	s.fails++
	s.last = now
	s.until = backoffUntil(s, free)
}

// refund takes back one counted failure. If nothing else was counted
// since, the count is as it was before; otherwise only the number drops,
// and the wait the others' failures set stays.
func refund[K comparable](m map[K]*strike, k K, before strike) {
	s := m[k]
	switch {
	case s == nil:
	case s.fails <= 1:
		delete(m, k)
	case s.fails == before.fails+1:
		*s = before
	default:
		s.fails--
	}
}

// backoffUntil is when a key with s.fails failures, the last at s.last,
// may try again.
func backoffUntil(s *strike, free int) time.Time {
	n := s.fails - free + 1
	if n <= 0 {
		return time.Time{}
	}
	d := time.Second << min(n-1, 20)
	return s.last.Add(min(d, maxBackoff))
}

func pruneStrikes[K comparable](m map[K]*strike, now time.Time) {
	for k, s := range m {
		if now.Sub(s.last) > strikeMemory && !s.until.After(now) {
			delete(m, k)
		}
	}
}

// registerLimit is a token bucket per source address (see addrKey) for
// register: each address may make perHour accounts an hour, all at once
// if it likes. mu guards buckets.
type registerLimit struct {
	mu      sync.Mutex
	now     func() time.Time
	perHour float64
	buckets map[netip.Prefix]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRegisterLimit(perHour int, now func() time.Time) *registerLimit {
	return &registerLimit{now: now, perHour: float64(perHour), buckets: make(map[netip.Prefix]*bucket)}
}

// take spends one registration of addr. A positive result is how long
// until the next one is allowed, and nothing was spent.
func (r *registerLimit) take(addr netip.Addr) time.Duration {
	key := addrKey(addr)
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	b := r.buckets[key]
	if b == nil {
		if len(r.buckets) >= maxStrikes {
			r.pruneLocked(now)
			if len(r.buckets) >= maxStrikes {
				for victim := range r.buckets {
					delete(r.buckets, victim)
					break
				}
			}
		}
		b = &bucket{tokens: r.perHour, at: now}
		r.buckets[key] = b
	}
	r.refill(b, now)
	if b.tokens < 1 {
		// Rounded up, so that waiting this long is enough.
		return time.Duration(math.Ceil((1-b.tokens)/r.perHour*float64(time.Hour))) + time.Nanosecond
	}
	b.tokens--
	return 0
}

func (r *registerLimit) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(r.perHour, b.tokens+el.Hours()*r.perHour)
	}
	b.at = now
}

// prune forgets addresses whose bucket is full again.
func (r *registerLimit) prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked(r.now())
}

func (r *registerLimit) pruneLocked(now time.Time) {
	for k, b := range r.buckets {
		if r.refill(b, now); b.tokens >= r.perHour {
			delete(r.buckets, k)
		}
	}
}
