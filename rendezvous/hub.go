package rendezvous

import (
	"sync"
)

// hub maps each online user to their one connection. A newer session of
// the same account replaces (and signs out) the older one.
type hub struct {
	mu     sync.Mutex
	online map[string]*conn
	// forward, if set, takes pushes for users not connected here (to the
	// node they are connected to); targeted marks a push for one user
	// (see pushTo), not one of many.
	forward func(user, op string, body any, targeted bool)
}

func newHub() *hub {
	return &hub{online: make(map[string]*conn)}
}

// attach makes c the user's connection and returns the one it replaced,
// if any.
func (h *hub) attach(user string, c *conn) (old *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old = h.online[user]
	h.online[user] = c
	if old == c {
		return nil
	}
	return old
}

// detach removes c if it is still the user's connection; it reports
// whether it was.
func (h *hub) detach(user string, c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.online[user] != c {
		return false
	}
	delete(h.online, user)
	return true
}

// conn returns the user's connection, or nil when offline.
func (h *hub) conn(user string) *conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.online[user]
}

// count returns the number of online users.
func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.online)
}

// push sends an event to user if online.
func (h *hub) push(user, op string, body any) {
	if c := h.conn(user); c != nil {
		c.push(op, body)
	} else if h.forward != nil {
		h.forward(user, op, body, false)
	}
}

// pushTo sends an event meant for this one user (a friend request, an
// invitation): with several nodes it goes out even when this node has not
// heard yet that the user signed in elsewhere a moment ago. push, used
// for the many recipients of one change, forwards only to users known to
// be connected elsewhere.
func (h *hub) pushTo(user, op string, body any) {
	if c := h.conn(user); c != nil {
		c.push(op, body)
	} else if h.forward != nil {
		h.forward(user, op, body, true)
	}
}
