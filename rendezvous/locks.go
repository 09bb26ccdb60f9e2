package rendezvous

import (
	"hash/maphash"
	"sync"
)

// stripedLocks is a fixed set of mutexes chosen by key: it serialises work
// per key (here per user) without a map that grows with the keys.
type stripedLocks struct {
	once sync.Once
	seed maphash.Seed
	mu   [64]sync.Mutex
}

// lock locks key's stripe and returns the unlock function.
func (l *stripedLocks) lock(key string) (unlock func()) {
	l.once.Do(func() { l.seed = maphash.MakeSeed() })
	m := &l.mu[maphash.String(l.seed, key)%uint64(len(l.mu))]
	m.Lock()
	return m.Unlock
}
