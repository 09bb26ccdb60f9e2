package daemon

import (
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
)

// Key cache tuning. A cached prekey is used while it has at least
// keyCacheMargin of life left.
const (
	keyCacheMargin = time.Minute
	keyCacheMax    = 4096
)

// keyCache keeps, for each contact, the prekey the relay seals to, as
// checked against the contact's pinned identity key when it was cached:
// while it holds, sealing a copy costs no directory lookup and no read
// of the store. It holds until the server says the contact's keys
// changed (key.changed, which carries the new ones), a pin changes here
// (a key change, a trust, a key pinned for two contacts), the prekey
// nears its expiry, or the server link comes back (clear: pushes may
// have been missed while it was away).
type keyCache struct {
	mu sync.Mutex
	m  map[string]keys.SignedPrekey
	// gen counts drops and clears, so that what was read before one is
	// not cached after it (put).
	gen uint64
}

// get returns user's cached prekey if it is still good at now.
func (c *keyCache) get(user string, now time.Time) (keys.SignedPrekey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pk, ok := c.m[user]
	if !ok || time.Unix(pk.Expires, 0).Sub(now) < keyCacheMargin {
		return keys.SignedPrekey{}, false
	}
	return pk, true
}

// generation is the count of drops so far, for put.
func (c *keyCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put caches user's checked prekey, unless something was dropped since
// generation returned gen.
func (c *keyCache) put(user string, pk keys.SignedPrekey, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil {
		c.m = make(map[string]keys.SignedPrekey)
	}
	if _, ok := c.m[user]; !ok && len(c.m) >= keyCacheMax {
		for other := range c.m { // full: one goes, whichever
			delete(c.m, other)
			break
		}
	}
	c.m[user] = pk
}

func (c *keyCache) drop(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, user)
	c.gen++
}

// clear forgets every cached prekey.
func (c *keyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
	c.gen++
}
