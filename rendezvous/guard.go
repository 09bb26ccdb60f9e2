package rendezvous

import (
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

type strike struct {
	fails int
	until time.Time // no attempt before this
	last  time.Time
}

// loginGuard counts failed logins per account and per source address.
type loginGuard struct {
	mu     sync.Mutex
	now    func() time.Time
	byUser map[string]*strike
	byAddr map[netip.Addr]*strike
}

func newLoginGuard(now func() time.Time) *loginGuard {
	return &loginGuard{now: now, byUser: make(map[string]*strike), byAddr: make(map[netip.Addr]*strike)}
}

// wait returns how long the caller must wait before trying to log in to
// user from addr; zero means go ahead.
func (g *loginGuard) wait(user string, addr netip.Addr) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	var w time.Duration
	if s := g.byUser[user]; s != nil && s.until.After(now) {
		w = s.until.Sub(now)
	}
	if s := g.byAddr[addr]; s != nil && s.until.After(now) {
		w = max(w, s.until.Sub(now))
	}
	return w
}

// failed records a failed attempt.
func (g *loginGuard) failed(user string, addr netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	bump(g.byUser, user, freeFailuresUser, now)
	bump(g.byAddr, addr, freeFailuresAddr, now)
}

// succeeded clears the account's failures. The address keeps its count,
// so logging in to one's own account does not reset a guessing spree.
func (g *loginGuard) succeeded(user string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.byUser, user)
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
	if n := s.fails - free + 1; n > 0 {
		d := time.Second << min(n-1, 20)
		s.until = now.Add(min(d, maxBackoff))
	}
}

func pruneStrikes[K comparable](m map[K]*strike, now time.Time) {
	for k, s := range m {
		if now.Sub(s.last) > strikeMemory && !s.until.After(now) {
			delete(m, k)
		}
	}
}
