// Package keylock serialises work per key (a username, say) with a fixed
// set of mutexes, so the locks do not grow with the number of keys. Two
// keys may share a mutex; that only costs a little concurrency.
package keylock

import (
	"hash/maphash"
	"sync"
)

// Set is a set of striped locks. The zero value is ready to use; it must
// not be copied after first use.
type Set struct {
	once sync.Once
	seed maphash.Seed
	mu   [64]sync.Mutex
}

// Lock locks key's stripe and returns the function that unlocks it.
func (s *Set) Lock(key string) (unlock func()) {
	s.once.Do(func() { s.seed = maphash.MakeSeed() })
	m := &s.mu[maphash.String(s.seed, key)%uint64(len(s.mu))]
	m.Lock()
	return m.Unlock
}
