package history

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func pending(t *testing.T, s *Store, to string) []string {
	t.Helper()
	items, err := s.Pending(context.Background(), to, 100)
	mustNil(t, err)
	var ids []string
	for _, it := range items {
		if it.To != to || !it.Message.Outgoing || it.Message.State != StateQueued {
			t.Errorf("item = %+v", it)
		}
		ids = append(ids, it.Message.ID)
	}
	return ids
}

func state(t *testing.T, s *Store, n int) (State, Via) {
	t.Helper()
	m, err := s.Message(context.Background(), "self", id(n))
	mustNil(t, err)
	return m.State, m.Via
}

func wantState(t *testing.T, s *Store, n int, st State, via Via) {
	t.Helper()
	if gotSt, gotVia := state(t, s, n); gotSt != st || gotVia != via {
		t.Errorf("message %d: %s via %q, want %s via %q", n, gotSt, gotVia, st, via)
	}
}

func TestOutboxOrder(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	// Interleaved conversations; written in id order, with clocks that
	// disagree: the outbox keeps the order of writing.
	addOut(t, s, out(1, Direct("bob"), "b1", 5*time.Second), "bob")
	addOut(t, s, out(2, Group(gid), "g1", 1*time.Second), "bob", "carol", "bob")
	addOut(t, s, out(3, Direct("carol"), "c1", 2*time.Second), "carol")
	addOut(t, s, out(4, Direct("bob"), "b2", 3*time.Second), "bob")
	addOut(t, s, out(5, Group(gid), "g2", 4*time.Second), "bob", "carol")

	if got, want := pending(t, s, "bob"), []string{id(1), id(2), id(4), id(5)}; !slices.Equal(got, want) {
		t.Errorf("bob's outbox = %v, want %v", got, want)
	}
	if got, want := pending(t, s, "carol"), []string{id(2), id(3), id(5)}; !slices.Equal(got, want) {
		t.Errorf("carol's outbox = %v, want %v", got, want)
	}
	items, err := s.Pending(ctx, "bob", 2)
	mustNil(t, err)
	if len(items) != 2 || items[1].Message.Body != "g1" || items[1].Message.Conversation != Group(gid) ||
		!items[1].Message.Sent.Equal(at(time.Second)) || items[1].Message.From != "self" {
		t.Errorf("first two = %+v", items)
	}
	rs, err := s.PendingRecipients(ctx)
	mustNil(t, err)
	if !slices.Equal(rs, []string{"bob", "carol"}) {
		t.Errorf("recipients = %q", rs)
	}

	// Back-off bookkeeping.
	mustNil(t, s.Attempted(ctx, id(1), "bob", at(time.Minute)))
	mustNil(t, s.Attempted(ctx, id(1), "bob", at(2*time.Minute)))
	items, err = s.Pending(ctx, "bob", 1)
	mustNil(t, err)
	if items[0].Attempts != 2 || !items[0].NextAttempt.Equal(at(2*time.Minute)) {
		t.Errorf("after two attempts: %+v", items[0])
	}
	wantErr(t, s.Attempted(ctx, id(3), "bob", at(0)), ErrNotFound)

	// Done takes copies out; the rest keep their order.
	mustNil(t, s.Done(ctx, id(1), "bob", ViaDirect))
	mustNil(t, s.Done(ctx, id(4), "bob", ViaRelay))
	if got, want := pending(t, s, "bob"), []string{id(2), id(5)}; !slices.Equal(got, want) {
		t.Errorf("bob's outbox = %v, want %v", got, want)
	}
	wantErr(t, s.Attempted(ctx, id(1), "bob", at(0)), ErrNotFound)
	for _, n := range []int{2, 3, 5} {
		mustNil(t, s.Done(ctx, id(n), "carol", ViaRelay))
	}
	for _, n := range []int{2, 5} {
		mustNil(t, s.Done(ctx, id(n), "bob", ViaRelay))
	}
	rs, err = s.PendingRecipients(ctx)
	mustNil(t, err)
	if len(rs) != 0 || len(pending(t, s, "bob")) != 0 {
		t.Errorf("outbox not empty: %q", rs)
	}
}

func TestDeliveryStatesMoveForward(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()

	// Direct: the peer's acknowledgement is delivery.
	addOut(t, s, out(1, Direct("bob"), "hi", 0), "bob")
	wantState(t, s, 1, StateQueued, ViaNone)
	mustNil(t, s.Done(ctx, id(1), "bob", ViaDirect))
	wantState(t, s, 1, StateDelivered, ViaDirect)
	mustNil(t, s.Done(ctx, id(1), "bob", ViaRelay)) // late, stale ack
	wantState(t, s, 1, StateDelivered, ViaDirect)

	// Relay: the server's acknowledgement is sent; a receipt delivers.
	addOut(t, s, out(2, Direct("bob"), "later", time.Second), "bob")
	mustNil(t, s.Done(ctx, id(2), "bob", ViaRelay))
	wantState(t, s, 2, StateSent, ViaRelay)
	mustNil(t, s.Done(ctx, id(2), "bob", ViaRelay)) // duplicate ack
	wantState(t, s, 2, StateSent, ViaRelay)
	mustNil(t, s.Delivered(ctx, id(2), "bob"))
	wantState(t, s, 2, StateDelivered, ViaRelay)
	mustNil(t, s.Delivered(ctx, id(2), "bob"))
	wantState(t, s, 2, StateDelivered, ViaRelay)

	// Group: the message is as far as its least advanced copy.
	addOut(t, s, out(3, Group(gid), "all", 2*time.Second), "bob", "carol")
	mustNil(t, s.Done(ctx, id(3), "bob", ViaDirect))
	wantState(t, s, 3, StateQueued, ViaDirect)
	mustNil(t, s.Done(ctx, id(3), "carol", ViaRelay))
	wantState(t, s, 3, StateSent, ViaRelay)
	mustNil(t, s.Delivered(ctx, id(3), "carol"))
	wantState(t, s, 3, StateDelivered, ViaRelay)
	mustNil(t, s.Done(ctx, id(3), "carol", ViaRelay))
	wantState(t, s, 3, StateDelivered, ViaRelay)

	// A receipt for a copy still queued takes it out of the outbox.
	addOut(t, s, out(4, Direct("bob"), "x", 3*time.Second), "bob")
	mustNil(t, s.Delivered(ctx, id(4), "bob"))
	wantState(t, s, 4, StateDelivered, ViaNone)
	if got := pending(t, s, "bob"); len(got) != 0 {
		t.Errorf("outbox = %v", got)
	}

	// Errors.
	wantErr(t, s.Done(ctx, id(1), "carol", ViaRelay), ErrNotFound)
	wantErr(t, s.Done(ctx, id(99), "bob", ViaRelay), ErrNotFound)
	wantErr(t, s.Delivered(ctx, id(99), "bob"), ErrNotFound)
	wantErr(t, s.Done(ctx, id(1), "bob", ViaNone), ErrInvalid)
	wantErr(t, s.Done(ctx, id(1), "bob", "pigeon"), ErrInvalid)
	// Incoming messages have no copies.
	addIn(t, s, in(5, "bob", "reply", 4*time.Second))
	wantErr(t, s.Done(ctx, id(5), "bob", ViaDirect), ErrNotFound)
	if m, err := s.Message(ctx, "bob", id(5)); err != nil || m.State != StateReceived || m.Via != ViaDirect {
		t.Errorf("incoming = %+v, %v", m, err)
	}
}

func TestAddOutgoingAtomic(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	// Make the second outbox row fail inside the transaction.
	_, err := s.w.Exec(`CREATE TEMP TRIGGER fail BEFORE INSERT ON deliveries
		WHEN NEW.recipient = 'mallory' BEGIN SELECT RAISE(ABORT, 'boom'); END`)
	mustNil(t, err)
	_, err = s.AddOutgoing(ctx, out(1, Group(gid), "hi", 0), []string{"bob", "mallory", "carol"})
	if err == nil {
		t.Fatal("AddOutgoing succeeded")
	}
	for _, table := range []string{"messages", "deliveries", "conversations", "messages_fts"} {
		if n := count(t, s, table); n != 0 {
			t.Errorf("%s has %d rows after a failed AddOutgoing", table, n)
		}
	}
	_, err = s.w.Exec(`DROP TRIGGER temp.fail`)
	mustNil(t, err)

	// Once it works, message and every copy are there together, and
	// repeating the call is harmless.
	addOut(t, s, out(1, Group(gid), "hi", 0), "bob", "mallory", "carol")
	ok, err := s.AddOutgoing(ctx, out(1, Group(gid), "hi", 0), []string{"bob"})
	mustNil(t, err)
	if ok {
		t.Error("duplicate AddOutgoing inserted")
	}
	if n := count(t, s, "deliveries"); n != 3 {
		t.Errorf("%d copies, want 3", n)
	}
}

func TestAddOutgoingInvalid(t *testing.T) {
	s, _ := openTest(t)
	for name, c := range map[string]struct {
		m  Message
		to []string
	}{
		"no recipients":      {out(1, Group(gid), "hi", 0), nil},
		"sender recipient":   {out(1, Group(gid), "hi", 0), []string{"bob", "self"}},
		"bad recipient":      {out(1, Group(gid), "hi", 0), []string{"Bob"}},
		"direct to other":    {out(1, Direct("bob"), "hi", 0), []string{"carol"}},
		"direct to two":      {out(1, Direct("bob"), "hi", 0), []string{"bob", "carol"}},
		"bad id":             {Message{ID: "x", Conversation: Direct("bob"), From: "self", Sent: at(0)}, []string{"bob"}},
		"direct to yourself": {out(1, Direct("self"), "hi", 0), []string{"self"}},
	} {
		_, err := s.AddOutgoing(context.Background(), c.m, c.to)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if n := count(t, s, "messages"); n != 0 {
		t.Errorf("%d rows stored", n)
	}
}

func TestHeldContactStopsOutbox(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	pin(t, s, "bob", key(1), PinNew)
	addOut(t, s, out(1, Direct("bob"), "hi", 0), "bob")
	addOut(t, s, out(2, Group(gid), "all", time.Second), "bob", "carol")
	pin(t, s, "bob", key(2), PinChanged)

	_, err := s.Pending(ctx, "bob", 10)
	wantErr(t, err, ErrHeld)
	rs, err := s.PendingRecipients(ctx)
	mustNil(t, err)
	if !slices.Equal(rs, []string{"carol"}) {
		t.Errorf("recipients while bob is held = %q", rs)
	}
	// Writing to a held contact still queues: the message waits.
	addOut(t, s, out(3, Direct("bob"), "still there?", 2*time.Second), "bob")

	mustNil(t, s.Trust(ctx, "bob", key(2)))
	if got, want := pending(t, s, "bob"), []string{id(1), id(2), id(3)}; !slices.Equal(got, want) {
		t.Errorf("bob's outbox = %v, want %v", got, want)
	}
	rs, err = s.PendingRecipients(ctx)
	mustNil(t, err)
	if !slices.Equal(rs, []string{"bob", "carol"}) {
		t.Errorf("recipients = %q", rs)
	}
}
