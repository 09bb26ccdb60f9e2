package history

import (
	"context"
	"sync"
)

// memo keeps the last value read of something the message path reads
// at every message (the settings, the contacts) but that changes rarely,
// and only through the store's own methods: each of those forgets it
// once its write is done. gen counts the forgets, so that a read that
// raced a write is returned to its caller but not kept.
type memo[T any] struct {
	mu    sync.Mutex
	gen   uint64
	valid bool
	val   T
}

// get returns the kept value, or reads it with read and keeps it.
func (c *memo[T]) get(ctx context.Context, read func(ctx context.Context) (T, error)) (T, error) {
	c.mu.Lock()
	if c.valid {
		v := c.val
		c.mu.Unlock()
		return v, nil
	}
	gen := c.gen
	c.mu.Unlock()
	v, err := read(ctx)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.val, c.valid = v, true
	}
	c.mu.Unlock()
	return v, nil
}

// forget drops the kept value; the next get reads it again.
func (c *memo[T]) forget() {
	c.mu.Lock()
	c.gen++
	c.valid = false
	var zero T
	c.val = zero
	c.mu.Unlock()
}
