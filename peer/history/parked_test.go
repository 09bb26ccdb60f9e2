package history

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

func parkedIDs(t *testing.T, s *Store) []string {
	t.Helper()
	ps, err := s.ParkedAfter(context.Background(), 0, 1000)
	mustNil(t, err)
	out := []string{}
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s/%d", p.Sender, mustParse(p.ID)))
	}
	return out
}

func mustParse(id string) int {
	var n int
	fmt.Sscanf(id, "%x", &n)
	return n
}

func parkOf(sender string, n, size int) Parked {
	return Parked{Sender: sender, ID: id(n), Reason: ParkGroup, Group: gid,
		Envelope: bytes.Repeat([]byte{byte(n)}, size), At: at(time.Duration(n) * time.Second)}
}

func TestParkBoundsAndUpsert(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	lim := ParkLimits{SenderCount: 3, SenderBytes: 100, TotalCount: 5, TotalBytes: 1000}

	dropped, err := s.Park(ctx, []Parked{parkOf("mallory", 1, 10), parkOf("mallory", 2, 10), parkOf("alice", 3, 10)}, lim)
	mustNil(t, err)
	if len(dropped) != 0 {
		t.Fatalf("dropped %+v within the bounds", dropped)
	}
	// Mallory's fourth pushes out her oldest, not alice's.
	dropped, err = s.Park(ctx, []Parked{parkOf("mallory", 4, 10), parkOf("mallory", 5, 10)}, lim)
	mustNil(t, err)
	if len(dropped) != 1 || dropped[0].ID != id(1) || dropped[0].Sender != "mallory" {
		t.Fatalf("dropped %+v, want mallory's oldest", dropped)
	}
	if got := parkedIDs(t, s); !slices.Equal(got, []string{"mallory/2", "alice/3", "mallory/4", "mallory/5"}) {
		t.Fatalf("parked = %v", got)
	}
	// Bytes count too: one big envelope pushes out her older ones.
	dropped, err = s.Park(ctx, []Parked{parkOf("mallory", 6, 95)}, lim)
	mustNil(t, err)
	if len(dropped) != 3 {
		t.Fatalf("dropped %d, want mallory's three older ones", len(dropped))
	}
	// The total bound takes the oldest of anyone's.
	for i := 7; i <= 11; i++ {
		_, err = s.Park(ctx, []Parked{parkOf(fmt.Sprintf("user%d", i), i, 1)}, lim)
		mustNil(t, err)
	}
	if got := parkedIDs(t, s); !slices.Equal(got, []string{"user7/7", "user8/8", "user9/9", "user10/10", "user11/11"}) {
		t.Fatalf("parked after the total bound = %v", got)
	}
	// Parking again updates the reason in place and keeps the bytes.
	again := parkOf("user8", 8, 1)
	again.Reason, again.Group, again.Envelope = ParkHeld, "", []byte("other")
	_, err = s.Park(ctx, []Parked{again}, lim)
	mustNil(t, err)
	ps, err := s.ParkedAfter(ctx, 0, 10)
	mustNil(t, err)
	if len(ps) != 5 || ps[1].Sender != "user8" || ps[1].Reason != ParkHeld || ps[1].Group != "" || ps[1].Envelope != nil ||
		!ps[1].At.Equal(at(8*time.Second)) {
		t.Fatalf("re-parked = %+v", ps[1])
	}
	env, err := s.ParkedEnvelope(ctx, ps[1].Seq)
	mustNil(t, err)
	if !bytes.Equal(env, []byte{8}) {
		t.Errorf("envelope = %q", env)
	}
	// Pages, unpark, count.
	page, err := s.ParkedAfter(ctx, ps[2].Seq, 2)
	mustNil(t, err)
	if len(page) != 2 || page[0].ID != id(10) {
		t.Errorf("page after the third = %+v", page)
	}
	mustNil(t, s.Unpark(ctx, "user8", id(8)))
	mustNil(t, s.Unpark(ctx, "user8", id(8)))
	if n, err := s.ParkedCount(ctx); err != nil || n != 4 {
		t.Errorf("count = %d, %v", n, err)
	}
	_, err = s.ParkedEnvelope(ctx, ps[1].Seq)
	wantErr(t, err, ErrNotFound)

	// Bad input parks nothing.
	for _, p := range []Parked{
		{Sender: "Bad Name", ID: id(1), Reason: ParkHeld},
		{Sender: "bob", ID: "xyz", Reason: ParkHeld},
		{Sender: "bob", ID: id(1), Reason: "whim"},
	} {
		_, err := s.Park(ctx, []Parked{parkOf("bob", 20, 1), p}, lim)
		wantErr(t, err, ErrInvalid)
	}
	if n, _ := s.ParkedCount(ctx); n != 4 {
		t.Errorf("count after refused parks = %d", n)
	}
}

func TestClampSent(t *testing.T) {
	arrival := at(0)
	for _, c := range []struct {
		claimed, sent, orig time.Time
	}{
		{at(0), at(0), time.Time{}},
		{at(-24 * time.Hour), at(-24 * time.Hour), time.Time{}},
		{at(-24*time.Hour - 1), at(-24 * time.Hour), at(-24*time.Hour - 1)},
		{at(2 * time.Minute), at(2 * time.Minute), time.Time{}},
		{at(2*time.Minute + 1), at(2 * time.Minute), at(2*time.Minute + 1)},
		{at(-10 * 24 * time.Hour), at(-24 * time.Hour), at(-10 * 24 * time.Hour)},
	} {
		sent, orig := ClampSent(c.claimed, arrival)
		if !sent.Equal(c.sent) || !orig.Equal(c.orig) {
			t.Errorf("ClampSent(%v) = %v, %v; want %v, %v", c.claimed.Sub(arrival), sent.Sub(arrival), orig, c.sent.Sub(arrival), c.orig)
		}
	}
	// The claimed time is stored beside the clamped one.
	s, _ := openTest(t)
	m := in(1, "alice", "from the future", 0)
	m.Sent, m.Claimed = ClampSent(at(time.Hour), at(0))
	addIn(t, s, m)
	got, err := s.Message(context.Background(), "alice", id(1))
	mustNil(t, err)
	if !got.Sent.Equal(at(2*time.Minute)) || !got.Claimed.Equal(at(time.Hour)) {
		t.Errorf("stored sent %v claimed %v", got.Sent, got.Claimed)
	}
}

func TestFailedCopy(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addOut(t, s, out(1, Group(gid), "to all", 0), "alice", "bob")
	mustNil(t, s.Done(ctx, id(1), "alice", ViaRelay))
	mustNil(t, s.Done(ctx, id(1), "bob", ViaRelay))
	mustNil(t, s.Delivered(ctx, id(1), "alice"))
	mustNil(t, s.Failed(ctx, id(1), "bob", "dropped undelivered"))
	m, err := s.Message(ctx, "self", id(1))
	mustNil(t, err)
	if m.State != StateFailed || m.Error != "bob: dropped undelivered" {
		t.Fatalf("message = %s %q", m.State, m.Error)
	}
	// A delivered copy does not fail; a failed one may still be
	// delivered, and the message is then delivered.
	mustNil(t, s.Failed(ctx, id(1), "alice", "late notice"))
	mustNil(t, s.Done(ctx, id(1), "bob", ViaRelay)) // never back to sent
	m, _ = s.Message(ctx, "self", id(1))
	if m.State != StateFailed || m.Error != "bob: dropped undelivered" {
		t.Fatalf("after a late notice: %s %q", m.State, m.Error)
	}
	mustNil(t, s.Delivered(ctx, id(1), "bob"))
	m, _ = s.Message(ctx, "self", id(1))
	if m.State != StateDelivered || m.Error != "" {
		t.Fatalf("after the receipt: %s %q", m.State, m.Error)
	}
	wantErr(t, s.Failed(ctx, id(2), "bob", "x"), ErrNotFound)
	// An incoming message with the same id is not an outgoing copy.
	addIn(t, s, in(3, "bob", "hi", 0))
	wantErr(t, s.Failed(ctx, id(3), "bob", "x"), ErrNotFound)
}
