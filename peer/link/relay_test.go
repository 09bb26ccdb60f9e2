package link_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/link"
)

// TestRelayBatchesConcurrentSends: envelopes that callers hand Relay at
// the same time travel in fewer relay.send requests than envelopes, each
// caller gets its own envelope's outcome, and all are stored.
func TestRelayBatchesConcurrentSends(t *testing.T) {
	s := startServer(t, "")
	alice, bob := start(t, s), start(t, s)
	alice.expect(t, link.EventUp)
	bob.expect(t, link.EventUp)
	alice.register(t, "alice")
	bob.register(t, "bob")
	alice.call(t, wire.OpFriendRequest, wire.UserRequest{Username: "bob"}, nil)
	bob.call(t, wire.OpFriendAccept, wire.UserRequest{Username: "alice"}, nil)
	_, before := s.st.RelayCommits()

	const n = 50
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := "bob"
			if i == n {
				to = "nobody" // refused alone
			}
			ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
			defer cancel()
			errs[i] = alice.l.Relay(ctx, wire.RelayEnvelope{To: to, ID: fmt.Sprintf("%032x", i+1), Envelope: []byte("sealed")})
		}()
	}
	wg.Wait()
	for i, err := range errs[:n] {
		if err != nil {
			t.Fatalf("envelope %d: %v", i, err)
		}
	}
	var werr *wire.Error
	if !errors.As(errs[n], &werr) || werr.Code != wire.CodeNotFound {
		t.Fatalf("envelope to nobody: %v, want not_found", errs[n])
	}
	msgs, err := s.st.PendingRelay(context.Background(), "bob", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != n {
		t.Fatalf("%d envelopes stored for bob, want %d", len(msgs), n)
	}
	// Each relay.send with something to store is one write of the
	// store's group commit.
	if _, after := s.st.RelayCommits(); after-before >= n {
		t.Fatalf("%d relay.send requests for %d envelopes, want fewer", after-before, n)
	}
}

// TestRelayManySendsABatchInFewRequests: envelopes handed over together
// leave in requests of up to wire.MaxRelayBatch, each with its own
// outcome.
func TestRelayManySendsABatchInFewRequests(t *testing.T) {
	s := startServer(t, "")
	alice, bob := start(t, s), start(t, s)
	alice.expect(t, link.EventUp)
	bob.expect(t, link.EventUp)
	alice.register(t, "alice")
	bob.register(t, "bob")
	alice.call(t, wire.OpFriendRequest, wire.UserRequest{Username: "bob"}, nil)
	bob.call(t, wire.OpFriendAccept, wire.UserRequest{Username: "alice"}, nil)
	_, before := s.st.RelayCommits()

	const n = wire.MaxRelayBatch + 44
	envs := make([]wire.RelayEnvelope, n)
	for i := range envs {
		envs[i] = wire.RelayEnvelope{To: "bob", ID: fmt.Sprintf("%032x", i+1), Envelope: []byte("sealed")}
	}
	envs[7].To = "nobody"
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	errs := alice.l.RelayMany(ctx, envs)
	if len(errs) != n {
		t.Fatalf("%d results for %d envelopes", len(errs), n)
	}
	for i, err := range errs {
		var werr *wire.Error
		switch {
		case i == 7 && (!errors.As(err, &werr) || werr.Code != wire.CodeNotFound):
			t.Fatalf("envelope to nobody: %v, want not_found", err)
		case i != 7 && err != nil:
			t.Fatalf("envelope %d: %v", i, err)
		}
	}
	msgs, err := s.st.PendingRelay(context.Background(), "bob", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != n-1 {
		t.Fatalf("%d envelopes stored for bob, want %d", len(msgs), n-1)
	}
	if _, after := s.st.RelayCommits(); after-before != 2 {
		t.Fatalf("%d relay.send requests for %d envelopes, want 2", after-before, n)
	}
}
