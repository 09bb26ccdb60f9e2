package history

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// testCheckpoint makes a checkpoint of a folder and n-1 files in it.
func testCheckpoint(n int) *checkpoint.Transfer {
	cp := &checkpoint.Transfer{Peer: "00ff" + fmt.Sprintf("%060x", n), Dir: abs("home", "me", "Downloads")}
	cp.Entries = append(cp.Entries, checkpoint.Entry{Offered: "photos", Path: "photos", Dir: true})
	for i := 1; i < n; i++ {
		name := fmt.Sprintf("photos/img%05d.jpg", i)
		cp.Entries = append(cp.Entries, checkpoint.Entry{Offered: name, Path: name, Size: int64(1000 + i), ModTime: int64(i) << 30})
	}
	return cp
}

// reopen closes s and opens the file at path again.
func reopen(t *testing.T, s *Store, path string) *Store {
	t.Helper()
	mustNil(t, s.Close())
	s, err := Open(context.Background(), path)
	mustNil(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// second opens another Store on the same file, which sees only what is on
// disk.
func second(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	mustNil(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func load(t *testing.T, c *Checkpoints, tid string) *checkpoint.Transfer {
	t.Helper()
	cp, err := c.Load(context.Background(), tid)
	mustNil(t, err)
	return cp
}

// The behaviour the stores of transfer/transfertest share.
func TestCheckpointsProgress(t *testing.T) {
	s, _ := openTest(t)
	p := s.Checkpoints()
	ctx := context.Background()
	tid := id(1)
	if cp, err := p.Load(ctx, tid); cp != nil || err != nil {
		t.Fatalf("Load of nothing: %v, %v", cp, err)
	}
	cp := &checkpoint.Transfer{Peer: "ab", Dir: "/d", Entries: []checkpoint.Entry{
		{Offered: "x", Path: "x", Dir: true},
		{Offered: "x/a", Path: "x/a", Size: 10, ModTime: 5},
	}}
	mustNil(t, p.Begin(ctx, tid, cp))
	cp.Entries[1].Size = 99 // the store keeps its own copy
	mustNil(t, p.Save(ctx, tid, 1, 4))
	got := load(t, p, tid)
	if got.Entries[1].Verified != 4 || got.Entries[1].Size != 10 {
		t.Fatalf("after Save: %+v", got)
	}
	got.Entries[1].Verified = 7 // and gives out copies
	got.Peer = "cd"
	if again := load(t, p, tid); again.Entries[1].Verified != 4 || again.Peer != "ab" {
		t.Fatalf("Load shares memory: %+v", again)
	}
	mustNil(t, p.Finish(ctx, tid, 1, "x/a (1)"))
	got = load(t, p, tid)
	want := checkpoint.Entry{Offered: "x/a", Path: "x/a (1)", Size: 10, ModTime: 5, Verified: 10, Done: true}
	if !reflect.DeepEqual(got.Entries[1], want) || got.Peer != "ab" || got.Dir != "/d" {
		t.Fatalf("after Finish: %+v", got)
	}
	for _, e := range []int{2, -1} {
		wantErr(t, p.Save(ctx, tid, e, 1), ErrNotFound)
		wantErr(t, p.Finish(ctx, tid, e, "y"), ErrNotFound)
	}
	wantErr(t, p.Save(ctx, id(2), 0, 1), ErrNotFound)
	mustNil(t, p.Forget(ctx, tid))
	if cp := load(t, p, tid); cp != nil {
		t.Error("Load after Forget")
	}
	mustNil(t, p.Forget(ctx, tid))

	// Ids are offer ids.
	for _, bad := range []string{"", "../../etc/passwd", "ABCDEF0123456789ABCDEF0123456789"} {
		_, err := p.Load(ctx, bad)
		wantErr(t, err, ErrInvalid)
		wantErr(t, p.Begin(ctx, bad, cp), ErrInvalid)
		wantErr(t, p.Save(ctx, bad, 0, 1), ErrInvalid)
		wantErr(t, p.Forget(ctx, bad), ErrInvalid)
	}
	wantErr(t, p.Begin(ctx, tid, nil), ErrInvalid)
}

// Save and Finish reach the disk by Flush, by the flusher by itself, and
// by Close.
func TestCheckpointsDurable(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"flush", "flusher", "close"} {
		t.Run(how, func(t *testing.T) {
			s, path := openTest(t)
			p := s.Checkpoints()
			mustNil(t, p.Begin(ctx, id(1), testCheckpoint(5)))
			mustNil(t, p.Begin(ctx, id(2), testCheckpoint(3)))
			// Begin is on disk at once.
			if got := load(t, second(t, path).Checkpoints(), id(1)); !reflect.DeepEqual(got, testCheckpoint(5)) {
				t.Fatalf("Begin not on disk: %+v", got)
			}
			mustNil(t, p.Save(ctx, id(1), 2, 100))
			mustNil(t, p.Finish(ctx, id(1), 3, "photos/img00003 (1).jpg"))
			mustNil(t, p.Save(ctx, id(1), 4, 10))
			mustNil(t, p.Save(ctx, id(1), 4, 20)) // the latest counts
			mustNil(t, p.Finish(ctx, id(2), 1, "photos/img00001.jpg"))
			want1, want2 := testCheckpoint(5), testCheckpoint(3)
			want1.Entries[2].Verified = 100
			want1.Entries[3].Path, want1.Entries[3].Verified, want1.Entries[3].Done = "photos/img00003 (1).jpg", 1003, true
			want1.Entries[4].Verified = 20
			want2.Entries[1].Verified, want2.Entries[1].Done = 1001, true
			// In memory at once.
			if got := load(t, p, id(1)); !reflect.DeepEqual(got, want1) {
				t.Fatalf("in memory: %+v, want %+v", got, want1)
			}

			var other *Store
			switch how {
			case "flush":
				mustNil(t, p.Flush(ctx))
				other = second(t, path)
			case "flusher":
				other = second(t, path)
				deadline := time.Now().Add(10 * time.Second)
				for !reflect.DeepEqual(load(t, other.Checkpoints(), id(2)), want2) {
					if time.Now().After(deadline) {
						t.Fatal("the flusher did not write within 10 s")
					}
					time.Sleep(20 * time.Millisecond)
					other.Checkpoints().evict(0) // read from disk again
				}
			case "close":
				other = reopen(t, s, path)
				_, err := p.Load(ctx, id(1))
				wantErr(t, err, errClosed)
				wantErr(t, p.Save(ctx, id(1), 1, 1), errClosed)
				wantErr(t, p.Begin(ctx, id(3), testCheckpoint(1)), errClosed)
				wantErr(t, p.Forget(ctx, id(1)), errClosed)
			}
			oc := other.Checkpoints()
			if got := load(t, oc, id(1)); !reflect.DeepEqual(got, want1) {
				t.Errorf("on disk: %+v, want %+v", got, want1)
			}
			if got := load(t, oc, id(2)); !reflect.DeepEqual(got, want2) {
				t.Errorf("on disk: %+v, want %+v", got, want2)
			}
		})
	}
}

// A checkpoint leaves memory only once it is on disk, and comes back
// from there.
func TestCheckpointsEvict(t *testing.T) {
	s, _ := openTest(t)
	p := s.Checkpoints()
	ctx := context.Background()
	mustNil(t, p.Begin(ctx, id(1), testCheckpoint(3)))
	mustNil(t, p.Save(ctx, id(1), 1, 7))
	p.evict(0)
	if n := len(p.cps); n != 1 {
		t.Fatalf("a checkpoint with changes left memory (%d left)", n)
	}
	p.evict(time.Hour)
	mustNil(t, p.Flush(ctx))
	if n := len(p.cps); n != 1 {
		t.Fatalf("a checkpoint touched just now left memory (%d left)", n)
	}
	p.evict(0)
	if n := len(p.cps); n != 0 {
		t.Fatalf("%d checkpoints stayed in memory", n)
	}
	if got := load(t, p, id(1)); got.Entries[1].Verified != 7 {
		t.Errorf("read back: %+v", got)
	}
	mustNil(t, p.Finish(ctx, id(1), 2, "photos/x.jpg"))
	if got := load(t, p, id(1)); !got.Entries[2].Done || got.Entries[1].Verified != 7 {
		t.Errorf("after Finish: %+v", got)
	}
}

// Begin replaces a checkpoint and its unwritten changes; Forget drops
// them.
func TestCheckpointsReplaceAndForget(t *testing.T) {
	s, path := openTest(t)
	p := s.Checkpoints()
	ctx := context.Background()
	mustNil(t, p.Begin(ctx, id(1), testCheckpoint(10)))
	mustNil(t, p.Begin(ctx, id(2), testCheckpoint(3)))
	mustNil(t, p.Save(ctx, id(1), 9, 5))
	mustNil(t, p.Save(ctx, id(2), 2, 5))
	mustNil(t, p.Begin(ctx, id(1), testCheckpoint(4)))
	mustNil(t, p.Forget(ctx, id(2)))
	if got := load(t, p, id(1)); !reflect.DeepEqual(got, testCheckpoint(4)) {
		t.Errorf("after Begin again: %+v", got)
	}
	wantErr(t, p.Save(ctx, id(1), 9, 5), ErrNotFound)
	wantErr(t, p.Save(ctx, id(2), 2, 6), ErrNotFound)
	mustNil(t, p.Flush(ctx))
	s = reopen(t, s, path)
	p = s.Checkpoints()
	if got := load(t, p, id(1)); !reflect.DeepEqual(got, testCheckpoint(4)) {
		t.Errorf("after reopen: %+v", got)
	}
	if got := load(t, p, id(2)); got != nil {
		t.Errorf("forgotten checkpoint came back: %+v", got)
	}
	var n int
	mustNil(t, s.r.QueryRow(`SELECT count(*) FROM checkpoint_entries`).Scan(&n))
	if n != 4 {
		t.Errorf("%d entry rows, want 4", n)
	}
}

// A failed flush keeps the changes for the next one.
func TestCheckpointsFlushFailure(t *testing.T) {
	s, path := openTest(t)
	p := s.Checkpoints()
	ctx := context.Background()
	mustNil(t, p.Begin(ctx, id(1), testCheckpoint(3)))
	mustNil(t, p.Save(ctx, id(1), 1, 42))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Flush(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush with a cancelled context: %v", err)
	}
	if got := load(t, p, id(1)); got.Entries[1].Verified != 42 {
		t.Fatalf("change lost from memory: %+v", got)
	}
	mustNil(t, p.Flush(ctx))
	if got := load(t, second(t, path).Checkpoints(), id(1)); got.Entries[1].Verified != 42 {
		t.Errorf("change not written after the failure: %+v", got)
	}
}

// Many goroutines change entries of one transfer and of several, while
// others load, flush and evict; nothing is lost, in memory or on disk.
func TestCheckpointsConcurrent(t *testing.T) {
	s, path := openTest(t)
	p := s.Checkpoints()
	ctx := context.Background()
	const (
		transfers = 4
		entries   = 200
		workers   = 8 // per transfer, each owning every workers-th entry
		rounds    = 5
	)
	for tr := range transfers {
		mustNil(t, p.Begin(ctx, id(tr), testCheckpoint(entries)))
	}
	final := func(e int) int64 { return int64(rounds * e) }

	stop := make(chan struct{})
	var churn, wg sync.WaitGroup
	churn.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := p.Load(ctx, id(i%transfers)); err != nil {
				t.Error(err)
			}
			if i%5 == 0 {
				if err := p.Flush(ctx); err != nil {
					t.Error(err)
				}
			}
			if i%7 == 0 {
				p.evict(0)
			}
		}
	})
	for tr := range transfers {
		for w := range workers {
			wg.Go(func() {
				for r := 1; r <= rounds; r++ {
					for e := 1 + w; e < entries; e += workers {
						var err error
						if r == rounds && e%2 == 0 {
							err = p.Finish(ctx, id(tr), e, fmt.Sprintf("done/%d", e))
						} else {
							err = p.Save(ctx, id(tr), e, int64(r*e))
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				}
			})
		}
	}
	wg.Wait()
	close(stop)
	churn.Wait()

	check := func(p *Checkpoints, where string) {
		t.Helper()
		for tr := range transfers {
			cp := load(t, p, id(tr))
			if cp == nil || len(cp.Entries) != entries {
				t.Fatalf("%s: transfer %d: %+v", where, tr, cp)
			}
			for e := 1; e < entries; e++ {
				got := cp.Entries[e]
				want := checkpoint.Entry{Offered: got.Offered, Path: got.Offered, Size: int64(1000 + e),
					ModTime: int64(e) << 30, Verified: final(e)}
				if e%2 == 0 {
					want.Path, want.Verified, want.Done = fmt.Sprintf("done/%d", e), want.Size, true
				}
				if got != want {
					t.Errorf("%s: transfer %d entry %d = %+v, want %+v", where, tr, e, got, want)
				}
			}
		}
	}
	check(p, "memory")
	s = reopen(t, s, path)
	check(s.Checkpoints(), "disk")
}

// A folder of 10,000 small files: Begin, a Finish per file, one Flush.
// Timing is logged, not asserted.
func TestCheckpointsManyEntries(t *testing.T) {
	s, path := openTest(t)
	p := s.Checkpoints()
	ctx := context.Background()
	const n = 10_000
	cp := testCheckpoint(n + 1)

	start := time.Now()
	mustNil(t, p.Begin(ctx, id(1), cp))
	begun := time.Now()
	for e := 1; e <= n; e++ {
		mustNil(t, p.Finish(ctx, id(1), e, cp.Entries[e].Path))
	}
	finished := time.Now()
	mustNil(t, p.Flush(ctx))
	flushed := time.Now()
	t.Logf("%d entries: Begin %v, %d Finish %v, Flush %v, total %v", n+1, begun.Sub(start).Round(time.Millisecond),
		n, finished.Sub(begun).Round(time.Millisecond), flushed.Sub(finished).Round(time.Millisecond),
		flushed.Sub(start).Round(time.Millisecond))

	got := load(t, second(t, path).Checkpoints(), id(1))
	if got == nil || len(got.Entries) != n+1 {
		t.Fatalf("read back %v", got)
	}
	for e := 1; e <= n; e++ {
		if en := got.Entries[e]; !en.Done || en.Verified != en.Size || en.Path != cp.Entries[e].Path {
			t.Fatalf("entry %d = %+v", e, en)
		}
	}
}
