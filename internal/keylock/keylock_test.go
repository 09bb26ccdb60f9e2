package keylock

import (
	"sync"
	"testing"
)

func TestLockSerialisesOneKey(t *testing.T) {
	var s Set
	var wg sync.WaitGroup
	n := 0
	for range 50 {
		wg.Go(func() {
			unlock := s.Lock("alice")
			n++ // the race detector fails the test if this is not serialised
			unlock()
		})
	}
	wg.Wait()
	if n != 50 {
		t.Fatalf("n = %d, want 50", n)
	}
}

func TestDifferentKeysDoNotDeadlock(t *testing.T) {
	var s Set
	unlockA := s.Lock("alice")
	done := make(chan struct{})
	go func() {
		// Even if bob shares alice's stripe, locking after alice's
		// unlock must succeed.
		unlock := s.Lock("bob")
		unlock()
		close(done)
	}()
	unlockA()
	<-done
}
