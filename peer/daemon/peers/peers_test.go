package peers

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
)

// fakeConn is a connection that exists only in memory.
type fakeConn struct {
	user   string
	addr   string
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	reason string
}

func newConn(user, addr string) *fakeConn {
	ctx, cancel := context.WithCancel(context.Background())
	return &fakeConn{user: user, addr: addr, ctx: ctx, cancel: cancel}
}

func (c *fakeConn) User() string             { return c.user }
func (c *fakeConn) Context() context.Context { return c.ctx }
func (c *fakeConn) RemoteAddr() net.Addr {
	return net.UDPAddrFromAddrPort(netip.MustParseAddrPort(c.addr))
}
func (c *fakeConn) CloseWithError(_ direct.ErrorCode, msg string) error {
	c.mu.Lock()
	if c.reason == "" {
		c.reason = msg
	}
	c.mu.Unlock()
	c.cancel()
	return nil
}
func (c *fakeConn) closed() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// fakeDialer answers at the addresses it is given, after a delay each.
type fakeDialer struct {
	mu    sync.Mutex
	up    map[string]time.Duration // addr → delay before it answers
	dials atomic.Int32
	made  []*fakeConn
}

func (d *fakeDialer) Dial(ctx context.Context, addr, user string, key ed25519.PublicKey) (*fakeConn, error) {
	d.dials.Add(1)
	d.mu.Lock()
	delay, ok := d.up[addr]
	d.mu.Unlock()
	if !ok {
		return nil, errors.New("no answer at " + addr)
	}
	time.Sleep(delay)
	c := newConn(user, addr)
	d.mu.Lock()
	d.made = append(d.made, c)
	d.mu.Unlock()
	return c, nil
}

type contacts map[string]history.Contact

func (cs contacts) Contact(_ context.Context, user string) (history.Contact, error) {
	c, ok := cs[user]
	if !ok {
		return c, history.ErrNotFound
	}
	return c, nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type rig struct {
	set    *Set[*fakeConn]
	dialer *fakeDialer
	clock  *clock
	addrs  map[string][]string
	mu     sync.Mutex
	events []string
}

func (r *rig) event(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

func (r *rig) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// newRig makes bob's set; alice is his contact.
func newRig(t *testing.T) *rig {
	t.Helper()
	key, _, _ := ed25519.GenerateKey(nil)
	r := &rig{
		dialer: &fakeDialer{up: map[string]time.Duration{}},
		clock:  &clock{now: time.Now()},
		addrs:  map[string][]string{"alice": {"10.0.0.1:4000", "10.0.0.2:4000", "10.0.0.3:4000"}},
	}
	held := history.Contact{Username: "carol", IdentityKey: key, PendingKey: key}
	r.set = New(Config[*fakeConn]{
		Self:       func() string { return "bob" },
		Dialer:     func() (Dialer[*fakeConn], bool) { return r.dialer, true },
		Contacts:   contacts{"alice": {Username: "alice", IdentityKey: key}, "carol": held},
		Candidates: func(user string, _ history.Contact) []string { return r.addrs[user] },
		Up: func(user, addr string, dialed bool) {
			if dialed {
				r.event("up " + user + " dialed")
			} else {
				r.event("up " + user)
			}
		},
		Down: func(user string) { r.event("down " + user) },
		Now:  r.clock.Now,
	})
	t.Cleanup(func() {
		r.set.CloseAll()
		r.set.Wait()
	})
	return r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBothSidesKeepTheFirstNamesConnection(t *testing.T) {
	r := newRig(t)
	// bob dialled alice; then alice's own dial comes in. alice sorts
	// first, so both keep the one she dialled.
	mine := newConn("alice", "10.0.0.1:4000")
	r.set.Add(mine, true)
	hers := newConn("alice", "10.0.0.1:4001")
	r.set.Add(hers, false)
	if got, _ := r.set.Get("alice"); got != hers {
		t.Fatal("Get does not return the connection alice dialled")
	}
	waitFor(t, "bob's own connection to close", func() bool { return mine.closed() != "" })
	// Another of bob's dials loses to hers at once.
	late := newConn("alice", "10.0.0.1:4002")
	r.set.Add(late, true)
	if late.closed() != "duplicate connection" {
		t.Errorf("a late dial: closed %q, want a duplicate", late.closed())
	}
	// A second one she dialled is kept beside the first (she may have got
	// two through); the newest is used.
	again := newConn("alice", "10.0.0.1:4003")
	r.set.Add(again, false)
	if got, _ := r.set.Get("alice"); got != again || hers.closed() != "" {
		t.Error("the second connection alice dialled is not the one used, or the first was closed")
	}
	if l := r.set.List(); !slices.Equal(l, []string{"alice"}) {
		t.Errorf("List = %v", l)
	}
	hers.CloseWithError(0, "gone")
	again.CloseWithError(0, "gone")
	waitFor(t, "alice down", func() bool { return slices.Contains(r.seen(), "down alice") })
	if r.set.Has("alice") {
		t.Error("closed connections still listed")
	}
	// Each connection that ends finding none left reports the contact
	// down: one to three times here, after the three ups.
	want := []string{"up alice dialed", "up alice", "up alice", "down alice"}
	if got := r.seen(); !slices.Equal(got[:4], want) || slices.ContainsFunc(got[4:], func(e string) bool { return e != "down alice" }) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func TestDialBackoff(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, ok := r.set.Connect(ctx, "alice", false); ok {
		t.Fatal("connected with nobody answering")
	}
	if n := r.dialer.dials.Load(); n != 3 {
		t.Fatalf("%d dials, want one per candidate address (3)", n)
	}
	r.dialer.mu.Lock()
	r.dialer.up["10.0.0.2:4000"] = 0
	r.dialer.mu.Unlock()
	// Within the back-off nothing is dialled...
	r.clock.advance(DialBackoff - time.Second)
	if _, ok := r.set.Connect(ctx, "alice", false); ok || r.dialer.dials.Load() != 3 {
		t.Fatalf("dialled within the back-off (%d dials)", r.dialer.dials.Load())
	}
	// ...unless something new was heard of alice.
	r.set.ForgetFailure("alice")
	c, ok := r.set.Connect(ctx, "alice", false)
	if !ok || c.addr != "10.0.0.2:4000" {
		t.Fatalf("Connect = %v, %v; want the address that answers", c, ok)
	}
	// Open: no dial at all.
	if _, ok := r.set.Connect(ctx, "alice", false); !ok || r.dialer.dials.Load() != 6 {
		t.Errorf("a second Connect dialled again (%d dials)", r.dialer.dials.Load())
	}
}

func TestDialBackoffEndsAndForceSkipsIt(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.set.Connect(ctx, "alice", false)
	r.clock.advance(DialBackoff)
	r.set.Connect(ctx, "alice", false)
	if n := r.dialer.dials.Load(); n != 6 {
		t.Fatalf("%d dials after the back-off, want 6", n)
	}
	r.set.Connect(ctx, "alice", true)
	if n := r.dialer.dials.Load(); n != 9 {
		t.Fatalf("%d dials with force, want 9", n)
	}
}

func TestDialKeepsTheFirstAnswer(t *testing.T) {
	r := newRig(t)
	r.dialer.up["10.0.0.1:4000"] = 50 * time.Millisecond
	r.dialer.up["10.0.0.3:4000"] = 0
	c, ok := r.set.Connect(context.Background(), "alice", false)
	if !ok || c.addr != "10.0.0.3:4000" {
		t.Fatalf("Connect = %v, %v; want the quickest", c, ok)
	}
	r.dialer.mu.Lock()
	made := slices.Clone(r.dialer.made)
	r.dialer.mu.Unlock()
	for _, m := range made {
		if m != c && m.closed() != "duplicate" {
			t.Errorf("the slower connection to %s: closed %q, want duplicate", m.addr, m.closed())
		}
	}
	if got := r.seen(); !slices.Equal(got, []string{"up alice dialed"}) {
		t.Errorf("events %v", got)
	}
}

func TestConcurrentConnectsDialOnce(t *testing.T) {
	r := newRig(t)
	r.dialer.up["10.0.0.1:4000"] = 50 * time.Millisecond
	r.addrs["alice"] = []string{"10.0.0.1:4000"}
	var wg sync.WaitGroup
	got := make([]*fakeConn, 5)
	for i := range got {
		wg.Go(func() { got[i], _ = r.set.Connect(context.Background(), "alice", false) })
	}
	wg.Wait()
	if n := r.dialer.dials.Load(); n != 1 {
		t.Errorf("%d dials, want 1", n)
	}
	for _, c := range got {
		if c == nil || c != got[0] {
			t.Fatalf("Connects returned %v", got)
		}
	}
}

func TestNoDialWithoutAPath(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	for _, user := range []string{"carol" /* held */, "dave" /* no key */} {
		if _, ok := r.set.Connect(ctx, user, true); ok {
			t.Errorf("connected to %s", user)
		}
	}
	r.addrs["alice"] = nil
	if _, ok := r.set.Connect(ctx, "alice", true); ok {
		t.Error("connected with no address")
	}
	if n := r.dialer.dials.Load(); n != 0 {
		t.Errorf("%d dials, want none", n)
	}
	noID := New(Config[*fakeConn]{Self: func() string { return "bob" }, Dialer: func() (Dialer[*fakeConn], bool) { return nil, false }})
	if _, ok := noID.Connect(ctx, "alice", true); ok {
		t.Error("connected with no identity")
	}
}

func TestDropAndClose(t *testing.T) {
	r := newRig(t)
	a := newConn("alice", "10.0.0.1:4000")
	r.set.Add(a, true)
	r.set.Drop("alice", a)
	if a.closed() != "not answering" || r.set.Has("alice") {
		t.Errorf("Drop: closed %q, still there %v", a.closed(), r.set.Has("alice"))
	}
	b, c := newConn("alice", "10.0.0.1:4000"), newConn("erin", "10.0.0.9:4000")
	r.set.Add(b, true)
	r.set.Add(c, false)
	r.set.Close("alice")
	if b.closed() != "closed" || c.closed() != "" {
		t.Errorf("Close(alice): alice %q, erin %q", b.closed(), c.closed())
	}
	r.set.CloseAll()
	if c.closed() != "closed" {
		t.Errorf("CloseAll: erin %q", c.closed())
	}
	r.set.Wait()
	if l := r.set.List(); len(l) != 0 {
		t.Errorf("List = %v", l)
	}
}
