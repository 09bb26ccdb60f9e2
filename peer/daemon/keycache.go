package daemon

import (
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// Key cache tuning. A cached prekey is used while it has at least
// keyCacheMargin of life left and was fetched less than keyCacheTTL ago;
// a key.changed event drops it at once.
const (
	keyCacheTTL    = 10 * time.Minute
	keyCacheMargin = time.Minute
	keyCacheMax    = 4096
)

// keyCache remembers what the server's directory said of each contact, so
// relaying a burst of messages costs one directory lookup, not one each.
type keyCache struct {
	mu sync.Mutex
	m  map[string]cachedKeys
}

type cachedKeys struct {
	kr      wire.KeysResponse
	fetched time.Time
}

// get returns user's cached keys if they are still good at now.
func (c *keyCache) get(user string, now time.Time) (wire.KeysResponse, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[user]
	if !ok || now.Sub(e.fetched) > keyCacheTTL || time.Unix(e.kr.Prekey.Expires, 0).Sub(now) < keyCacheMargin {
		return wire.KeysResponse{}, false
	}
	return e.kr, true
}

func (c *keyCache) put(user string, kr wire.KeysResponse, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= keyCacheMax {
		c.m = make(map[string]cachedKeys)
	}
	c.m[user] = cachedKeys{kr: kr, fetched: now}
}

func (c *keyCache) drop(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, user)
}
