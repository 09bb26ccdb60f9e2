package rendezvous

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// This file tests the offline relay (docs/protocol.md, relay.send,
// relay.ack and the relay event).

// relayID is a valid message id made from i.
func relayID(i int) string { return fmt.Sprintf("%032x", i) }

// envelopeOf is the test envelope of message i.
func envelopeOf(i int) []byte { return []byte(fmt.Sprintf("sealed message %d", i)) }

// relaySend relays message i from u to to and checks the reply status.
func relaySend(t *testing.T, u *testUser, to string, i int, status string) {
	t.Helper()
	r := relayOne(t, u, wire.RelayEnvelope{To: to, ID: relayID(i), Envelope: envelopeOf(i)})
	if r.Error != nil || r.Status != status {
		t.Fatalf("relay.send %d to %s: status %q (error %v), want %q", i, to, r.Status, r.Error, status)
	}
}

// relayOne sends a batch of one envelope and returns its result.
func relayOne(t *testing.T, u *testUser, e wire.RelayEnvelope) wire.RelaySendResult {
	t.Helper()
	return relayVia(t, u.c, e)
}

// relayVia sends a batch of one envelope on c and returns its result.
func relayVia(t *testing.T, c *client.Client, e wire.RelayEnvelope) wire.RelaySendResult {
	t.Helper()
	r := call[wire.RelaySendResponse](t, c, wire.OpRelaySend, wire.RelaySendRequest{Envelopes: []wire.RelayEnvelope{e}})
	if len(r.Results) != 1 {
		t.Fatalf("relay.send of one envelope: %d results", len(r.Results))
	}
	return r.Results[0]
}

// relayErr sends a batch of one envelope that must be refused with code,
// and returns the envelope's error.
func relayErr(t *testing.T, u *testUser, e wire.RelayEnvelope, code string) *wire.Error {
	t.Helper()
	r := relayOne(t, u, e)
	if r.Error == nil || r.Error.Code != code || r.Status != "" {
		t.Fatalf("relay.send to %s: result %+v (error %v), want error %s", e.To, r, r.Error, code)
	}
	return r.Error
}

// relayEventsVia reads relay events on c until they carried n envelopes.
func relayEventsVia(t *testing.T, c *client.Client, n int) []wire.RelayEvent {
	t.Helper()
	var out []wire.RelayEvent
	for len(out) < n {
		ev := waitEvent[wire.RelayBatchEvent](t, c, wire.EvRelay)
		out = append(out, ev.Envelopes...)
	}
	return out
}

// nextRelay returns the next envelope pushed to u, reading the next relay
// event when those of the last one are used up.
func nextRelay(t *testing.T, u *testUser) wire.RelayEvent {
	t.Helper()
	if len(u.relayed) == 0 {
		ev := waitEvent[wire.RelayBatchEvent](t, u.c, wire.EvRelay)
		if len(ev.Envelopes) == 0 || len(ev.Envelopes) > wire.MaxRelayBatch {
			t.Fatalf("%s: relay event with %d envelopes", u.name, len(ev.Envelopes))
		}
		u.relayed = ev.Envelopes
	}
	ev := u.relayed[0]
	u.relayed = u.relayed[1:]
	return ev
}

// relayReceive reads the next relay events of u and checks they carry
// messages want..., from from, in that order.
func relayReceive(t *testing.T, u *testUser, from string, want ...int) []wire.RelayEvent {
	t.Helper()
	evs := make([]wire.RelayEvent, 0, len(want))
	for _, i := range want {
		ev := nextRelay(t, u)
		if ev.ID != relayID(i) || ev.From != from || !bytes.Equal(ev.Envelope, envelopeOf(i)) || ev.At.IsZero() {
			t.Fatalf("%s: relay event {id %s from %s envelope %q at %v}, want message %d from %s",
				u.name, ev.ID, ev.From, ev.Envelope, ev.At, i, from)
		}
		evs = append(evs, ev)
	}
	return evs
}

// relayAck acknowledges from's messages ids... as u.
func relayAck(t *testing.T, u *testUser, from string, ids ...int) {
	t.Helper()
	req := wire.RelayAckRequest{}
	for _, i := range ids {
		req.Acks = append(req.Acks, wire.RelayRef{From: from, ID: relayID(i)})
	}
	call[wire.Empty](t, u.c, wire.OpRelayAck, req)
}

// storedRelay lists the ids stored for recipient, in delivery order.
func storedRelay(t *testing.T, ts *testServer, recipient string) []string {
	t.Helper()
	msgs, err := ts.store.PendingRelay(context.Background(), recipient, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	return ids
}

// relayIDs renders message numbers as ids, to compare with storedRelay.
func relayIDs(nums ...int) []string {
	out := []string{}
	for _, i := range nums {
		out = append(out, relayID(i))
	}
	return out
}

// goOffline closes u's connection and waits until friend sees u offline.
func goOffline(t *testing.T, u, friend *testUser) {
	t.Helper()
	u.c.Close()
	waitPresence(t, friend, u.name, wire.StatusOffline)
}

func TestRelayToOnlineFriend(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)

	before := time.Now().Add(-time.Second)
	relaySend(t, alice, "Bob", 1, "queued")
	ev := relayReceive(t, bob, "alice", 1)[0]
	if ev.At.Before(before) || ev.At.After(time.Now().Add(time.Second)) {
		t.Errorf("relay at %v, want about now", ev.At)
	}
	// It waits in the store until bob acknowledges it.
	if got := storedRelay(t, ts, "bob"); fmt.Sprint(got) != fmt.Sprint(relayIDs(1)) {
		t.Errorf("stored before ack: %v", got)
	}
	relayAck(t, bob, "alice", 1)
	if got := storedRelay(t, ts, "bob"); len(got) != 0 {
		t.Errorf("stored after ack: %v", got)
	}
}

func TestRelayToOfflineFriend(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)
	goOffline(t, bob, alice)

	for i := 1; i <= 3; i++ {
		relaySend(t, alice, "bob", i, "queued")
	}
	// Delivered at the next login, in order; and, until acknowledged, at
	// every login after it.
	bob2 := ts.login(t, bob)
	relayReceive(t, bob2, "alice", 1, 2, 3)
	bob3 := ts.login(t, bob)
	relayReceive(t, bob3, "alice", 1, 2, 3)

	// Acknowledged messages are deleted and never come again: the first
	// thing a new login receives is a message sent after it.
	relayAck(t, bob3, "alice", 1, 2, 3)
	if got := storedRelay(t, ts, "bob"); len(got) != 0 {
		t.Fatalf("stored after ack: %v", got)
	}
	bob4 := ts.login(t, bob)
	settle(t, bob4)
	relaySend(t, alice, "bob", 4, "queued")
	relayReceive(t, bob4, "alice", 4)
}

func TestRelayPartialAckRedelivers(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)

	for i := 1; i <= 5; i++ {
		relaySend(t, alice, "bob", i, "queued")
	}
	relayReceive(t, bob, "alice", 1, 2, 3, 4, 5)
	relayAck(t, bob, "alice", 2, 4)
	// Only the unacknowledged come again, in their order.
	bob2 := ts.login(t, bob)
	relayReceive(t, bob2, "alice", 1, 3, 5)
	relaySend(t, alice, "bob", 6, "queued")
	relayReceive(t, bob2, "alice", 6)
}

func TestRelayDuplicate(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)

	relaySend(t, alice, "bob", 1, "queued")
	relaySend(t, alice, "bob", 1, "duplicate")
	// Same id, other content: still a duplicate, and the first is kept.
	r := relayOne(t, alice, wire.RelayEnvelope{To: "bob", ID: relayID(1), Envelope: []byte("other")})
	if r.Status != "duplicate" {
		t.Fatalf("resend with other content: %q, want duplicate", r.Status)
	}
	relaySend(t, alice, "bob", 2, "queued")
	// Delivered once: the event after message 1 is message 2.
	relayReceive(t, bob, "alice", 1, 2)
	if got := storedRelay(t, ts, "bob"); fmt.Sprint(got) != fmt.Sprint(relayIDs(1, 2)) {
		t.Errorf("stored: %v, want messages 1 and 2", got)
	}
}

func TestRelayPermissionsAndValidation(t *testing.T) {
	t.Parallel()
	const maxEnvelope = 1000
	ts := startServer(t, func(c *Config) { c.MaxEnvelope = maxEnvelope })
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")   // friend
	dave := ts.register(t, "dave") // co-member
	ts.register(t, "carol")        // stranger
	erin := ts.register(t, "erin") // friend, then disabled
	makeFriends(t, alice, bob)
	makeFriends(t, alice, erin)
	shareGroup(t, "ops", alice, dave)
	if err := ts.store.SetDisabled(context.Background(), "erin", true, time.Now()); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		req   wire.RelayEnvelope
		code  string
		field string
	}{
		{"stranger", wire.RelayEnvelope{To: "carol", ID: relayID(1), Envelope: []byte("x")}, wire.CodeNotFriends, ""},
		{"self", wire.RelayEnvelope{To: "alice", ID: relayID(1), Envelope: []byte("x")}, wire.CodeInvalid, "to"},
		{"self other case", wire.RelayEnvelope{To: "Alice", ID: relayID(1), Envelope: []byte("x")}, wire.CodeInvalid, "to"},
		{"unknown recipient", wire.RelayEnvelope{To: "nobody", ID: relayID(1), Envelope: []byte("x")}, wire.CodeNotFound, "to"},
		{"disabled recipient", wire.RelayEnvelope{To: "erin", ID: relayID(1), Envelope: []byte("x")}, wire.CodeNotFound, "to"},
		{"bad recipient", wire.RelayEnvelope{To: "a b", ID: relayID(1), Envelope: []byte("x")}, wire.CodeInvalid, "to"},
		{"upper-case id", wire.RelayEnvelope{To: "bob", ID: strings.Repeat("AB", 16), Envelope: []byte("x")}, wire.CodeInvalid, "id"},
		{"short id", wire.RelayEnvelope{To: "bob", ID: relayID(1)[1:], Envelope: []byte("x")}, wire.CodeInvalid, "id"},
		{"long id", wire.RelayEnvelope{To: "bob", ID: relayID(1) + "0", Envelope: []byte("x")}, wire.CodeInvalid, "id"},
		{"non-hex id", wire.RelayEnvelope{To: "bob", ID: strings.Repeat("g", 32), Envelope: []byte("x")}, wire.CodeInvalid, "id"},
		{"no id", wire.RelayEnvelope{To: "bob", Envelope: []byte("x")}, wire.CodeInvalid, "id"},
		{"empty envelope", wire.RelayEnvelope{To: "bob", ID: relayID(1)}, wire.CodeInvalid, "envelope"},
		{"oversize envelope", wire.RelayEnvelope{To: "bob", ID: relayID(1), Envelope: make([]byte, maxEnvelope+1)}, wire.CodeInvalid, "envelope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			werr := relayErr(t, alice, tc.req, tc.code)
			if tc.field != "" && werr.Field != tc.field {
				t.Errorf("field %q, want %q", werr.Field, tc.field)
			}
		})
	}
	// Nothing was stored for anyone.
	for _, who := range []string{"alice", "bob", "carol", "erin"} {
		if got := storedRelay(t, ts, who); len(got) != 0 {
			t.Errorf("stored for %s after refused sends: %v", who, got)
		}
	}

	// The largest envelope goes through, and so does a message to a
	// co-member who is not a friend.
	big := bytes.Repeat([]byte{0xa5}, maxEnvelope)
	relayOne(t, alice, wire.RelayEnvelope{To: "bob", ID: relayID(2), Envelope: big})
	if ev := nextRelay(t, bob); !bytes.Equal(ev.Envelope, big) {
		t.Errorf("largest envelope arrived as %d bytes", len(ev.Envelope))
	}
	relaySend(t, alice, "dave", 3, "queued")
	relayReceive(t, dave, "alice", 3)
	relaySend(t, dave, "alice", 4, "queued")
	relayReceive(t, alice, "dave", 4)
}

func TestRelayQuota(t *testing.T) {
	t.Parallel()
	t.Run("count", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, func(c *Config) { c.RelayQuota = store.Quota{MaxCount: 3, MaxBytes: 1 << 20} })
		alice := ts.register(t, "alice")
		bob := ts.register(t, "bob")
		carol := ts.register(t, "carol")
		makeFriends(t, alice, bob)
		makeFriends(t, carol, bob)
		goOffline(t, bob, alice)

		for i := 1; i <= 3; i++ {
			relaySend(t, alice, "bob", i, "queued")
		}
		// The quota is the recipient's, whoever sends.
		relayErr(t, alice, wire.RelayEnvelope{To: "bob", ID: relayID(4), Envelope: envelopeOf(4)}, wire.CodeQuotaExceeded)
		relayErr(t, carol, wire.RelayEnvelope{To: "bob", ID: relayID(5), Envelope: envelopeOf(5)}, wire.CodeQuotaExceeded)
		relaySend(t, alice, "bob", 3, "duplicate") // a resend is not refused
		if got := storedRelay(t, ts, "bob"); fmt.Sprint(got) != fmt.Sprint(relayIDs(1, 2, 3)) {
			t.Errorf("stored: %v", got)
		}

		bob2 := ts.login(t, bob)
		relayReceive(t, bob2, "alice", 1, 2, 3)
		// Delivered is not enough: the messages count until acknowledged.
		relayErr(t, alice, wire.RelayEnvelope{To: "bob", ID: relayID(4), Envelope: envelopeOf(4)}, wire.CodeQuotaExceeded)
		relayAck(t, bob2, "alice", 1, 2)
		relaySend(t, alice, "bob", 4, "queued")
		relaySend(t, carol, "bob", 5, "queued")
		relayErr(t, alice, wire.RelayEnvelope{To: "bob", ID: relayID(6), Envelope: envelopeOf(6)}, wire.CodeQuotaExceeded)
		relayReceive(t, bob2, "alice", 4)
		relayReceive(t, bob2, "carol", 5)
	})
	t.Run("bytes", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, func(c *Config) { c.RelayQuota = store.Quota{MaxCount: 100, MaxBytes: 100} })
		alice := ts.register(t, "alice")
		bob := ts.register(t, "bob")
		makeFriends(t, alice, bob)
		goOffline(t, bob, alice)

		sendSized := func(i, size int) error {
			t.Helper()
			if r := relayOne(t, alice, wire.RelayEnvelope{To: "bob", ID: relayID(i), Envelope: make([]byte, size)}); r.Error != nil {
				return r.Error
			}
			return nil
		}
		steps := []struct {
			id, size int
			ok       bool
		}{
			{1, 60, true},
			{2, 41, false}, // 101 bytes
			{3, 40, true},  // exactly 100
			{4, 1, false},
		}
		for _, s := range steps {
			err := sendSized(s.id, s.size)
			if s.ok && err != nil || !s.ok && !isWireCode(err, wire.CodeQuotaExceeded) {
				t.Fatalf("send %d bytes: %v, want ok %v (else quota_exceeded)", s.size, err, s.ok)
			}
		}
		bob2 := ts.login(t, bob)
		nextRelay(t, bob2)
		relayAck(t, bob2, "alice", 1)
		if err := sendSized(2, 41); err != nil {
			t.Fatalf("after ack freed 60 bytes: %v", err)
		}
		if err := sendSized(5, 20); !isWireCode(err, wire.CodeQuotaExceeded) {
			t.Fatalf("81 + 20 bytes: %v, want quota_exceeded", err)
		}
	})
}

// isWireCode reports whether err is a protocol error with code.
func isWireCode(err error, code string) bool {
	var werr *wire.Error
	return errors.As(err, &werr) && werr.Code == code
}

func TestRelayAckValidation(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)
	relaySend(t, alice, "bob", 1, "queued")
	relayReceive(t, bob, "alice", 1)

	many := func(n int) []wire.RelayRef {
		out := make([]wire.RelayRef, n)
		for i := range out {
			out[i] = wire.RelayRef{From: "alice", ID: relayID(1000 + i)}
		}
		return out
	}
	ref := func(from, id string) []wire.RelayRef { return []wire.RelayRef{{From: from, ID: id}} }
	for _, tc := range []struct {
		name  string
		req   wire.RelayAckRequest
		field string
	}{
		{"none", wire.RelayAckRequest{}, "acks"},
		{"empty list", wire.RelayAckRequest{Acks: []wire.RelayRef{}}, "acks"},
		{"too many", wire.RelayAckRequest{Acks: many(wire.MaxAckIDs + 1)}, "acks"},
		{"too many in all", wire.RelayAckRequest{Acks: many(wire.MaxAckIDs), Refused: ref("alice", relayID(1))}, "acks"},
		{"upper case", wire.RelayAckRequest{Acks: ref("alice", strings.ToUpper(relayID(0xabc)))}, "acks"},
		{"short", wire.RelayAckRequest{Acks: ref("alice", "abc")}, "acks"},
		{"non-hex", wire.RelayAckRequest{Acks: ref("alice", strings.Repeat("z", 32))}, "acks"},
		{"no sender", wire.RelayAckRequest{Acks: ref("", relayID(1))}, "acks"},
		{"bad sender", wire.RelayAckRequest{Acks: ref("a b", relayID(1))}, "acks"},
		{"bad refused", wire.RelayAckRequest{Refused: ref("alice", "nope")}, "refused"},
		{"one bad among good", wire.RelayAckRequest{Acks: append(ref("alice", relayID(1)), ref("alice", "nope")...)}, "acks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if werr := callErr(t, bob.c, wire.OpRelayAck, tc.req, wire.CodeInvalid); werr.Field != tc.field {
				t.Errorf("field %q, want %s", werr.Field, tc.field)
			}
		})
	}
	// A refused ack deleted nothing, not even its valid ids.
	if got := storedRelay(t, ts, "bob"); fmt.Sprint(got) != fmt.Sprint(relayIDs(1)) {
		t.Errorf("stored after refused acks: %v", got)
	}
	// The right id from the wrong sender takes nothing out.
	call[wire.Empty](t, bob.c, wire.OpRelayAck, wire.RelayAckRequest{Acks: ref("carol", relayID(1))})
	if got := storedRelay(t, ts, "bob"); fmt.Sprint(got) != fmt.Sprint(relayIDs(1)) {
		t.Errorf("stored after an ack naming another sender: %v", got)
	}
	// The most ids allowed, unknown ones included, is fine; the sender
	// compares case-insensitively, like every username.
	call[wire.Empty](t, bob.c, wire.OpRelayAck, wire.RelayAckRequest{Acks: append(many(wire.MaxAckIDs-1), ref("Alice", relayID(1))...)})
	if got := storedRelay(t, ts, "bob"); len(got) != 0 {
		t.Errorf("stored after ack: %v", got)
	}
	// One can acknowledge only one's own messages.
	relaySend(t, bob, "alice", 2, "queued")
	relayAck(t, bob, "alice", 2)
	if got := storedRelay(t, ts, "alice"); fmt.Sprint(got) != fmt.Sprint(relayIDs(2)) {
		t.Errorf("bob's ack touched alice's messages: %v", got)
	}
}

func TestRelayFlowControl(t *testing.T) {
	t.Parallel()
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)

	const total = 300
	for i := range total {
		relaySend(t, alice, "bob", i, "queued")
	}
	next := 0  // the next message bob should receive
	acked := 0 // bob has acknowledged every message below this
	expect := func(n int) {
		t.Helper()
		relayReceive(t, bob, "alice", numRange(next, next+n)...)
		next += n
		// The window is full: nothing more comes until bob acknowledges.
		if next < total {
			noEvent(t, bob.c, wire.EvRelay, 300*time.Millisecond)
		}
	}
	expect(relayWindow)
	// Acknowledging a few opens the window by as many.
	relayAck(t, bob, "alice", numRange(0, 10)...)
	acked = 10
	expect(10)
	// Acknowledging all that is outstanding lets the rest through, a
	// window at a time, in send order, each once.
	for next < total {
		relayAck(t, bob, "alice", numRange(acked, next)...)
		acked = next
		expect(min(relayWindow, total-next))
	}
	relayAck(t, bob, "alice", numRange(acked, next)...)
	if got := storedRelay(t, ts, "bob"); len(got) != 0 {
		t.Errorf("%d messages still stored after acknowledging all", len(got))
	}
}

// numRange returns lo, lo+1, ..., hi-1.
func numRange(lo, hi int) []int {
	var out []int
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// relayClock is a clock the test moves by hand.
type relayClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *relayClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *relayClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRelayExpiry(t *testing.T) {
	t.Parallel()
	clock := &relayClock{now: time.Now()}
	ts := startServer(t, func(c *Config) {
		c.Now = clock.Now
		c.RelayRetention = time.Hour
		c.RelayQuota = store.Quota{MaxCount: 2, MaxBytes: 1 << 20}
	})
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)
	goOffline(t, bob, alice)

	t1 := clock.Now()
	relaySend(t, alice, "bob", 1, "queued")
	clock.advance(40 * time.Minute)
	relaySend(t, alice, "bob", 2, "queued")
	relayErr(t, alice, wire.RelayEnvelope{To: "bob", ID: relayID(3), Envelope: envelopeOf(3)}, wire.CodeQuotaExceeded)

	// Within the retention nothing goes.
	ctx := context.Background()
	ts.srv.expire(ctx)
	if got := storedRelay(t, ts, "bob"); fmt.Sprint(got) != fmt.Sprint(relayIDs(1, 2)) {
		t.Fatalf("stored before expiry: %v", got)
	}
	// Past it, message 1 goes and message 2, younger, stays.
	clock.advance(30 * time.Minute)
	ts.srv.expire(ctx)
	if got := storedRelay(t, ts, "bob"); fmt.Sprint(got) != fmt.Sprint(relayIDs(2)) {
		t.Fatalf("stored after expiry: %v, want only message 2", got)
	}
	// Its room in the quota is free again.
	relaySend(t, alice, "bob", 3, "queued")

	bob2 := ts.login(t, bob)
	evs := relayReceive(t, bob2, "alice", 2, 3)
	if want := t1.Add(40 * time.Minute); !evs[0].At.Equal(want) {
		t.Errorf("message 2 at %v, want the server clock at sending, %v", evs[0].At, want)
	}
}
