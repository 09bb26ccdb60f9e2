package history

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// abs makes an absolute path on this system from slash-separated parts.
func abs(parts ...string) string {
	return filepath.Join(append([]string{string(filepath.Separator)}, parts...)...)
}

// sending makes the n-th outgoing test transfer to user, created at t0+d.
func sending(n int, to string, d time.Duration) Transfer {
	return Transfer{ID: id(n), Outgoing: true, Peer: to, State: TransferQueued,
		Paths: []string{abs("home", "me", "report.pdf")}, Name: "report.pdf", Files: 1, Total: 1000, Created: at(d)}
}

// receiving makes the n-th incoming test transfer from user, created at
// t0+d.
func receiving(n int, from string, d time.Duration) Transfer {
	return Transfer{ID: id(n), Peer: from, State: TransferOffered, Name: "photos/ and 2 more",
		Files: 30, Total: 1 << 30, Created: at(d)}
}

func addTransfer(t testing.TB, s *Store, tr Transfer) {
	t.Helper()
	mustNil(t, s.AddTransfer(context.Background(), tr))
}

// ids lists the transfers' ids.
func ids(ts []Transfer) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestTransferStateFinal(t *testing.T) {
	for _, c := range []struct {
		s     TransferState
		final bool
	}{
		{TransferQueued, false}, {TransferOffered, false}, {TransferActive, false}, {TransferWaiting, false},
		{TransferDone, true}, {TransferFailed, true}, {TransferCancelled, true}, {TransferRejected, true},
		{"bogus", false},
	} {
		if got := c.s.Final(); got != c.final {
			t.Errorf("%s.Final() = %v, want %v", c.s, got, c.final)
		}
	}
}

func TestAddTransferValidation(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	s, _ := openTest(t)
	ctx := context.Background()
	manyPaths := make([]string, MaxTransferPaths+1)
	for i := range manyPaths {
		manyPaths[i] = abs(fmt.Sprint(i))
	}
	for i, c := range []struct {
		name string
		base Transfer
		edit func(*Transfer)
		ok   bool
	}{
		{"outgoing", sending(1, "bob", 0), func(*Transfer) {}, true},
		{"incoming", receiving(1, "bob", 0), func(*Transfer) {}, true},
		{"group member", sending(1, "bob", 0), func(t *Transfer) { t.Group = gid }, true},
		{"accepted", receiving(1, "bob", 0), func(t *Transfer) { t.State, t.Dir = TransferActive, abs("dl") }, true},
		{"no created time", sending(1, "bob", 0), func(t *Transfer) { t.Created = time.Time{} }, true},
		{"every state out", sending(1, "bob", 0), func(t *Transfer) { t.State = TransferWaiting }, true},
		{"non-UTF-8 path", sending(1, "bob", 0), func(t *Transfer) { t.Paths = []string{abs("caf\xe9")} }, true},
		{"most paths", sending(1, "bob", 0), func(t *Transfer) { t.Paths = manyPaths[:MaxTransferPaths] }, true},
		{"longest path", sending(1, "bob", 0), func(t *Transfer) { t.Paths = []string{abs(long(MaxPathBytes - 1))} }, true},
		{"longest name and error", sending(1, "bob", 0), func(t *Transfer) {
			t.Name, t.Error = long(MaxTransferName), long(MaxTransferError)
		}, true},

		{"short id", sending(1, "bob", 0), func(t *Transfer) { t.ID = "abc" }, false},
		{"upper-case id", sending(1, "bob", 0), func(t *Transfer) { t.ID = strings.ToUpper(id(0xabc)) }, false},
		{"no peer", sending(1, "bob", 0), func(t *Transfer) { t.Peer = "" }, false},
		{"peer not canonical", sending(1, "bob", 0), func(t *Transfer) { t.Peer = "Bob" }, false},
		{"bad group", sending(1, "bob", 0), func(t *Transfer) { t.Group = "team" }, false},
		{"no state", sending(1, "bob", 0), func(t *Transfer) { t.State = "" }, false},
		{"unknown state", sending(1, "bob", 0), func(t *Transfer) { t.State = "paused" }, false},
		{"outgoing offered", sending(1, "bob", 0), func(t *Transfer) { t.State = TransferOffered }, false},
		{"incoming queued", receiving(1, "bob", 0), func(t *Transfer) { t.State = TransferQueued }, false},
		{"outgoing without paths", sending(1, "bob", 0), func(t *Transfer) { t.Paths = nil }, false},
		{"too many paths", sending(1, "bob", 0), func(t *Transfer) { t.Paths = manyPaths }, false},
		{"path too long", sending(1, "bob", 0), func(t *Transfer) { t.Paths = []string{abs(long(MaxPathBytes))} }, false},
		{"relative path", sending(1, "bob", 0), func(t *Transfer) { t.Paths = []string{"report.pdf"} }, false},
		{"empty path", sending(1, "bob", 0), func(t *Transfer) { t.Paths = []string{""} }, false},
		{"NUL in path", sending(1, "bob", 0), func(t *Transfer) { t.Paths = []string{abs("a\x00b")} }, false},
		{"outgoing with dir", sending(1, "bob", 0), func(t *Transfer) { t.Dir = abs("dl") }, false},
		{"incoming with paths", receiving(1, "bob", 0), func(t *Transfer) { t.Paths = []string{abs("x")} }, false},
		{"relative dir", receiving(1, "bob", 0), func(t *Transfer) { t.Dir = "Downloads" }, false},
		{"name too long", sending(1, "bob", 0), func(t *Transfer) { t.Name = long(MaxTransferName + 1) }, false},
		{"error too long", sending(1, "bob", 0), func(t *Transfer) { t.Error = long(MaxTransferError + 1) }, false},
		{"negative files", sending(1, "bob", 0), func(t *Transfer) { t.Files = -1 }, false},
		{"negative total", sending(1, "bob", 0), func(t *Transfer) { t.Total = -1 }, false},
		{"negative done", sending(1, "bob", 0), func(t *Transfer) { t.Done = -1 }, false},
		{"negative attempts", sending(1, "bob", 0), func(t *Transfer) { t.Attempts = -1 }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := c.base.clone()
			tr.ID = id(i + 1)
			c.edit(&tr)
			err := s.AddTransfer(ctx, tr)
			if c.ok {
				mustNil(t, err)
				got, err := s.Transfer(ctx, tr.ID)
				mustNil(t, err)
				if !slices.Equal(got.Paths, tr.Paths) || got.Name != tr.Name || got.Error != tr.Error {
					t.Errorf("stored %+v, want %+v", got, tr)
				}
				return
			}
			wantErr(t, err, ErrInvalid)
			if _, err := s.Transfer(ctx, tr.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("invalid transfer stored: %v", err)
			}
		})
	}
}

func TestTransferRoundTrip(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	want := Transfer{
		ID: id(1), Outgoing: true, Peer: "bob", Group: gid, State: TransferWaiting,
		Paths: []string{abs("home", "me", "photos"), abs("home", "me", "notes.txt"), abs("tmp", "caf\xe9")},
		Name:  "photos/ and 2 more", Files: 42, Total: 1 << 40, Done: 12345, Error: "bob went away",
		Created: at(0), Updated: at(time.Second), NextAttempt: at(time.Minute), Attempts: 3,
	}
	addTransfer(t, s, want)
	got, err := s.Transfer(ctx, want.ID)
	mustNil(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	// Defaults: Created is now, Updated is Created, NextAttempt stays zero.
	before := time.Now()
	addTransfer(t, s, Transfer{ID: id(2), Peer: "carol", State: TransferOffered})
	got, err = s.Transfer(ctx, id(2))
	mustNil(t, err)
	if got.Created.Before(before.Add(-time.Millisecond)) || got.Created.After(time.Now()) ||
		!got.Updated.Equal(got.Created) || !got.NextAttempt.IsZero() || got.Paths != nil || got.Outgoing {
		t.Errorf("defaults: %+v", got)
	}
}

func TestAddTransferConflict(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addTransfer(t, s, sending(1, "bob", 0))
	for _, dup := range []Transfer{sending(1, "bob", 0), receiving(1, "carol", time.Hour)} {
		wantErr(t, s.AddTransfer(ctx, dup), ErrConflict)
	}
	got, err := s.Transfer(ctx, id(1))
	mustNil(t, err)
	if !got.Outgoing || got.Peer != "bob" || len(got.Paths) != 1 {
		t.Errorf("original changed: %+v", got)
	}
}

func TestTransferNotFound(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	_, err := s.Transfer(ctx, id(9))
	wantErr(t, err, ErrNotFound)
	called := false
	_, err = s.UpdateTransfer(ctx, id(9), func(*Transfer) error { called = true; return nil })
	wantErr(t, err, ErrNotFound)
	if called {
		t.Error("fn called for a missing transfer")
	}
}

func TestUpdateTransfer(t *testing.T) {
	errStop := errors.New("stop")
	type step struct {
		name string
		fn   func(*Transfer) error
		err  error // wanted, or nil
		want TransferState
	}
	for _, c := range []struct {
		name  string
		start Transfer
		steps []step
	}{
		{"sent", sending(1, "bob", 0), []step{
			{"start", func(t *Transfer) error { t.State, t.Attempts = TransferActive, t.Attempts+1; return nil }, nil, TransferActive},
			{"progress", func(t *Transfer) error { t.Done = 500; return nil }, nil, TransferActive},
			{"broken", func(t *Transfer) error {
				t.State, t.Error, t.NextAttempt = TransferWaiting, "no path", at(time.Hour)
				return nil
			}, nil, TransferWaiting},
			{"resumed", func(t *Transfer) error { t.State, t.Error = TransferActive, ""; return nil }, nil, TransferActive},
			{"done", func(t *Transfer) error { t.State, t.Done = TransferDone, t.Total; return nil }, nil, TransferDone},
		}},
		{"received", receiving(1, "bob", 0), []step{
			{"accepted while away", func(t *Transfer) error { t.State, t.Dir = TransferWaiting, abs("dl"); return nil }, nil, TransferWaiting},
			{"moving", func(t *Transfer) error { t.State = TransferActive; return nil }, nil, TransferActive},
			{"offered again", func(t *Transfer) error { t.State = TransferOffered; return nil }, nil, TransferOffered},
			{"rejected", func(t *Transfer) error { t.State, t.Error = TransferRejected, "declined"; return nil }, nil, TransferRejected},
		}},
		{"refused changes", sending(1, "bob", 0), []step{
			{"id", func(t *Transfer) error { t.ID = id(2); return nil }, ErrInvalid, TransferQueued},
			{"direction", func(t *Transfer) error { t.Outgoing = false; return nil }, ErrInvalid, TransferQueued},
			{"peer", func(t *Transfer) error { t.Peer = "carol"; return nil }, ErrInvalid, TransferQueued},
			{"bad state", func(t *Transfer) error { t.State = "lost"; return nil }, ErrInvalid, TransferQueued},
			{"offered out", func(t *Transfer) error { t.State = TransferOffered; return nil }, ErrInvalid, TransferQueued},
			{"no paths", func(t *Transfer) error { t.State, t.Paths = TransferActive, nil; return nil }, ErrInvalid, TransferQueued},
			{"fn error", func(t *Transfer) error { t.State = TransferFailed; return errStop }, errStop, TransferQueued},
			{"still fine", func(t *Transfer) error { t.State = TransferCancelled; return nil }, nil, TransferCancelled},
			{"out of a final state", func(t *Transfer) error { t.State = TransferQueued; return nil }, nil, TransferQueued},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := openTest(t)
			ctx := context.Background()
			addTransfer(t, s, c.start)
			prev, err := s.Transfer(ctx, c.start.ID)
			mustNil(t, err)
			for _, st := range c.steps {
				var seen Transfer
				got, err := s.UpdateTransfer(ctx, c.start.ID, func(t *Transfer) error {
					seen = t.clone()
					return st.fn(t)
				})
				if !reflect.DeepEqual(seen, prev) {
					t.Fatalf("%s: fn saw %+v, want %+v", st.name, seen, prev)
				}
				stored, serr := s.Transfer(ctx, c.start.ID)
				mustNil(t, serr)
				if st.err != nil {
					if !errors.Is(err, st.err) {
						t.Fatalf("%s: err = %v, want %v", st.name, err, st.err)
					}
					if !reflect.DeepEqual(stored, prev) {
						t.Fatalf("%s: failed update changed %+v to %+v", st.name, prev, stored)
					}
					continue
				}
				mustNil(t, err)
				if got.State != st.want || !reflect.DeepEqual(got, stored) {
					t.Fatalf("%s: returned %+v, stored %+v, want state %s", st.name, got, stored, st.want)
				}
				if !got.Updated.After(prev.Updated) || !got.Created.Equal(prev.Created) {
					t.Errorf("%s: updated %v after %v, created %v", st.name, got.Updated, prev.Updated, got.Created)
				}
				prev = stored
			}
		})
	}
}

func TestUpdateTransferNoChange(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addTransfer(t, s, sending(1, "bob", 0))
	before, err := s.Transfer(ctx, id(1))
	mustNil(t, err)
	got, err := s.UpdateTransfer(ctx, id(1), func(t *Transfer) error {
		t.Done = 0 // as it was
		return nil
	})
	mustNil(t, err)
	if !reflect.DeepEqual(got, before) {
		t.Errorf("no-op update: %+v, want %+v", got, before)
	}
}

func TestUpdateTransferPaths(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addTransfer(t, s, sending(1, "bob", 0))
	addTransfer(t, s, sending(2, "carol", 0))
	paths := []string{abs("b"), abs("a"), abs("c")}
	got, err := s.UpdateTransfer(ctx, id(1), func(t *Transfer) error {
		t.Paths = paths
		return nil
	})
	mustNil(t, err)
	paths[0] = abs("changed") // the store holds its own copy
	stored, err := s.Transfer(ctx, id(1))
	mustNil(t, err)
	want := []string{abs("b"), abs("a"), abs("c")}
	if !slices.Equal(got.Paths, want) || !slices.Equal(stored.Paths, want) {
		t.Errorf("paths = %q, stored %q, want %q", got.Paths, stored.Paths, want)
	}
	other, err := s.Transfer(ctx, id(2))
	mustNil(t, err)
	if !slices.Equal(other.Paths, []string{abs("home", "me", "report.pdf")}) {
		t.Errorf("other transfer's paths = %q", other.Paths)
	}
}

// Concurrent read-modify-writes never undo each other.
func TestUpdateTransferConcurrent(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addTransfer(t, s, sending(1, "bob", 0))
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := s.UpdateTransfer(ctx, id(1), func(t *Transfer) error {
					t.Attempts++
					t.Done += 10
					return nil
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := s.Transfer(ctx, id(1))
	mustNil(t, err)
	if got.Attempts != workers*each || got.Done != 10*workers*each {
		t.Errorf("attempts %d, done %d; want %d, %d", got.Attempts, got.Done, workers*each, 10*workers*each)
	}
}

func TestTransfersOrder(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	// Added out of time order; 3 and 4 at the same time keep the order of
	// insertion.
	for _, tr := range []Transfer{
		sending(1, "bob", 2*time.Second),
		receiving(2, "carol", 1*time.Second),
		sending(3, "carol", 5*time.Second),
		sending(4, "dave", 5*time.Second),
		receiving(5, "bob", 3*time.Second),
		sending(6, "bob", 0),
		receiving(7, "dave", 4*time.Second),
	} {
		addTransfer(t, s, tr)
	}
	set := func(n int, st TransferState) {
		t.Helper()
		_, err := s.UpdateTransfer(ctx, id(n), func(t *Transfer) error {
			t.State = st
			if !t.Outgoing && t.Dir == "" && st != TransferOffered && !st.Final() {
				t.Dir = abs("dl")
			}
			return nil
		})
		mustNil(t, err)
	}
	set(1, TransferActive) // a daemon died mid-transfer
	set(3, TransferWaiting)
	set(4, TransferDone)
	set(6, TransferFailed)
	set(7, TransferActive)

	check := func(s *Store) {
		t.Helper()
		for _, c := range []struct {
			name string
			list func() ([]Transfer, error)
			want []string
		}{
			{"all", func() ([]Transfer, error) { return s.Transfers(ctx, 100) }, []string{id(4), id(3), id(7), id(5), id(1), id(2), id(6)}},
			{"newest 3", func() ([]Transfer, error) { return s.Transfers(ctx, 3) }, []string{id(4), id(3), id(7)}},
			{"none", func() ([]Transfer, error) { return s.Transfers(ctx, 0) }, nil},
			{"resumable", func() ([]Transfer, error) { return s.ResumableTransfers(ctx) }, []string{id(1), id(3)}},
			{"offers", func() ([]Transfer, error) { return s.PendingOffers(ctx) }, []string{id(2), id(5)}},
		} {
			ts, err := c.list()
			mustNil(t, err)
			if got := ids(ts); !slices.Equal(got, c.want) {
				t.Errorf("%s = %v, want %v", c.name, got, c.want)
			}
			for _, tr := range ts {
				if tr.Outgoing != (len(tr.Paths) > 0) {
					t.Errorf("%s: %s has paths %q", c.name, tr.ID, tr.Paths)
				}
			}
		}
	}
	check(s)
	mustNil(t, s.Close())
	s2, err := Open(ctx, path)
	mustNil(t, err)
	defer s2.Close()
	check(s2)
}

// A database made before transfers existed gains them and keeps its
// messages.
func TestMigrateToTransfers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{Migrations: migrations[:1]})
	mustNil(t, err)
	_, err = db.Writer().ExecContext(ctx, `INSERT INTO conversations (id) VALUES ('u:alice')`)
	mustNil(t, err)
	_, err = db.Writer().ExecContext(ctx, `INSERT INTO messages (id, conversation, sender, kind, body, sent, received, outgoing, state)
		VALUES (?, 'u:alice', 'alice', 'text', 'hi', 1, 1, 0, 'received')`, id(1))
	mustNil(t, err)
	mustNil(t, db.Close())

	s, err := Open(ctx, path)
	mustNil(t, err)
	defer s.Close()
	var v int
	mustNil(t, s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v))
	if v != schemaVersion {
		t.Errorf("user_version = %d, want %d", v, schemaVersion)
	}
	if m, err := s.Message(ctx, "alice", id(1)); err != nil || m.Body != "hi" {
		t.Errorf("message after migration: %+v, %v", m, err)
	}
	addTransfer(t, s, sending(2, "alice", 0))
	mustNil(t, s.Checkpoints().Begin(ctx, id(2), testCheckpoint(2)))
}

// A cancelled outgoing transfer may owe its receiver a cancel notice;
// CancelNotices lists those until the notice is marked delivered. No
// other transfer can owe one.
func TestCancelNotices(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addTransfer(t, s, sending(1, "bob", 0))
	addTransfer(t, s, sending(2, "bob", time.Second))
	addTransfer(t, s, receiving(3, "carol", 2*time.Second))
	for _, n := range []int{2, 1} {
		_, err := s.UpdateTransfer(ctx, id(n), func(tr *Transfer) error {
			tr.State, tr.NoticeOwed = TransferCancelled, true
			return nil
		})
		mustNil(t, err)
	}
	got, err := s.CancelNotices(ctx)
	mustNil(t, err)
	if !slices.Equal(ids(got), []string{id(1), id(2)}) || !got[0].NoticeOwed {
		t.Fatalf("notices %v, want %s and %s, owed", ids(got), id(1), id(2))
	}
	_, err = s.UpdateTransfer(ctx, id(1), func(tr *Transfer) error { tr.NoticeOwed = false; return nil })
	mustNil(t, err)
	if got, _ := s.CancelNotices(ctx); !slices.Equal(ids(got), []string{id(2)}) {
		t.Errorf("notices after one was delivered: %v", ids(got))
	}
	for _, c := range []struct {
		n     int
		state TransferState
	}{{3, TransferCancelled}, {2, TransferFailed}} {
		_, err := s.UpdateTransfer(ctx, id(c.n), func(tr *Transfer) error {
			tr.State, tr.NoticeOwed = c.state, true
			return nil
		})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("notice owed by transfer %d, %s: %v, want ErrInvalid", c.n, c.state, err)
		}
	}
}
