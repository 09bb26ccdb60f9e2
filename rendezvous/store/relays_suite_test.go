package store

import (
	"context"
	"errors"
	"testing"
)

// A batch is stored in order: an envelope's quota check counts those
// before it, a duplicate (in the store or earlier in the batch) is
// neither stored nor refused, and refusals do not stop the rest.
func TestPutRelaysBatch(t *testing.T) { eachStore(t, testPutRelaysBatch) }

func testPutRelaysBatch(t *testing.T, s suiteStore) {
	ctx := context.Background()
	put(t, s, relayMsg("bob", "old", 1, at(0)), Quota{})
	batch := []RelayMessage{
		relayMsg("bob", "a", 1, at(1)),
		relayMsg("carol", "b", 1, at(1)),
		relayMsg("bob", "old", 1, at(1)), // already stored
		relayMsg("bob", "c", 1, at(1)),   // bob's third: over the quota
		relayMsg("carol", "b", 1, at(1)), // duplicate within the batch
		relayMsg("carol", "d", 1, at(1)),
	}
	puts, err := s.PutRelays(ctx, batch, Quota{MaxCount: 2})
	mustNil(t, err)
	want := []RelayPut{{Inserted: true}, {Inserted: true}, {}, {Err: ErrQuota}, {}, {Inserted: true}}
	if len(puts) != len(want) {
		t.Fatalf("%d results, want %d", len(puts), len(want))
	}
	for i := range want {
		if puts[i].Inserted != want[i].Inserted || !errors.Is(puts[i].Err, want[i].Err) {
			t.Errorf("envelope %d (%s): %+v, want %+v", i, batch[i].ID, puts[i], want[i])
		}
	}
	bob, err := s.PendingRelay(ctx, "bob", 0, 10)
	mustNil(t, err)
	carol, err := s.PendingRelay(ctx, "carol", 0, 10)
	mustNil(t, err)
	if got := relayIDs(bob); len(got) != 2 || got[0] != "old" || got[1] != "a" {
		t.Errorf("bob has %v", got)
	}
	if got := relayIDs(carol); len(got) != 2 || got[0] != "b" || got[1] != "d" {
		t.Errorf("carol has %v", got)
	}
	checkTotals(t, s, "bob", 2, 2)
	checkTotals(t, s, "carol", 2, 2)
}
