package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

func relayMsg(to, id string, n int, created time.Time) RelayMessage {
	return RelayMessage{Recipient: to, ID: id, Sender: "alice", Envelope: bytes.Repeat([]byte{'e'}, n), Created: created}
}

// fromAlice names alice's messages ids.
func fromAlice(ids ...string) []RelayRef {
	out := make([]RelayRef, 0, len(ids))
	for _, id := range ids {
		out = append(out, RelayRef{Sender: "alice", ID: id})
	}
	return out
}

func put(t *testing.T, s suiteStore, m RelayMessage, q Quota) {
	t.Helper()
	ok, err := s.PutRelay(context.Background(), m, q)
	mustNil(t, err)
	if !ok {
		t.Fatalf("PutRelay(%s): not inserted", m.ID)
	}
}

func relayIDs(ms []RelayMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// checkTotals checks the trigger-kept totals against the relay table and
// against want.
func checkTotals(t *testing.T, s suiteStore, recipient string, wantCount int, wantBytes int64) {
	t.Helper()
	ctx := context.Background()
	var count, bytes int64
	err := s.rawRow(ctx, `SELECT count, bytes FROM relay_totals WHERE recipient = ?`, recipient).Scan(&count, &bytes)
	if err != nil && !errorsIsNotFound(err) {
		t.Fatal(err)
	}
	var realCount, realBytes int64
	mustNil(t, s.rawRow(ctx, `SELECT COUNT(*), COALESCE(SUM(length(envelope)), 0) FROM relay
		WHERE recipient = ?`, recipient).Scan(&realCount, &realBytes))
	if count != realCount || bytes != realBytes {
		t.Errorf("totals for %s = %d/%d, table has %d/%d", recipient, count, bytes, realCount, realBytes)
	}
	if count != int64(wantCount) || bytes != wantBytes {
		t.Errorf("totals for %s = %d/%d, want %d/%d", recipient, count, bytes, wantCount, wantBytes)
	}
}

func TestPutRelayAndPending(t *testing.T) { eachStore(t, testPutRelayAndPending) }

func testPutRelayAndPending(t *testing.T, s suiteStore) {
	ctx := context.Background()
	m := RelayMessage{Recipient: "bob", ID: "m1", Sender: "alice", Envelope: []byte{0, 1, 2, 255}, Created: at(0)}
	put(t, s, m, Quota{MaxCount: 10, MaxBytes: 100})

	got, err := s.PendingRelay(ctx, "bob", 0, 10)
	mustNil(t, err)
	if len(got) != 1 {
		t.Fatalf("pending = %+v", got)
	}
	g := got[0]
	if g.Seq <= 0 || g.Recipient != "bob" || g.ID != "m1" || g.Sender != "alice" ||
		!bytes.Equal(g.Envelope, m.Envelope) || !g.Created.Equal(m.Created) || g.Created.Location() != time.UTC {
		t.Errorf("stored %+v", g)
	}

	// Idempotent: same recipient, sender and id is false, nil and
	// changes nothing, even with different content.
	dup := m
	dup.Envelope, dup.Created = []byte("other"), at(time.Hour)
	ok, err := s.PutRelay(ctx, dup, Quota{MaxCount: 10, MaxBytes: 100})
	mustNil(t, err)
	if ok {
		t.Error("duplicate inserted")
	}
	again, err := s.PendingRelay(ctx, "bob", 0, 10)
	mustNil(t, err)
	if len(again) != 1 || again[0].Seq != g.Seq || !bytes.Equal(again[0].Envelope, m.Envelope) ||
		again[0].Sender != "alice" || !again[0].Created.Equal(m.Created) {
		t.Errorf("duplicate changed the store: %+v", again)
	}
	checkTotals(t, s, "bob", 1, 4)

	// The same id from another sender is another message.
	put(t, s, RelayMessage{Recipient: "bob", ID: "m1", Sender: "mallory", Envelope: []byte("x"), Created: at(0)}, Quota{})
	_, err = s.AckRelay(ctx, "bob", []RelayRef{{Sender: "mallory", ID: "m1"}}, nil, at(0))
	mustNil(t, err)
	checkTotals(t, s, "bob", 1, 4)

	// The same id for another recipient is a different message.
	put(t, s, RelayMessage{Recipient: "carol", ID: "m1", Sender: "alice", Created: at(0)}, Quota{})
	// A nil envelope round-trips.
	got, err = s.PendingRelay(ctx, "carol", 0, 10)
	mustNil(t, err)
	if len(got) != 1 || len(got[0].Envelope) != 0 {
		t.Errorf("carol's = %+v", got)
	}
	got, err = s.PendingRelay(ctx, "nobody", 0, 10)
	mustNil(t, err)
	if len(got) != 0 {
		t.Errorf("nobody's = %+v", got)
	}
}

func TestPendingRelayCursor(t *testing.T) { eachStore(t, testPendingRelayCursor) }

func testPendingRelayCursor(t *testing.T, s suiteStore) {
	ctx := context.Background()
	// Interleave two recipients, with creation times out of order: order is
	// arrival (seq), not Created.
	var ids []string
	for i := range 10 {
		id := fmt.Sprintf("m%d", i)
		put(t, s, relayMsg("bob", id, 1, at(-time.Duration(i)*time.Second)), Quota{})
		put(t, s, relayMsg("carol", id, 1, at(0)), Quota{})
		ids = append(ids, id)
	}
	all, err := s.PendingRelay(ctx, "bob", 0, 100)
	mustNil(t, err)
	if got := relayIDs(all); !slices.Equal(got, ids) {
		t.Fatalf("order = %v", got)
	}
	// Page through with the cursor.
	var paged []string
	cursor := int64(0)
	for {
		page, err := s.PendingRelay(ctx, "bob", cursor, 3)
		mustNil(t, err)
		if len(page) > 3 {
			t.Fatalf("page of %d > limit", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			if m.Seq <= cursor {
				t.Fatalf("seq %d not after cursor %d", m.Seq, cursor)
			}
			paged = append(paged, m.ID)
			cursor = m.Seq
		}
	}
	if !slices.Equal(paged, ids) {
		t.Errorf("paged = %v", paged)
	}
	// after is exclusive.
	rest, err := s.PendingRelay(ctx, "bob", all[4].Seq, 100)
	mustNil(t, err)
	if got := relayIDs(rest); !slices.Equal(got, ids[5:]) {
		t.Errorf("after seq of m4 = %v", got)
	}
	// Zero limit returns nothing.
	none, err := s.PendingRelay(ctx, "bob", 0, 0)
	mustNil(t, err)
	if len(none) != 0 {
		t.Errorf("limit 0 = %v", none)
	}
	// A new message lands after everything else, even after acks.
	_, err = s.AckRelay(ctx, "bob", fromAlice(ids...), nil, at(0))
	mustNil(t, err)
	put(t, s, relayMsg("bob", "new", 1, at(0)), Quota{})
	after, err := s.PendingRelay(ctx, "bob", cursor, 10)
	mustNil(t, err)
	if got := relayIDs(after); !slices.Equal(got, []string{"new"}) {
		t.Errorf("after acks = %v", got)
	}
}

func TestRelayQuota(t *testing.T) {
	for _, c := range []struct {
		name    string
		q       Quota
		sizes   []int // stored in order; all must fit
		next    int   // size of the one that must not
		nextOK  bool
		ackThen bool // after acking the first, next fits
	}{
		{name: "count", q: Quota{MaxCount: 3, MaxBytes: 1 << 20}, sizes: []int{1, 1, 1}, next: 1, ackThen: true},
		{name: "bytes", q: Quota{MaxCount: 100, MaxBytes: 10}, sizes: []int{4, 4}, next: 3, ackThen: true},
		{name: "bytes exact fit", q: Quota{MaxCount: 100, MaxBytes: 10}, sizes: []int{4, 4}, next: 2, nextOK: true},
		{name: "one too big", q: Quota{MaxCount: 100, MaxBytes: 10}, sizes: nil, next: 11},
		{name: "no limits", q: Quota{}, sizes: []int{1000, 1000, 1000}, next: 1000, nextOK: true},
		{name: "count unlimited", q: Quota{MaxBytes: 5}, sizes: []int{1, 1, 1, 1, 1}, next: 1, ackThen: true},
	} {
		eachStore(t, func(t *testing.T, s suiteStore) {
			t.Run(c.name, func(t *testing.T) {
				ctx := context.Background()
				var total int64
				for i, n := range c.sizes {
					put(t, s, relayMsg("bob", fmt.Sprintf("m%d", i), n, at(0)), c.q)
					total += int64(n)
				}
				// Another recipient's messages do not count.
				put(t, s, relayMsg("carol", "x", 5, at(0)), Quota{})

				ok, err := s.PutRelay(ctx, relayMsg("bob", "next", c.next, at(0)), c.q)
				if c.nextOK {
					mustNil(t, err)
					if !ok {
						t.Error("not inserted")
					}
					return
				}
				wantErr(t, err, ErrQuota)
				if ok {
					t.Error("ErrQuota with inserted = true")
				}
				// Nothing was stored.
				all, err := s.PendingRelay(ctx, "bob", 0, 100)
				mustNil(t, err)
				if len(all) != len(c.sizes) {
					t.Errorf("stored %d, want %d", len(all), len(c.sizes))
				}
				checkTotals(t, s, "bob", len(c.sizes), total)
				// A duplicate of a stored message is still false, nil at quota.
				if len(c.sizes) > 0 {
					ok, err := s.PutRelay(ctx, relayMsg("bob", "m0", c.sizes[0], at(0)), c.q)
					if err != nil || ok {
						t.Errorf("duplicate at quota = %v, %v", ok, err)
					}
				}
				if c.ackThen {
					n, err := s.AckRelay(ctx, "bob", fromAlice("m0"), nil, at(0))
					mustNil(t, err)
					if n != 1 {
						t.Fatalf("acked %d", n)
					}
					put(t, s, relayMsg("bob", "next", c.next, at(0)), c.q)
				}
			})
		})
	}
}

func TestAckRelay(t *testing.T) { eachStore(t, testAckRelay) }

func testAckRelay(t *testing.T, s suiteStore) {
	ctx := context.Background()
	for i := range 5 {
		put(t, s, relayMsg("bob", fmt.Sprintf("m%d", i), 10, at(0)), Quota{})
	}
	put(t, s, relayMsg("carol", "m1", 10, at(0)), Quota{})

	// Unknown ids, duplicates in the list, other senders' and other
	// recipients' ids are not counted.
	n, err := s.AckRelay(ctx, "bob", append(fromAlice("m1", "m3", "m3", "nope"), RelayRef{Sender: "carol", ID: "m0"}), nil, at(0))
	mustNil(t, err)
	if n != 2 {
		t.Errorf("acked %d, want 2", n)
	}
	left, err := s.PendingRelay(ctx, "bob", 0, 10)
	mustNil(t, err)
	if got := relayIDs(left); !slices.Equal(got, []string{"m0", "m2", "m4"}) {
		t.Errorf("left = %v", got)
	}
	carol, err := s.PendingRelay(ctx, "carol", 0, 10)
	mustNil(t, err)
	if len(carol) != 1 {
		t.Errorf("carol's m1 acked by bob")
	}
	checkTotals(t, s, "bob", 3, 30)

	n, err = s.AckRelay(ctx, "bob", nil, nil, at(0))
	mustNil(t, err)
	if n != 0 {
		t.Errorf("empty ack = %d", n)
	}
	n, err = s.AckRelay(ctx, "bob", fromAlice("m1"), nil, at(0))
	mustNil(t, err)
	if n != 0 {
		t.Errorf("second ack = %d", n)
	}
	// More ids than one statement binds.
	var many []string
	for i := range 1200 {
		id := fmt.Sprintf("bulk%d", i)
		put(t, s, relayMsg("dave", id, 1, at(0)), Quota{})
		many = append(many, id)
	}
	n, err = s.AckRelay(ctx, "dave", fromAlice(many...), nil, at(0))
	mustNil(t, err)
	if n != 1200 {
		t.Errorf("bulk ack = %d", n)
	}
	checkTotals(t, s, "dave", 0, 0)
}

func TestExpireRelay(t *testing.T) { eachStore(t, testExpireRelay) }

func testExpireRelay(t *testing.T, s suiteStore) {
	ctx := context.Background()
	put(t, s, relayMsg("bob", "old", 3, at(-2*time.Hour)), Quota{})
	put(t, s, relayMsg("carol", "old", 3, at(-time.Hour)), Quota{})
	put(t, s, relayMsg("bob", "edge", 3, at(0)), Quota{})
	put(t, s, relayMsg("bob", "new", 3, at(time.Hour)), Quota{})

	n, senders, err := s.ExpireRelay(ctx, at(0), at(time.Minute))
	mustNil(t, err)
	if n != 2 || !slices.Equal(senders, []string{"alice"}) {
		t.Errorf("expired %d, senders %v; want 2 of alice's", n, senders)
	}
	drops, err := s.RelayDrops(ctx, "alice", 10)
	mustNil(t, err)
	want := []RelayDrop{
		{Sender: "alice", Recipient: "bob", ID: "old", Reason: "expired", At: at(time.Minute)},
		{Sender: "alice", Recipient: "carol", ID: "old", Reason: "expired", At: at(time.Minute)},
	}
	if fmt.Sprint(drops) != fmt.Sprint(want) {
		t.Errorf("drops = %+v, want %+v", drops, want)
	}
	bob, err := s.PendingRelay(ctx, "bob", 0, 10)
	mustNil(t, err)
	if got := relayIDs(bob); !slices.Equal(got, []string{"edge", "new"}) {
		t.Errorf("bob's = %v", got)
	}
	carol, err := s.PendingRelay(ctx, "carol", 0, 10)
	mustNil(t, err)
	if len(carol) != 0 {
		t.Errorf("carol's = %v", relayIDs(carol))
	}
	checkTotals(t, s, "bob", 2, 6)
	checkTotals(t, s, "carol", 0, 0)

	n, senders, err = s.ExpireRelay(ctx, at(0), at(time.Minute))
	mustNil(t, err)
	if n != 0 || len(senders) != 0 {
		t.Errorf("second expiry removed %d, senders %v", n, senders)
	}
	// Notices older than the retention go too.
	n, _, err = s.ExpireRelay(ctx, at(2*time.Hour), at(3*time.Hour))
	mustNil(t, err)
	if n != 2 {
		t.Errorf("expired %d, want 2", n)
	}
	drops, err = s.RelayDrops(ctx, "alice", 10)
	mustNil(t, err)
	if len(drops) != 2 || drops[0].ID != "edge" || drops[1].ID != "new" {
		t.Errorf("drops after the second expiry = %+v", drops)
	}
	k, err := s.AckRelayDrops(ctx, "alice", []DropRef{{Recipient: "bob", ID: "edge"}, {Recipient: "carol", ID: "edge"}})
	mustNil(t, err)
	if k != 1 {
		t.Errorf("acked %d drops, want 1", k)
	}
	// An expired id may be relayed again.
	put(t, s, relayMsg("bob", "old", 3, at(3*time.Hour)), Quota{})
}
