package rendezvous

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// Bus carries events between rendezvous nodes that share one database
// (PostgreSQL's LISTEN/NOTIFY, see rendezvous/pgbus). A node publishes
// what a user connected elsewhere must hear; every node, the publisher
// included, receives every event.
type Bus interface {
	// Publish sends one event to every node.
	Publish(ctx context.Context, ev ClusterEvent) error
	// Listen passes every event to handle, one at a time, until ctx is
	// done; it reconnects on its own after a lost connection.
	Listen(ctx context.Context, node string, handle func(ClusterEvent)) error
	// LiveNodes lists the nodes whose Listen is connected now.
	LiveNodes(ctx context.Context) ([]string, error)
}

// Kinds of ClusterEvent.
const (
	// EvAttach: User signed in on Node; other nodes sign out their
	// connection of the same account (one session per account).
	EvAttach = "attach"
	// EvPresence: User's presence changed on Node (Body is wire.Presence).
	EvPresence = "presence"
	// EvPush: push Op with Body to User where they are connected.
	EvPush = "push"
	// EvRelay: something was stored in the relay for User.
	EvRelay = "relay"
	// EvDrops: the relay has new drop notices for User.
	EvDrops = "drops"
)

// ClusterEvent is one event between nodes.
type ClusterEvent struct {
	Node string          `json:"n"`
	Kind string          `json:"k"`
	User string          `json:"u"`
	Op   string          `json:"op,omitempty"`
	Body json.RawMessage `json:"b,omitempty"`
}

// nodeLiveness is how often a node checks which nodes are alive, to take
// the users of a dead node offline.
const nodeLiveness = 2 * time.Second

// remoteUser is a user connected to another node.
type remoteUser struct {
	node     string
	presence wire.Presence
}

// cluster is a node's view of the other nodes: the users connected there.
type cluster struct {
	bus  Bus
	node string // this node's random id

	mu     sync.Mutex
	remote map[string]remoteUser
	// missed counts the liveness checks in a row that did not find a
	// node of remote; at deadAfter it is taken for dead.
	missed map[string]int
}

// deadAfter is how many liveness checks in a row must miss a node before
// its users are taken offline: one miss may be its listening connection
// being re-established.
const deadAfter = 2

func newCluster(bus Bus) *cluster {
	if bus == nil {
		return nil
	}
	var b [8]byte
	rand.Read(b[:])
	return &cluster{bus: bus, node: hex.EncodeToString(b[:]),
		remote: make(map[string]remoteUser), missed: make(map[string]int)}
}

// remotePresence returns the presence of a user connected to another node.
func (cl *cluster) remotePresence(user string) (wire.Presence, bool) {
	if cl == nil {
		return wire.Presence{}, false
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	r, ok := cl.remote[user]
	return r.presence, ok
}

// forget drops what this node knew of user on other nodes: they are
// connected here now.
func (cl *cluster) forget(user string) {
	if cl == nil {
		return
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	delete(cl.remote, user)
}

// publish sends an event, logging a failure: the event is lost, as if
// the node had died, and what depends on it is recovered the way it is
// then (stored messages wait for the next delivery pass).
func (s *Server) publish(kind, user, op string, body any) {
	cl := s.cluster
	if cl == nil {
		return
	}
	ev := ClusterEvent{Node: cl.node, Kind: kind, User: user, Op: op}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.log.Warn("cluster: encode event", "kind", kind, "err", err)
			return
		}
		ev.Body = b
	}
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	if err := cl.bus.Publish(ctx, ev); err != nil && s.ctx.Err() == nil {
		s.log.Warn("cluster: publish event", "kind", kind, "user", user, "err", err)
	}
}

// forwardPush sends a push for a user who is not connected here to the
// node they are connected to: a targeted push always (the node that has
// them pushes it), one of a fan-out only if this node knows them to be
// connected elsewhere, so that a change seen by thousands of offline
// users does not cost thousands of notifications.
func (s *Server) forwardPush(user, op string, body any, targeted bool) {
	if _, ok := s.cluster.remotePresence(user); ok || targeted {
		s.publish(EvPush, user, op, body)
	}
}

// onlineAnywhere reports whether user is connected to this node or
// another.
func (s *Server) onlineAnywhere(user string) bool {
	if s.hub.conn(user) != nil {
		return true
	}
	_, ok := s.cluster.remotePresence(user)
	return ok
}

// kickRelayOf starts delivery to user wherever they are connected.
func (s *Server) kickRelayOf(user string) {
	if c := s.hub.conn(user); c != nil {
		c.kickRelay()
		return
	}
	s.publish(EvRelay, user, "", nil)
}

// pushDropsOf pushes drop notices to user wherever they are connected.
func (s *Server) pushDropsOf(user string) {
	if c := s.hub.conn(user); c != nil {
		c.pushDrops()
		return
	}
	s.publish(EvDrops, user, "", nil)
}

// runCluster receives the other nodes' events and watches which nodes
// are alive, until the server stops.
func (s *Server) runCluster() {
	cl := s.cluster
	s.sweepWG.Add(2)
	go func() {
		defer s.sweepWG.Done()
		if err := cl.bus.Listen(s.ctx, cl.node, s.handleClusterEvent); err != nil && s.ctx.Err() == nil {
			s.log.Error("cluster: listening for events stopped", "err", err)
		}
	}()
	go func() {
		defer s.sweepWG.Done()
		s.every(nodeLiveness, s.forgetDeadNodes)
	}()
}

// handleClusterEvent applies one event from the bus.
func (s *Server) handleClusterEvent(ev ClusterEvent) {
	cl := s.cluster
	if ev.Node == cl.node || ev.User == "" {
		return // our own; already done locally
	}
	switch ev.Kind {
	case EvAttach:
		cl.mu.Lock()
		cl.remote[ev.User] = remoteUser{node: ev.Node,
			presence: wire.Presence{Username: ev.User, Status: wire.StatusOnline}}
		cl.mu.Unlock()
		// The newer session elsewhere wins. Detached first, so this
		// connection's end does not announce the user offline.
		if c := s.hub.conn(ev.User); c != nil && s.hub.detach(ev.User, c) {
			s.cfg.Metrics.SessionsOnline(s.hub.count())
			c.signOut(wire.SignedOutElsewhere)
		}
	case EvPresence:
		var p wire.Presence
		if err := json.Unmarshal(ev.Body, &p); err != nil || p.Username != ev.User {
			s.log.Warn("cluster: malformed presence event", "node", ev.Node)
			return
		}
		cl.mu.Lock()
		if p.Status == wire.StatusOffline {
			if r, ok := cl.remote[ev.User]; ok && r.node == ev.Node {
				delete(cl.remote, ev.User)
			}
		} else {
			cl.remote[ev.User] = remoteUser{node: ev.Node, presence: p}
		}
		cl.mu.Unlock()
	case EvPush:
		if c := s.hub.conn(ev.User); c != nil {
			c.push(ev.Op, ev.Body)
		}
	case EvRelay:
		if c := s.hub.conn(ev.User); c != nil {
			c.kickRelay()
		}
	case EvDrops:
		if c := s.hub.conn(ev.User); c != nil {
			c.pushDrops()
		}
	}
}

// forgetDeadNodes takes the users of nodes that are gone (their database
// connection closed: crashed, killed, cut off) offline for this node's
// users; those users reconnect to a live node and come back online there.
func (s *Server) forgetDeadNodes(ctx context.Context) {
	cl := s.cluster
	live, err := cl.bus.LiveNodes(ctx)
	if err != nil {
		return
	}
	alive := make(map[string]bool, len(live))
	for _, n := range live {
		alive[n] = true
	}
	var gone []string
	cl.mu.Lock()
	missing := map[string]bool{}
	for _, r := range cl.remote {
		if !alive[r.node] {
			missing[r.node] = true
		}
	}
	for n := range cl.missed {
		if !missing[n] {
			delete(cl.missed, n)
		}
	}
	for n := range missing {
		cl.missed[n]++
	}
	for u, r := range cl.remote {
		if cl.missed[r.node] >= deadAfter {
			delete(cl.remote, u)
			gone = append(gone, u)
		}
	}
	cl.mu.Unlock()
	now := s.utcNow()
	for _, user := range gone {
		if s.hub.conn(user) != nil {
			continue
		}
		contacts, err := s.store.Contacts(ctx, user)
		if err != nil {
			continue
		}
		u, err := s.store.User(ctx, user)
		if err != nil {
			continue
		}
		p := wire.Presence{Username: user, Status: wire.StatusOffline, LastSeen: u.LastSeen}
		if p.LastSeen.IsZero() {
			p.LastSeen = now
		}
		for _, other := range contacts {
			if c := s.hub.conn(other); c != nil {
				c.push(wire.EvPresence, p)
			}
		}
	}
}
