package direct

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"sync"
	"testing"
	"time"
)

// peer is one test daemon: an identity and a Transport on loopback.
type peer struct {
	name string
	key  ed25519.PrivateKey
	t    *Transport
}

func (p *peer) pub() ed25519.PublicKey { return p.key.Public().(ed25519.PublicKey) }

func (p *peer) addr() string { return p.t.LocalAddr().String() }

// contacts is a concurrency-safe Authorizer backed by a map, like the
// daemon's contact list.
type contacts struct {
	mu      sync.Mutex
	friends map[string]string // string(key) → user
}

func newContacts() *contacts { return &contacts{friends: map[string]string{}} }

func (c *contacts) add(user string, key ed25519.PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.friends[string(key)] = user
}

func (c *contacts) remove(key ed25519.PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.friends, string(key))
}

func (c *contacts) authorize(key ed25519.PublicKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	user, ok := c.friends[string(key)]
	return user, ok
}

func newIdentity(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// testOptions keep timeouts short so failures show quickly.
func testOptions() Options {
	return Options{
		HandshakeIdleTimeout: 2 * time.Second,
		StreamKindTimeout:    300 * time.Millisecond,
		ExchangeTimeout:      5 * time.Second,
	}
}

// newPeer starts a Transport on 127.0.0.1 that trusts whoever is in c
// (nil: nobody).
func newPeer(t testing.TB, name string, c *contacts) *peer {
	t.Helper()
	return newPeerAt(t, name, "127.0.0.1:0", c, testOptions())
}

func newPeerAt(t testing.TB, name, addr string, c *contacts, opts Options) *peer {
	t.Helper()
	if c == nil {
		c = newContacts()
	}
	key := newIdentity(t)
	tr, err := Listen(addr, key, c.authorize, opts)
	if err != nil {
		t.Fatalf("Listen %s: %v", name, err)
	}
	t.Cleanup(func() { tr.Close() })
	return &peer{name: name, key: key, t: tr}
}

// connected returns two friends, alice and bob, and a connection alice
// dialled to bob as seen from each side.
func connected(t testing.TB) (alice, bob *peer, ab, ba *Conn) {
	t.Helper()
	ca, cb := newContacts(), newContacts()
	alice = newPeer(t, "alice", ca)
	bob = newPeer(t, "bob", cb)
	ca.add("bob", bob.pub())
	cb.add("alice", alice.pub())
	ab, ba = dialAccept(t, alice, bob)
	return alice, bob, ab, ba
}

// dialAccept has from dial to and returns both ends.
func dialAccept(t testing.TB, from, to *peer) (dialled, accepted *Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type result struct {
		c   *Conn
		err error
	}
	acc := make(chan result, 1)
	go func() {
		c, err := to.t.Accept(ctx)
		acc <- result{c, err}
	}()
	dialled, err := from.t.Dial(ctx, to.addr(), to.name, to.pub())
	if err != nil {
		t.Fatalf("%s dials %s: %v", from.name, to.name, err)
	}
	r := <-acc
	if r.err != nil {
		t.Fatalf("%s accepts: %v", to.name, r.err)
	}
	return dialled, r.c
}

// expectNoAccept checks that p's Accept returns nothing for a while.
func expectNoAccept(t testing.TB, p *peer, wait time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if c, err := p.t.Accept(ctx); err == nil {
		t.Fatalf("%s accepted a connection from %q (%s)", p.name, c.User(), c.RemoteAddr())
	}
}
