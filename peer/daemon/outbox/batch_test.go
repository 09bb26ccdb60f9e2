package outbox

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// fakeBatchPath is a relay that takes batches: each DeliverBatch call
// stands for one relay.send request.
type fakeBatchPath struct {
	fakePath
	mu      sync.Mutex
	batches []int           // size of each request
	refuse  map[string]bool // recipient → refuse its copy
}

func (p *fakeBatchPath) DeliverBatch(ctx context.Context, copies []Copy) []error {
	p.mu.Lock()
	p.batches = append(p.batches, len(copies))
	p.mu.Unlock()
	errs := make([]error, len(copies))
	for i, c := range copies {
		if p.refuse[c.To] {
			errs[i] = fmt.Errorf("%w: refused", ErrNoPath)
			continue
		}
		errs[i] = p.Deliver(ctx, c.To, c.Message)
	}
	return errs
}

func members(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("m%03d", i)
	}
	return out
}

func TestSubmitHandsAGroupsRelayedCopiesOverInFewRequests(t *testing.T) {
	r := newRig(t)
	r.sent = make(chan string, 1000)
	bp := &fakeBatchPath{refuse: map[string]bool{"m007": true}}
	r.ob.cfg.Relay = bp
	r.ob.cfg.Sent = func(_ context.Context, id string) { r.sent <- id }
	ctx := context.Background()

	to := members(500)
	early := r.queue(t, 1, "m003") // m003 has a copy waiting before the group's
	r.relay.set(false)
	r.direct.set(true)
	id := r.queue(t, 2, to...)

	got := r.ob.Submit(ctx, "alice", id, to)

	if len(bp.batches) == 0 || len(bp.batches) > 2 {
		t.Fatalf("%d relay requests (%v), want 1 or 2 for 500 copies", len(bp.batches), bp.batches)
	}
	total := 0
	for _, n := range bp.batches {
		if n > wire.MaxRelayBatch {
			t.Fatalf("a request of %d envelopes, more than %d", n, wire.MaxRelayBatch)
		}
		total += n
	}
	if total != len(to) {
		t.Fatalf("the requests carried %d envelopes, want %d", total, len(to))
	}
	for _, u := range to {
		want := api.ViaRelay
		if u == "m007" {
			want = api.ViaQueued
		}
		if got[u] != want {
			t.Fatalf("copy to %s: %q, want %q", u, got[u], want)
		}
	}
	// m003's earlier copy went first, through the single path.
	if d := bp.delivered(); len(d) == 0 || d[0] != early {
		t.Fatalf("m003's earlier copy did not go first")
	}
	if items := r.pending(t, "m003"); len(items) != 0 {
		t.Fatalf("m003 still has %v", items)
	}
	// The refused copy waits with a back-off; the others are done.
	items := r.pending(t, "m007")
	if len(items) != 1 || items[0].Message.ID != id || items[0].Attempts != 1 {
		t.Fatalf("m007 pending = %v, want the group copy after one try", items)
	}
	if n := r.ob.Count(ctx); n != 1 {
		t.Fatalf("outbox holds %d copies, want only m007's", n)
	}
	told := map[string]int{}
	for len(r.sent) > 0 {
		told[<-r.sent]++
	}
	if told[early] != 1 || told[id] != 1 {
		t.Fatalf("local clients told %v, want each message once", told)
	}
}

func TestSubmitSendsAGroupCopyDirectlyWhenItCan(t *testing.T) {
	r := newRig(t)
	r.sent = make(chan string, 100)
	bp := &fakeBatchPath{}
	r.ob.cfg.Relay = bp
	r.ob.cfg.Sent = func(_ context.Context, id string) { r.sent <- id }
	ctx := context.Background()
	r.direct.set(false) // every member reachable directly
	to := members(5)
	id := r.queue(t, 1, to...)

	got := r.ob.Submit(ctx, "alice", id, to)
	for _, u := range to {
		if got[u] != api.ViaDirect {
			t.Fatalf("copy to %s: %q, want direct", u, got[u])
		}
	}
	if len(bp.batches) != 0 {
		t.Fatalf("relay requests %v, want none", bp.batches)
	}
}

// livePath is a direct path with open connections to some recipients
// only; it counts every attempt, as a dial would be.
type livePath struct {
	fakePath
	live  map[string]bool
	mu    sync.Mutex
	tried map[string]int
}

func (p *livePath) Live(to string) bool { return p.live[to] }

func (p *livePath) Deliver(ctx context.Context, to string, m history.Message) error {
	p.mu.Lock()
	p.tried[to]++
	p.mu.Unlock()
	if !p.live[to] {
		return fmt.Errorf("%w: dialled and failed", ErrNoPath)
	}
	return p.fakePath.Deliver(ctx, to, m)
}

// TestSubmitTriesDirectOnlyOverOpenConnections: a group message goes
// directly to the members with an open connection and through the relay
// to the rest, without one attempt (a dial) per member who has none.
func TestSubmitTriesDirectOnlyOverOpenConnections(t *testing.T) {
	r := newRig(t)
	bp := &fakeBatchPath{}
	lp := &livePath{live: map[string]bool{"m001": true, "m004": true}, tried: map[string]int{}}
	r.ob.cfg.Relay, r.ob.cfg.Direct = bp, lp
	ctx := context.Background()
	to := members(200)
	id := r.queue(t, 1, to...)

	got := r.ob.Submit(ctx, "alice", id, to)
	for _, u := range to {
		want := api.ViaRelay
		if lp.live[u] {
			want = api.ViaDirect
		}
		if got[u] != want {
			t.Fatalf("copy to %s: %q, want %q", u, got[u], want)
		}
	}
	if len(lp.tried) != 2 || lp.tried["m001"] != 1 || lp.tried["m004"] != 1 {
		t.Fatalf("direct attempts %v, want one each to m001 and m004", lp.tried)
	}
	if len(bp.batches) != 1 || bp.batches[0] != 198 {
		t.Fatalf("relay requests %v, want one of 198", bp.batches)
	}
	if n := r.ob.Count(ctx); n != 0 {
		t.Fatalf("%d copies left in the outbox", n)
	}
}

// TestSubmitMarksAGroupsCopiesTogether: the copies of a message to a big
// group are read and marked sent in a few store writes, not one each.
func TestSubmitMarksAGroupsCopiesTogether(t *testing.T) {
	r := newRig(t)
	bp := &fakeBatchPath{}
	r.ob.cfg.Relay = bp
	ctx := context.Background()
	to := members(500)
	id := r.queue(t, 1, to...)

	before := r.db.Commits()
	got := r.ob.Submit(ctx, "alice", id, to)
	if via := Summary(got); via != api.ViaRelay {
		t.Fatalf("Submit: %v", got)
	}
	// One write per relay request (two), and none per copy.
	if w := r.db.Commits().Writes - before.Writes; w > 2 {
		t.Fatalf("%d store writes to mark 500 copies sent, want at most 2", w)
	}
	m, err := r.db.Message(ctx, "alice", id)
	if err != nil || m.State != history.StateSent {
		t.Fatalf("message %+v, %v; want sent", m, err)
	}
}
