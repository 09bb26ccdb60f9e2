package outbox

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// fakeRunPath is a direct path that takes runs: each DeliverRun call
// stands for one request on a direct connection, carrying at most max
// copies. It commits in order and stops at a copy it refuses.
type fakeRunPath struct {
	fakePath
	max  int
	mu   sync.Mutex
	runs [][]string // the ids each request carried
}

func (p *fakeRunPath) DeliverRun(ctx context.Context, to string, ms []history.Message) (int, error) {
	ms = ms[:min(len(ms), p.max)]
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	p.mu.Lock()
	p.runs = append(p.runs, ids)
	p.mu.Unlock()
	for i, m := range ms {
		if err := p.Deliver(ctx, to, m); err != nil {
			if p.down {
				return i, err
			}
			return i, fmt.Errorf("%w: %w", ErrRefused, err)
		}
	}
	return len(ms), nil
}

func (p *fakeRunPath) requests() [][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.runs)
}

func runRig(t *testing.T, max int) (*rig, *fakeRunPath) {
	r := newRig(t)
	rp := &fakeRunPath{max: max}
	rp.set(false)
	r.ob.cfg.Direct = rp
	r.sent = make(chan string, 100)
	return r, rp
}

func TestFlushSendsACopiesRunInOneRequestInOrder(t *testing.T) {
	r, rp := runRig(t, 4)
	ctx := context.Background()
	var ids []string
	for n := range 6 {
		ids = append(ids, r.queue(t, n+1, "bob"))
	}
	got := r.ob.Flush(ctx, "bob", false)
	for _, id := range ids {
		if got[id] != api.ViaDirect {
			t.Fatalf("Flush = %v, want all direct", got)
		}
	}
	if d := rp.delivered(); !slices.Equal(d, ids) {
		t.Fatalf("delivered %v, want %v", d, ids)
	}
	// Four a request (the path's bound), then the two left.
	if reqs := rp.requests(); len(reqs) != 2 || len(reqs[0]) != 4 || len(reqs[1]) != 2 {
		t.Fatalf("requests %v, want 4 copies then 2", reqs)
	}
	if items := r.pending(t, "bob"); len(items) != 0 {
		t.Errorf("%d copies still pending", len(items))
	}
	for range ids {
		<-r.sent
	}
}

// A copy the direct path refuses in the middle of a run goes through the
// relay; the copies after it go on directly, behind it.
func TestFlushRelaysACopyARunRefusedAndGoesOn(t *testing.T) {
	r, rp := runRig(t, 64)
	ctx := context.Background()
	ids := []string{r.queue(t, 1, "bob"), r.queue(t, 2, "bob"), r.queue(t, 3, "bob"), r.queue(t, 4, "bob")}
	rp.set(false, ids[1])
	r.relay.set(false)
	got := r.ob.Flush(ctx, "bob", false)
	want := map[string]string{ids[0]: api.ViaDirect, ids[1]: api.ViaRelay, ids[2]: api.ViaDirect, ids[3]: api.ViaDirect}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Flush = %v, want %v", got, want)
	}
	if d := rp.delivered(); !slices.Equal(d, []string{ids[0], ids[2], ids[3]}) {
		t.Errorf("direct %v", d)
	}
	if d := r.relay.delivered(); !slices.Equal(d, ids[1:2]) {
		t.Errorf("relayed %v, want the refused copy alone", d)
	}
	if reqs := rp.requests(); len(reqs) != 2 || !slices.Equal(reqs[1], ids[2:]) {
		t.Errorf("requests %v, want a second run from the copy after the refused one", reqs)
	}
}

// With no direct path, the copies go to the relay in one request; one it
// refuses waits for a retry (what it took after it is not sent again),
// and the retry sends it once its time comes, directly when it can.
func TestFlushRetriesWhatARelayRunRefused(t *testing.T) {
	r, rp := runRig(t, 64)
	bp := &fakeBatchPath{}
	r.ob.cfg.Relay = bp
	ctx := context.Background()
	ids := []string{r.queue(t, 1, "bob"), r.queue(t, 2, "bob"), r.queue(t, 3, "bob")}
	rp.set(true)          // the direct connection broke
	bp.set(false, ids[1]) // and the relay refuses the second copy

	got := r.ob.Flush(ctx, "bob", false)
	want := map[string]string{ids[0]: api.ViaRelay, ids[1]: api.ViaQueued, ids[2]: api.ViaRelay}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Flush = %v, want %v", got, want)
	}
	if len(bp.batches) != 1 || bp.batches[0] != 3 {
		t.Errorf("relay requests %v, want the three copies in one", bp.batches)
	}
	items := r.pending(t, "bob")
	if len(items) != 1 || items[0].Message.ID != ids[1] || items[0].Attempts != 1 {
		t.Fatalf("pending = %+v, want the refused copy alone, tried once (the third went, behind it on the relay)", items)
	}

	// The direct path is back: the retry sends the copy left.
	rp.set(false)
	bp.set(false)
	if got := r.ob.Flush(ctx, "bob", false); len(got) != 0 {
		t.Fatalf("Flush before the retry time = %v, want nothing: the head waits", got)
	}
	r.clock.advance(RetryMin)
	got = r.ob.Flush(ctx, "bob", false)
	if got[ids[1]] != api.ViaDirect || len(got) != 1 {
		t.Fatalf("retry = %v, want the second copy direct", got)
	}
	if d := bp.delivered(); !slices.Equal(d, []string{ids[0], ids[2]}) {
		t.Errorf("relayed %v", d)
	}
}

// A run the direct path stops short of, without saying why, leaves the
// rest for the relay rather than losing them.
func TestFlushRelaysWhatARunDidNotTake(t *testing.T) {
	r, rp := runRig(t, 0)
	ctx := context.Background()
	ids := []string{r.queue(t, 1, "bob"), r.queue(t, 2, "bob")}
	r.relay.set(false)
	got := r.ob.Flush(ctx, "bob", false)
	if got[ids[0]] != api.ViaRelay || got[ids[1]] != api.ViaRelay {
		t.Fatalf("Flush = %v, want both relayed", got)
	}
	if d := r.relay.delivered(); !slices.Equal(d, ids) {
		t.Errorf("relayed %v, want %v", d, ids)
	}
	if len(rp.requests()) != 1 {
		t.Errorf("direct requests %v", rp.requests())
	}
}
