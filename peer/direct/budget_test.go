package direct

import (
	"errors"
	"testing"
	"time"
)

func TestBudgetTakeGive(t *testing.T) {
	b := NewBudget(100)
	if err := b.Take(60); err != nil {
		t.Fatal(err)
	}
	if err := b.Take(41); !errors.Is(err, ErrBudget) {
		t.Fatalf("Take past the limit = %v, want ErrBudget", err)
	}
	if b.Used() != 60 {
		t.Fatalf("a refused Take kept something: %d used", b.Used())
	}
	if err := b.Take(40); err != nil {
		t.Fatalf("Take up to the limit: %v", err)
	}
	b.Give(100)
	if b.Used() != 0 {
		t.Fatalf("%d used after giving everything back", b.Used())
	}
}

// Every connection that proves a key shares that key's budget, on both
// the listening and the dialling side; the budget outlives none of them
// and a new connection after the last one starts afresh.
func TestBudgetSharedByPeerConns(t *testing.T) {
	alice, bob, ab, ba := connected(t)
	ab2, ba2 := dialAccept(t, alice, bob)
	if ba.Budget() == nil || ba.Budget() != ba2.Budget() {
		t.Fatal("bob's two connections from alice have different budgets")
	}
	if ab.Budget() != ab2.Budget() {
		t.Fatal("alice's two connections to bob have different budgets")
	}
	if err := ba.Budget().Take(DefaultPeerBudget); err != nil {
		t.Fatal(err)
	}
	if err := ba2.Budget().Take(1); !errors.Is(err, ErrBudget) {
		t.Fatalf("the second connection took past the shared budget: %v", err)
	}
	ba.Budget().Give(DefaultPeerBudget)

	ab.Close()
	ab2.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		bob.t.mu.Lock()
		n := len(bob.t.budgets)
		bob.t.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d budgets kept after every connection closed", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, ba3 := dialAccept(t, alice, bob)
	if ba3.Budget() == ba.Budget() {
		t.Error("a new connection reuses the budget of connections long gone")
	}
}
