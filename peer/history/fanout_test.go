package history

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestQueuedCopies: a group message's queued copies are read together,
// each recipient's sorted as its queue says: first in line, behind an
// earlier copy, or held for a key change; copies already sent are in no
// list.
func TestQueuedCopies(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	for i, u := range []string{"bob", "carol", "dave", "erin"} {
		_, err := s.PinKey(ctx, u, key(byte(i+1)))
		mustNil(t, err)
	}
	_, err := s.PinKey(ctx, "dave", key(9)) // dave's key changed: held
	mustNil(t, err)
	addOut(t, s, out(1, Direct("carol"), "earlier", 0), "carol")
	addOut(t, s, out(2, Group(gid), "to all", time.Second), "bob", "carol", "dave", "erin")
	mustNil(t, s.Done(ctx, id(2), "erin", ViaRelay))
	mustNil(t, s.Attempted(ctx, id(2), "bob", at(time.Minute)))

	f, err := s.QueuedCopies(ctx, "self", id(2))
	mustNil(t, err)
	if len(f.Heads) != 1 || f.Heads[0].To != "bob" || f.Heads[0].Message.ID != id(2) || f.Heads[0].Message.Body != "to all" ||
		f.Heads[0].Attempts != 1 || !f.Heads[0].NextAttempt.Equal(at(time.Minute)) {
		t.Errorf("heads = %+v, want bob's copy, tried once", f.Heads)
	}
	if !slices.Equal(f.Behind, []string{"carol"}) || !slices.Equal(f.Held, []string{"dave"}) {
		t.Errorf("behind %v, held %v; want [carol], [dave]", f.Behind, f.Held)
	}
	if _, err := s.QueuedCopies(ctx, "self", id(9)); err == nil {
		t.Error("copies of a message that does not exist")
	}
	if _, err := s.QueuedCopies(ctx, "bob", id(2)); err == nil {
		t.Error("copies of another sender's message")
	}
}

// TestDoneMany: many copies of one message are marked in one transaction,
// states only move forward, and the message's state follows its copies'.
func TestDoneMany(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	to := []string{"bob", "carol", "dave", "erin"}
	addOut(t, s, out(1, Group(gid), "to all", 0), to...)
	mustNil(t, s.Done(ctx, id(1), "carol", ViaDirect)) // delivered already

	before := s.Commits()
	mustNil(t, s.DoneMany(ctx, id(1), []string{"bob", "carol", "dave", "nobody"}, ViaRelay))
	if after := s.Commits(); after.Writes-before.Writes != 1 {
		t.Errorf("%d writes to mark three copies, want 1", after.Writes-before.Writes)
	}
	wantState(t, s, 1, StateQueued, ViaRelay) // erin's copy waits
	for _, c := range []struct {
		to    string
		state State
	}{{"bob", StateSent}, {"carol", StateDelivered}, {"dave", StateSent}} {
		if got := copyState(t, s, 1, c.to); got != c.state {
			t.Errorf("%s's copy %s, want %s", c.to, got, c.state)
		}
	}
	if got := pending(t, s, "erin"); !slices.Equal(got, []string{id(1)}) {
		t.Errorf("erin's queue %v", got)
	}
	mustNil(t, s.DoneMany(ctx, id(1), []string{"erin"}, ViaRelay))
	wantState(t, s, 1, StateSent, ViaRelay)
	if err := s.DoneMany(ctx, id(1), []string{"erin"}, ViaNone); err == nil {
		t.Error("DoneMany with no path")
	}
	mustNil(t, s.DoneMany(ctx, id(1), nil, ViaRelay))
}

// copyState is the state of message n's copy for to.
func copyState(t *testing.T, s *Store, n int, to string) State {
	t.Helper()
	var st State
	err := s.w.QueryRow(`SELECT d.state FROM deliveries d JOIN messages m ON m.seq = d.message
		WHERE m.id = ? AND d.recipient = ?`, id(n), to).Scan(&st)
	mustNil(t, err)
	return st
}
