package stats

import (
	"slices"
	"sync"
	"time"
)

// Latencies collects durations from many goroutines.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one duration.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// All returns a copy of the durations recorded so far.
func (l *Latencies) All() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.d)
}

// Counts is a Tally that many goroutines add to.
type Counts struct {
	mu sync.Mutex
	t  Tally
}

// Add counts one occurrence of name.
func (c *Counts) Add(name string) {
	c.mu.Lock()
	if c.t == nil {
		c.t = Tally{}
	}
	c.t[name]++
	c.mu.Unlock()
}

// Total returns the number of occurrences of every name.
func (c *Counts) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.t {
		n += v
	}
	return n
}

// String lists the counts as Tally does.
func (c *Counts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.String()
}
