package transfer

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/transfer/transfertest"
)

// emptyOffer is an offer of n entries, every one the empty file at local.
func emptyOffer(local string, n int) *Offer {
	o := &Offer{ID: NewID(), ChunkSize: ChunkSize}
	for i := range n {
		o.push(local, Entry{Path: "f" + strconv.Itoa(i), Mode: 0o644})
	}
	return o
}

// drain discards a receiver's outcomes until the test ends.
func drain(t *testing.T, out <-chan outcome) {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case <-out:
			case <-stop:
				return
			}
		}
	}()
}

// A peer may have at most MaxOffersInFlight offers waiting for an
// answer at once: the next is refused before anyone is asked, with
// ErrLimit, and the receiver is not stuck with it.
func TestOffersInFlightCapped(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	empty := filepath.Join(src, "e")
	os.WriteFile(empty, nil, 0o644)
	var asked atomic.Int64
	release := make(chan struct{})
	r := newReceiver(t, dst, transfertest.NewMemProgress(), func(c *ReceiverConfig) {
		c.Decide = func(ctx context.Context, _ *Request) Decision {
			asked.Add(1)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return Decision{Reason: "no"}
		}
	})
	drain(t, serveConn(t, r, p.ba))
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)
	for range MaxOffersInFlight {
		wg.Go(func() { Send(context.Background(), p.ab, emptyOffer(empty, 1), SendOptions{}) })
	}
	deadline := time.Now().Add(20 * time.Second)
	for asked.Load() < MaxOffersInFlight && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := asked.Load(); n != MaxOffersInFlight {
		t.Fatalf("%d offers reached Decide, want %d", n, MaxOffersInFlight)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Send(ctx, p.ab, emptyOffer(empty, 1), SendOptions{})
	wantErr(t, "offer over the cap", err, ErrLimit)
	if !strings.Contains(err.Error(), "64 offers from you are waiting") || strings.Count(err.Error(), ErrLimit.Error()) != 1 {
		t.Errorf("the sender is not told which cap, once: %v", err)
	}
	if n := asked.Load(); n != MaxOffersInFlight {
		t.Errorf("%d offers reached Decide, want %d", n, MaxOffersInFlight)
	}
}

// A peer may make at most MaxOffersPerHour new offers an hour; the next
// is refused with ErrLimit before anyone is asked.
func TestOffersPerHourCapped(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	empty := filepath.Join(src, "e")
	os.WriteFile(empty, nil, 0o644)
	var asked atomic.Int64
	r := newReceiver(t, dst, transfertest.NewMemProgress(), func(c *ReceiverConfig) {
		c.Decide = func(context.Context, *Request) Decision {
			asked.Add(1)
			return Decision{Reason: "no"}
		}
	})
	drain(t, serveConn(t, r, p.ba))
	var wg sync.WaitGroup
	next := make(chan struct{})
	for range 16 {
		wg.Go(func() {
			for range next {
				_, err := Send(context.Background(), p.ab, emptyOffer(empty, 1), SendOptions{})
				wantErr(t, "offer under the cap", err, ErrRejected)
			}
		})
	}
	for range MaxOffersPerHour {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	if n := asked.Load(); n != MaxOffersPerHour {
		t.Fatalf("%d offers reached Decide, want %d", n, MaxOffersPerHour)
	}
	_, err := Send(context.Background(), p.ab, emptyOffer(empty, 1), SendOptions{})
	wantErr(t, "offer over the cap", err, ErrLimit)
	if !strings.Contains(err.Error(), "1000 new offers in the last hour") || strings.Count(err.Error(), ErrLimit.Error()) != 1 {
		t.Errorf("the sender is not told which cap, once: %v", err)
	}
	if n := asked.Load(); n != MaxOffersPerHour {
		t.Errorf("%d offers reached Decide, want %d", n, MaxOffersPerHour)
	}
	// Another peer is not held back.
	carol := newTestPeer(t, "carol")
	befriend(carol, p.bob)
	cb, bc := dial(t, carol, p.bob)
	drain(t, serveConn(t, r, bc))
	_, err = Send(context.Background(), cb, emptyOffer(empty, 1), SendOptions{})
	wantErr(t, "another peer's offer", err, ErrRejected)
}

// A peer may offer at most MaxEntriesPerHour entries an hour, empty
// files and folders included: they cost an inode each.
func TestEntriesPerHourCapped(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	empty := filepath.Join(src, "e")
	os.WriteFile(empty, nil, 0o644)
	var asked atomic.Int64
	r := newReceiver(t, dst, transfertest.NewMemProgress(), func(c *ReceiverConfig) {
		c.Decide = func(context.Context, *Request) Decision {
			asked.Add(1)
			return Decision{Reason: "no"}
		}
	})
	drain(t, serveConn(t, r, p.ba))
	half := MaxEntriesPerHour / 2
	for range 2 {
		_, err := Send(context.Background(), p.ab, emptyOffer(empty, half), SendOptions{})
		wantErr(t, "offer under the cap", err, ErrRejected)
	}
	_, err := Send(context.Background(), p.ab, emptyOffer(empty, 1), SendOptions{})
	wantErr(t, "offer over the cap", err, ErrLimit)
	if !strings.Contains(err.Error(), "files and folders offered in the last hour") || strings.Count(err.Error(), ErrLimit.Error()) != 1 {
		t.Errorf("the sender is not told which cap, once: %v", err)
	}
	if n := asked.Load(); n != 2 {
		t.Errorf("%d offers reached Decide, want 2", n)
	}
}

// The bytes running transfers still owe are reserved: two transfers
// that each fit in the free space, but not together, are not both
// accepted.
func TestSpaceReservedAcrossTransfers(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	free, ok := freeSpace(dst)
	if !ok || free < 4<<30 {
		t.Skip("needs 4 GiB free to be told")
	}
	const size = 600 << 20
	for _, name := range []string{"one", "two"} {
		f, err := os.Create(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(size) // sparse: nothing is written on either side
		f.Close()
	}
	writing := make(chan struct{}, 1)
	release := make(chan struct{})
	r := newReceiver(t, dst, transfertest.NewMemProgress(), func(c *ReceiverConfig) {
		// What is left to use: 1 GiB, room for one file, not two.
		c.Reserve = free - 1<<30
		c.writeHook = func(int, int64, int) error {
			select {
			case writing <- struct{}{}:
			default:
			}
			<-release
			return nil
		}
	})
	out := serveConn(t, r, p.ba)
	one, _ := NewOffer(filepath.Join(src, "one"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Send(ctx, p.ab, one, SendOptions{})
		done <- err
	}()
	select {
	case <-writing:
	case <-time.After(20 * time.Second):
		t.Fatal("the first transfer did not start")
	}
	two, _ := NewOffer(filepath.Join(src, "two"))
	tctx, tcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer tcancel()
	_, err := Send(tctx, p.ab, two, SendOptions{})
	close(release)
	cancel()
	<-done
	wantErr(t, "second transfer", err, ErrNoSpace)
	waitOutcome(t, out)
}

// The hourly caps count a sliding hour: offers older than that no
// longer count, the same id counts once, and a peer with nothing left
// in the window is forgotten.
func TestOfferLogWindow(t *testing.T) {
	var l offerLog
	t0 := time.Unix(1_700_000_000, 0)
	for i := range MaxOffersPerHour {
		if err := l.admit(t0.Add(time.Duration(i)*time.Second), "alice", "id"+strconv.Itoa(i), 1); err != nil {
			t.Fatalf("offer %d: %v", i, err)
		}
	}
	wantErr(t, "offer over the cap", l.admit(t0.Add(30*time.Minute), "alice", "new", 1), ErrLimit)
	if err := l.admit(t0.Add(30*time.Minute), "alice", "id7", 1); err != nil {
		t.Errorf("an offer made again is counted twice: %v", err)
	}
	if err := l.admit(t0.Add(30*time.Minute), "bob", "new", MaxEntriesPerHour); err != nil {
		t.Errorf("another peer's offer: %v", err)
	}
	wantErr(t, "entries over the cap", l.admit(t0.Add(31*time.Minute), "bob", "more", 1), ErrLimit)
	// The first offer ages out an hour after it was made.
	if err := l.admit(t0.Add(time.Hour), "alice", "new", 1); err != nil {
		t.Errorf("an hour later: %v", err)
	}
	wantErr(t, "the next", l.admit(t0.Add(time.Hour), "alice", "newer", 1), ErrLimit)
	l.admit(t0.Add(3*time.Hour), "carol", "x", 1)
	if len(l.peers) != 1 {
		t.Errorf("%d peers remembered once alice's and bob's offers aged out", len(l.peers))
	}
}
