package rendezvous

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// This file tests relay.send batches (docs/protocol.md, relay.send): many
// envelopes for many recipients in one request, each with its own result;
// a batch out of bounds closes that connection only.

// TestRelayBatchManyRecipients sends one batch to two friends, with
// envelopes that must be refused among them: each envelope gets its own
// result in order, what passed is stored and delivered, what did not is
// not.
func TestRelayBatchManyRecipients(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxEnvelope = 1000 })
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	ts.register(t, "dave") // no friend of alice's
	makeFriends(t, alice, bob)
	makeFriends(t, alice, carol)
	goOffline(t, carol, alice)

	envs := []wire.RelayEnvelope{
		{To: "bob", ID: relayID(1), Envelope: envelopeOf(1)},
		{To: "carol", ID: relayID(2), Envelope: envelopeOf(2)},
		{To: "dave", ID: relayID(3), Envelope: envelopeOf(3)},
		{To: "bob", ID: "not-an-id", Envelope: envelopeOf(4)},
		{To: "Bob", ID: relayID(5), Envelope: envelopeOf(5)},
		{To: "alice", ID: relayID(6), Envelope: envelopeOf(6)},
		{To: "bob", ID: relayID(7), Envelope: make([]byte, 1001)},
		{To: "bob", ID: relayID(1), Envelope: envelopeOf(1)}, // the first again
		{To: "nobody", ID: relayID(9), Envelope: envelopeOf(9)},
		{To: "carol", ID: relayID(10), Envelope: envelopeOf(10)},
	}
	want := []string{"queued", "queued", wire.CodeNotFriends, wire.CodeInvalid, "queued", wire.CodeInvalid, wire.CodeInvalid, "duplicate", wire.CodeNotFound, "queued"}
	r := call[wire.RelaySendResponse](t, alice.c, wire.OpRelaySend, wire.RelaySendRequest{Envelopes: envs})
	if len(r.Results) != len(envs) {
		t.Fatalf("%d results for %d envelopes", len(r.Results), len(envs))
	}
	for i, res := range r.Results {
		got := res.Status
		if res.Error != nil {
			if res.Status != "" {
				t.Errorf("envelope %d: both status %q and error %v", i, res.Status, res.Error)
			}
			got = res.Error.Code
		}
		if got != want[i] {
			t.Errorf("envelope %d (to %s): %q, want %q", i, envs[i].To, got, want[i])
		}
	}
	if got := storedRelay(t, ts, "carol"); fmt.Sprint(got) != fmt.Sprint(relayIDs(2, 10)) {
		t.Errorf("stored for carol: %v, want messages 2 and 10", got)
	}
	for _, who := range []string{"dave", "alice", "nobody"} {
		if got := storedRelay(t, ts, who); len(got) != 0 {
			t.Errorf("stored for %s: %v", who, got)
		}
	}
	// Bob, online, gets his two in order, and one ack takes both.
	relayReceive(t, bob, "alice", 1, 5)
	relayAck(t, bob, "alice", 1, 5)
	// Carol, back, gets hers in one event.
	carol2 := ts.login(t, carol)
	ev := waitEvent[wire.RelayBatchEvent](t, carol2.c, wire.EvRelay)
	if len(ev.Envelopes) != 2 || ev.Envelopes[0].ID != relayID(2) || ev.Envelopes[1].ID != relayID(10) {
		t.Fatalf("carol's relay event: %+v, want messages 2 and 10 together", ev)
	}
}

// TestRelayBatchQuotaCountsEarlierEnvelopes: an envelope's quota check
// counts the envelopes before it in the same batch.
func TestRelayBatchQuotaCountsEarlierEnvelopes(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.RelayQuota.MaxCount = 2 })
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)
	goOffline(t, bob, alice)
	var envs []wire.RelayEnvelope
	for i := 1; i <= 3; i++ {
		envs = append(envs, wire.RelayEnvelope{To: "bob", ID: relayID(i), Envelope: envelopeOf(i)})
	}
	r := call[wire.RelaySendResponse](t, alice.c, wire.OpRelaySend, wire.RelaySendRequest{Envelopes: envs})
	if len(r.Results) != 3 || r.Results[0].Status != "queued" || r.Results[1].Status != "queued" ||
		r.Results[2].Error == nil || r.Results[2].Error.Code != wire.CodeQuotaExceeded {
		t.Fatalf("results %+v, want queued, queued, quota_exceeded", r.Results)
	}
	if got := storedRelay(t, ts, "bob"); fmt.Sprint(got) != fmt.Sprint(relayIDs(1, 2)) {
		t.Errorf("stored for bob: %v, want messages 1 and 2", got)
	}
}

// TestRelayBatchMalformedClosesConnection: a batch outside the bounds
// (no envelope, too many, too many bytes together, not a batch at all)
// gets a malformed error and closes that connection, storing nothing;
// another user's relay goes on.
func TestRelayBatchMalformedClosesConnection(t *testing.T) {
	const maxFrame = 64 << 10
	ts := startServer(t, func(c *Config) { c.MaxFrame = maxFrame })
	bob := ts.register(t, "bob")
	carol := ts.register(t, "carol")
	makeFriends(t, carol, bob)

	many := make([]wire.RelayEnvelope, wire.MaxRelayBatch+1)
	for i := range many {
		many[i] = wire.RelayEnvelope{To: "bob", ID: relayID(i + 1), Envelope: []byte("x")}
	}
	// Each envelope fits alone (at most half the frame limit), but not
	// together.
	big := []wire.RelayEnvelope{
		{To: "bob", ID: relayID(1), Envelope: bytes.Repeat([]byte{1}, maxFrame/4+1)},
		{To: "bob", ID: relayID(2), Envelope: bytes.Repeat([]byte{2}, maxFrame/4+1)},
	}
	tests := []struct {
		name string
		body any
	}{
		{"no envelopes", wire.RelaySendRequest{}},
		{"empty list", wire.RelaySendRequest{Envelopes: []wire.RelayEnvelope{}}},
		{"too many", wire.RelaySendRequest{Envelopes: many}},
		{"too many bytes", wire.RelaySendRequest{Envelopes: big}},
		{"one envelope, not a batch", map[string]any{"to": "bob", "id": relayID(1), "envelope": []byte("x")}},
		{"unknown field", json.RawMessage(`{"envelopes":[{"to":"bob","id":"` + relayID(1) + `","envelope":"eA==","x":1}]}`)},
		{"not a list", json.RawMessage(`{"envelopes":{"to":"bob"}}`)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			alice := ts.register(t, fmt.Sprintf("alice%d", i))
			makeFriends(t, alice, bob)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := alice.c.Call(ctx, wire.OpRelaySend, tc.body, nil)
			var werr *wire.Error
			if !errors.As(err, &werr) || werr.Code != wire.CodeMalformed {
				t.Fatalf("relay.send: %v, want a malformed error", err)
			}
			select {
			case <-alice.c.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the connection stayed open after a malformed batch")
			}
			if got := storedRelay(t, ts, "bob"); len(got) != 0 {
				t.Fatalf("stored for bob: %v", got)
			}
			// Others are served as before.
			relaySend(t, carol, "bob", 1000+i, "queued")
			ev := nextRelay(t, bob)
			if ev.From != "carol" || ev.ID != relayID(1000+i) {
				t.Fatalf("bob got %s from %s, want carol's %s", ev.ID, ev.From, relayID(1000+i))
			}
			relayAck(t, bob, "carol", 1000+i)
		})
	}
}

// TestRelayEventsFitTheFrame: envelopes waiting together go out in as few
// relay events as fit the frame limit, never one over it.
func TestRelayEventsFitTheFrame(t *testing.T) {
	const maxFrame = 64 << 10
	ts := startServer(t, func(c *Config) { c.MaxFrame = maxFrame })
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)
	goOffline(t, bob, alice)
	size := maxFrame / 2 // the largest envelope there may be
	for i := 1; i <= 3; i++ {
		r := relayOne(t, alice, wire.RelayEnvelope{To: "bob", ID: relayID(i), Envelope: bytes.Repeat([]byte{byte(i)}, size)})
		if r.Status != "queued" {
			t.Fatalf("envelope %d: %+v", i, r)
		}
	}
	for i := 4; i <= 20; i++ {
		relaySend(t, alice, "bob", i, "queued")
	}
	// A raw connection reads frames with the server's limit.
	rc := ts.rawHello(t)
	rc.ok(wire.OpLogin, wire.LoginRequest{Username: "bob", Password: bob.password})
	var got []string
	events := 0
	for len(got) < 20 {
		f := rc.next()
		if f.Op != wire.EvRelay {
			continue
		}
		events++
		if b, err := wire.AppendFrame(nil, f); err != nil || len(b)-4 > maxFrame {
			t.Fatalf("a relay event of %d bytes, over the frame limit %d (%v)", len(b)-4, maxFrame, err)
		}
		var ev wire.RelayBatchEvent
		if err := json.Unmarshal(f.Body, &ev); err != nil {
			t.Fatal(err)
		}
		for _, e := range ev.Envelopes {
			got = append(got, e.ID)
		}
	}
	if strings.Join(got, ",") != strings.Join(relayIDs(numRange(1, 21)...), ",") {
		t.Fatalf("delivered %v, want messages 1 to 20 in order", got)
	}
	// The three big ones cannot share an event; the small ones share one.
	if events != 4 {
		t.Errorf("%d relay events, want 4", events)
	}
}
