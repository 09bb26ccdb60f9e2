package discovery

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// EventKind says what happened to a peer.
type EventKind int

// The kinds of Event.
const (
	// Appeared: a peer was heard for the first time (or again after it
	// was Gone).
	Appeared EventKind = iota + 1
	// Changed: a known peer's addresses changed.
	Changed
	// Gone: a peer was not heard for TTL; Peer holds its last addresses.
	Gone
)

// String returns "appeared", "changed" or "gone".
func (k EventKind) String() string {
	switch k {
	case Appeared:
		return "appeared"
	case Changed:
		return "changed"
	case Gone:
		return "gone"
	}
	return "unknown"
}

// Event is a change in the set of peers a Browser hears.
type Event struct {
	// Kind says what changed.
	Kind EventKind
	// Peer is the peer as it is now, or as it last was when Gone.
	Peer Peer
}

// table is the Browser's bookkeeping, with no network and no clock of its
// own: each address of each peer with the time it was last heard.
type table struct {
	self     string
	ttl      time.Duration
	maxPeers int
	maxAddrs int
	peers    map[string]*record
}

type record struct {
	version int
	seen    map[netip.AddrPort]time.Time
}

func newTable(self string, ttl time.Duration, maxPeers, maxAddrs int) *table {
	return &table{self: self, ttl: ttl, maxPeers: maxPeers, maxAddrs: maxAddrs, peers: make(map[string]*record)}
}

// update records the peers heard in one round ending at now, forgets the
// addresses (and the peers) not heard for longer than ttl, and returns
// the changes, sorted by instance. It also returns how many new peers
// were turned away because the table is full.
func (t *table) update(now time.Time, heard []Peer) (events []Event, refused int) {
	before := make(map[string]Peer, len(t.peers))
	for id := range t.peers {
		before[id] = t.view(id)
	}
	for _, p := range heard {
		if p.Instance == t.self || len(p.Addrs) == 0 {
			continue
		}
		r := t.peers[p.Instance]
		if r == nil {
			if len(t.peers) >= t.maxPeers {
				refused++
				continue
			}
			r = &record{seen: make(map[netip.AddrPort]time.Time)}
			t.peers[p.Instance] = r
		}
		r.version = p.Version
		for _, a := range p.Addrs {
			r.seen[a] = now
		}
		r.trim(t.maxAddrs)
	}
	for id, r := range t.peers {
		for a, seen := range r.seen {
			if now.Sub(seen) > t.ttl {
				delete(r.seen, a)
			}
		}
		if len(r.seen) == 0 {
			delete(t.peers, id)
		}
	}
	for id, old := range before {
		if _, ok := t.peers[id]; !ok {
			events = append(events, Event{Kind: Gone, Peer: old})
		}
	}
	for id := range t.peers {
		cur := t.view(id)
		old, ok := before[id]
		switch {
		case !ok:
			events = append(events, Event{Kind: Appeared, Peer: cur})
		case old.Version != cur.Version || !slices.Equal(old.Addrs, cur.Addrs):
			events = append(events, Event{Kind: Changed, Peer: cur})
		}
	}
	slices.SortFunc(events, func(x, y Event) int { return cmp.Compare(x.Peer.Instance, y.Peer.Instance) })
	return events, refused
}

// trim keeps the limit most recently heard addresses.
func (r *record) trim(limit int) {
	if len(r.seen) <= limit {
		return
	}
	addrs := make([]netip.AddrPort, 0, len(r.seen))
	for a := range r.seen {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, func(x, y netip.AddrPort) int {
		if c := r.seen[y].Compare(r.seen[x]); c != 0 {
			return c
		}
		return x.Compare(y)
	})
	for _, a := range addrs[limit:] {
		delete(r.seen, a)
	}
}

// view returns peer id as callers see it.
func (t *table) view(id string) Peer {
	r := t.peers[id]
	p := Peer{Instance: id, Version: r.version, Addrs: make([]netip.AddrPort, 0, len(r.seen))}
	for a := range r.seen {
		p.Addrs = append(p.Addrs, a)
	}
	sortAddrs(p.Addrs)
	return p
}

// snapshot returns every peer, sorted by instance.
func (t *table) snapshot() []Peer {
	out := make([]Peer, 0, len(t.peers))
	for id := range t.peers {
		out = append(out, t.view(id))
	}
	slices.SortFunc(out, func(x, y Peer) int { return cmp.Compare(x.Instance, y.Instance) })
	return out
}
