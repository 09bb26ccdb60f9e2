package outbox

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// fakePath records what it delivered and fails while told to.
type fakePath struct {
	mu   sync.Mutex
	fail map[string]bool // message id → fail it
	down bool            // fail everything
	got  []string        // ids delivered, in order
}

func (p *fakePath) Deliver(ctx context.Context, to string, m history.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down || p.fail[m.ID] {
		return fmt.Errorf("%w: fake path down", ErrNoPath)
	}
	p.got = append(p.got, m.ID)
	return nil
}

func (p *fakePath) set(down bool, fail ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	p.fail = map[string]bool{}
	for _, id := range fail {
		p.fail[id] = true
	}
}

func (p *fakePath) delivered() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type rig struct {
	db            *history.Store
	direct, relay *fakePath
	clock         *clock
	ob            *Outbox
	sent          chan string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	db, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &rig{db: db, direct: &fakePath{}, relay: &fakePath{}, clock: &clock{now: time.Now()}, sent: make(chan string, 100)}
	r.direct.set(true) // no direct path unless a test opens one
	r.ob = New(Config{
		Store: db, Direct: r.direct, Relay: r.relay, Now: r.clock.Now,
		Sent:     func(_ context.Context, id string) { r.sent <- id },
		Interval: time.Hour,
	})
	return r
}

func mid(n int) string { return fmt.Sprintf("%032x", n) }

// queue stores message n from "alice" for the recipients.
func (r *rig) queue(t *testing.T, n int, to ...string) string {
	t.Helper()
	conv := history.Direct(to[0])
	if len(to) > 1 {
		conv = history.Group("00112233445566778899aabbccddeeff")
	}
	m := history.Message{ID: mid(n), Conversation: conv, From: "alice", Kind: history.KindText, Body: fmt.Sprint("text ", n), Sent: time.Now()}
	if _, err := r.db.AddOutgoing(context.Background(), m, to); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func (r *rig) pending(t *testing.T, to string) []history.OutboxItem {
	t.Helper()
	items, err := r.db.Pending(context.Background(), to, 100)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func TestFlushKeepsOrderUnderAFailingPath(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	ids := []string{r.queue(t, 1, "bob"), r.queue(t, 2, "bob"), r.queue(t, 3, "bob")}
	r.relay.set(false, ids[1]) // the second copy cannot go

	got := r.ob.Flush(ctx, "bob", false)
	want := map[string]string{ids[0]: api.ViaRelay, ids[1]: api.ViaQueued, ids[2]: api.ViaQueued}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Flush = %v, want %v", got, want)
	}
	if d := r.relay.delivered(); !slices.Equal(d, ids[:1]) {
		t.Fatalf("relayed %v, want only the first: the third must wait behind the second", d)
	}
	items := r.pending(t, "bob")
	if len(items) != 2 || items[0].Message.ID != ids[1] || items[1].Message.ID != ids[2] {
		t.Fatalf("pending = %v, want the second then the third", items)
	}
	if items[0].Attempts != 1 || !items[0].NextAttempt.Equal(r.clock.Now().Add(RetryMin)) {
		t.Errorf("head: %d attempts, next at %v; want 1, now+%v", items[0].Attempts, items[0].NextAttempt, RetryMin)
	}

	// The path opens, but the head's retry time has not come: nothing goes.
	r.relay.set(false)
	if got := r.ob.Flush(ctx, "bob", false); len(got) != 0 {
		t.Fatalf("Flush before the retry time = %v, want nothing", got)
	}
	r.clock.advance(RetryMin)
	r.ob.Flush(ctx, "bob", false)
	if d := r.relay.delivered(); !slices.Equal(d, ids) {
		t.Fatalf("relayed %v, want %v in order", d, ids)
	}
	if n := len(r.pending(t, "bob")); n != 0 {
		t.Errorf("%d copies left", n)
	}
}

func TestDirectFirstThenRelay(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a := r.queue(t, 1, "bob")
	r.direct.set(false)
	if got := r.ob.Flush(ctx, "bob", false); got[a] != api.ViaDirect {
		t.Fatalf("Flush = %v, want %s via direct", got, a)
	}
	b := r.queue(t, 2, "bob")
	r.direct.set(false, b) // the direct path refuses this one: the relay takes it
	if got := r.ob.Flush(ctx, "bob", false); got[b] != api.ViaRelay {
		t.Fatalf("Flush = %v, want %s via relay", got, b)
	}
	if d := r.direct.delivered(); !slices.Equal(d, []string{a}) {
		t.Errorf("direct delivered %v", d)
	}
	if d := r.relay.delivered(); !slices.Equal(d, []string{b}) {
		t.Errorf("relay delivered %v", d)
	}
	m, err := r.db.Message(ctx, "alice", b)
	if err != nil || m.State != history.StateSent || m.Via != history.ViaRelay {
		t.Errorf("stored %+v, %v; want sent via relay", m, err)
	}
	for _, want := range []string{a, b} {
		if got := <-r.sent; got != want {
			t.Errorf("Sent told of %s, want %s", got, want)
		}
	}
}

func TestBackoffGrowsToItsBound(t *testing.T) {
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, RetryMax, RetryMax}
	for n, w := range want {
		if got := Backoff(n); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, w)
		}
	}
	if got := Backoff(1000); got != RetryMax {
		t.Errorf("Backoff(1000) = %v", got)
	}

	// Each failed round records the next wait.
	r := newRig(t)
	ctx := context.Background()
	id := r.queue(t, 1, "bob")
	r.relay.set(true)
	for n := range 4 {
		r.ob.Flush(ctx, "bob", true)
		it := r.pending(t, "bob")[0]
		if it.Attempts != n+1 || !it.NextAttempt.Equal(r.clock.Now().Add(Backoff(n))) {
			t.Fatalf("after %d failures: %d attempts, next in %v; want %v", n+1, it.Attempts, it.NextAttempt.Sub(r.clock.Now()), Backoff(n))
		}
	}
	if len(r.relay.delivered()) != 0 || r.pending(t, "bob")[0].Message.ID != id {
		t.Fatal("the copy left")
	}
}

func TestPathOpenedSkipsTheBackoff(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	id := r.queue(t, 1, "bob")
	r.relay.set(true)
	r.ob.Flush(ctx, "bob", false)
	r.relay.set(false)

	done := make(chan struct{})
	go func() { defer close(done); r.ob.Run(ctx) }()
	r.ob.Kick() // a plain round respects the back-off
	r.ob.PathOpened()
	select {
	case got := <-r.sent:
		if got != id {
			t.Fatalf("sent %s, want %s", got, id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a path opened, but the copy did not go")
	}
	cancel()
	<-done
}

func TestSubmitReportsEachRecipient(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	// carol's key changed: her copies are held until the user trusts it.
	k1, _, _ := ed25519.GenerateKey(nil)
	k2, _, _ := ed25519.GenerateKey(nil)
	for _, k := range []ed25519.PublicKey{k1, k2} {
		if _, err := r.db.PinKey(ctx, "carol", k); err != nil {
			t.Fatal(err)
		}
	}
	r.direct.set(false)
	id := r.queue(t, 1, "bob", "carol", "dave")
	r.direct.set(false, id)
	r.relay.set(true)
	got := r.ob.Submit(ctx, "alice", id, []string{"bob", "carol", "dave"})
	want := map[string]string{"bob": api.ViaQueued, "carol": api.ViaHeld, "dave": api.ViaQueued}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Submit = %v, want %v", got, want)
	}
	if s := Summary(got); s != api.ViaPartial {
		t.Errorf("Summary = %q, want partial", s)
	}
	if n := r.ob.Count(ctx); n != 2 {
		t.Errorf("Count = %d, want 2 (the held copy is not pending)", n)
	}

	r.relay.set(false)
	got = r.ob.Submit(ctx, "alice", id, []string{"bob", "dave"})
	if s := Summary(got); s != api.ViaRelay {
		t.Errorf("Summary(%v) = %q, want relay", got, s)
	}
	// Sent already: Submit reports how it went from history.
	r.direct.set(true)
	one := r.queue(t, 2, "bob")
	r.ob.Flush(ctx, "bob", true)
	got = r.ob.Submit(ctx, "alice", one, []string{"bob"})
	if got["bob"] != api.ViaRelay {
		t.Errorf("Submit of a sent copy = %v", got)
	}
	if s := Summary(nil); s != api.ViaQueued {
		t.Errorf("Summary(nil) = %q", s)
	}
}

// failingStore makes the store's reads fail.
type failingStore struct{ Store }

var errDisk = errors.New("disk gone")

func (failingStore) PendingRecipients(context.Context) ([]string, error) { return nil, errDisk }
func (failingStore) Pending(context.Context, string, int) ([]history.OutboxItem, error) {
	return nil, errDisk
}

func TestStoreFailureSendsNothing(t *testing.T) {
	r := newRig(t)
	ob := New(Config{Store: failingStore{r.db}, Direct: r.direct, Relay: r.relay})
	ctx := context.Background()
	ob.FlushAll(ctx)
	if got := ob.Flush(ctx, "bob", true); len(got) != 0 {
		t.Errorf("Flush = %v", got)
	}
	if n := ob.Count(ctx); n != 0 {
		t.Errorf("Count = %d", n)
	}
	if len(r.relay.delivered()) != 0 {
		t.Error("delivered without a store")
	}
}

func TestFlushAllTakesEveryRecipient(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a, b := r.queue(t, 1, "bob"), r.queue(t, 2, "carol")
	r.ob.FlushAll(ctx)
	d := r.relay.delivered()
	slices.Sort(d)
	if !slices.Equal(d, []string{a, b}) {
		t.Errorf("delivered %v", d)
	}
}
