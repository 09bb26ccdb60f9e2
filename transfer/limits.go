package transfer

// What one peer may ask of a receiver, so that a friend (or a friend's
// compromised daemon) cannot fill the disk, the inode table or the
// user's list of offers: offers in flight at once, new offers and their
// entries per hour, and free space shared among the transfers running.
// docs/protocol.md, "Limits", and docs/architecture.md, "Peer limits".

import (
	"fmt"
	"sync"
	"time"
)

// Caps per peer (the sender's identity key). They are far above what a
// person sends; over one, the offer is refused with ErrLimit (abort code
// "limit") before anyone is asked about it.
const (
	// MaxOffersInFlight bounds a peer's offers waiting for an answer or
	// running at once. A sender runs at most this many transfers to one
	// peer at once.
	MaxOffersInFlight = 64
	// MaxOffersPerHour bounds the new offers (distinct transfer ids
	// without a checkpoint here) a peer makes in an hour.
	MaxOffersPerHour = 1000
	// MaxEntriesPerHour bounds the entries of those offers in an hour:
	// files, empty ones included, and folders, each an inode if accepted.
	MaxEntriesPerHour = 100_000
)

// offerWindow is how far back offers are counted.
const offerWindow = time.Hour

// offerLog counts each peer's new offers over the last offerWindow. It
// is bounded: at most MaxOffersPerHour marks per peer, and a peer whose
// marks have all aged out is forgotten.
type offerLog struct {
	mu    sync.Mutex
	peers map[string]*peerOffers // by peer key
}

// peerOffers is one peer's marks, oldest first, and their entries.
type peerOffers struct {
	marks   []offerMark
	entries int
}

type offerMark struct {
	at      time.Time
	id      string
	entries int
}

// admit counts a new offer of id with n entries from peer at now, or
// refuses it with ErrLimit if it would break a cap. An id counted within
// the window already (an offer made again after its sender went away)
// is not counted twice.
func (l *offerLog) admit(now time.Time, peer, id string, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.peers == nil {
		l.peers = make(map[string]*peerOffers)
	}
	// Forget what aged out, for every peer: the map stays as small as
	// the set of peers that offered within the window.
	for k, p := range l.peers {
		old := 0
		for old < len(p.marks) && now.Sub(p.marks[old].at) >= offerWindow {
			p.entries -= p.marks[old].entries
			old++
		}
		p.marks = p.marks[old:]
		if len(p.marks) == 0 {
			delete(l.peers, k)
		}
	}
	p := l.peers[peer]
	if p == nil {
		p = &peerOffers{}
		l.peers[peer] = p
	}
	for _, m := range p.marks {
		if m.id == id {
			return nil
		}
	}
	switch {
	case len(p.marks)+1 > MaxOffersPerHour:
		return fmt.Errorf("%w: %d new offers in the last hour, the most is %d; try again later", ErrLimit, len(p.marks), MaxOffersPerHour)
	case p.entries+n > MaxEntriesPerHour:
		return fmt.Errorf("%w: %d files and folders offered in the last hour, and %d more now; the most is %d an hour, try again later",
			ErrLimit, p.entries, n, MaxEntriesPerHour)
	}
	p.marks = append(p.marks, offerMark{at: now, id: id, entries: n})
	p.entries += n
	return nil
}

// inFlight counts peer's attempts (waiting for a decision or running);
// the caller holds r.mu.
func (r *Receiver) inFlight(peer string) int {
	n := 0
	for _, t := range r.sessions {
		if t.peer == peer {
			n++
		}
	}
	return n
}

// reserve checks that the destination's disk holds what t still needs,
// need bytes, beside what the other running transfers still owe, and
// reserves it: until t ends, other transfers count it as used.
func (r *Receiver) reserve(t *session, need int64) error {
	r.spaceMu.Lock()
	defer r.spaceMu.Unlock()
	free, ok := freeSpace(t.dir)
	if !ok {
		t.owed.Store(need)
		return nil
	}
	var owed int64
	r.mu.Lock()
	for _, o := range r.sessions {
		if o != t {
			owed += max(o.owed.Load()-o.received.Load(), 0)
		}
	}
	r.mu.Unlock()
	reserve := max(r.cfg.Reserve, 0)
	if need > free-reserve-owed {
		if owed > 0 {
			return fmt.Errorf("%w: need %d bytes in %s, %d free, %d of them owed to transfers running (keeping %d)",
				ErrNoSpace, need, t.dir, free, owed, reserve)
		}
		return fmt.Errorf("%w: need %d bytes in %s, %d free (keeping %d)", ErrNoSpace, need, t.dir, free, reserve)
	}
	t.owed.Store(need)
	return nil
}
