package server

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// latencies collects request durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// add records one duration.
func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// summary is the distribution of a set of durations.
type summary struct {
	n             int
	p50, p99, max time.Duration
}

// summarize sorts a copy of the durations and picks the percentiles by
// nearest rank.
func (l *latencies) summarize() summary {
	l.mu.Lock()
	d := slices.Clone(l.d)
	l.mu.Unlock()
	if len(d) == 0 {
		return summary{}
	}
	slices.Sort(d)
	rank := func(q float64) time.Duration {
		i := int(q*float64(len(d))+0.5) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return summary{n: len(d), p50: rank(0.50), p99: rank(0.99), max: d[len(d)-1]}
}

// counts counts occurrences by name (error codes, failure kinds).
type counts struct {
	mu sync.Mutex
	m  map[string]int
}

// add counts one occurrence of name.
func (c *counts) add(name string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]int)
	}
	c.m[name]++
	c.mu.Unlock()
}

// total returns the number of occurrences of every name.
func (c *counts) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.m {
		n += v
	}
	return n
}

// String lists the counts as "name×n, ...", sorted by name, or "none".
func (c *counts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c.m)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, c.m[k]))
	}
	return strings.Join(parts, ", ")
}

// table is the result: one row per figure.
type table struct {
	rows []row
}

type row struct {
	name, value, unit string
}

// add appends a row; value is formatted with %v unless it is a float,
// which gets a precision suited to its size.
func (t *table) add(name string, value any, unit string) {
	var v string
	switch x := value.(type) {
	case float64:
		v = formatFloat(x)
	case time.Duration:
		v = formatMillis(x)
	default:
		v = fmt.Sprint(x)
	}
	t.rows = append(t.rows, row{name, v, unit})
}

// addLatency adds the p50, p99 and (optionally) max rows of s.
func (t *table) addLatency(name string, s summary, withMax bool) {
	if s.n == 0 {
		t.add(name+" p50", "n/a", "ms")
		return
	}
	t.add(name+" p50", s.p50, "ms")
	t.add(name+" p99", s.p99, "ms")
	if withMax {
		t.add(name+" max", s.max, "ms")
	}
}

// addBytes adds a memory figure in MiB, or n/a when unknown (negative).
func (t *table) addBytes(name string, b int64) {
	if b < 0 {
		t.add(name, "n/a", "MiB")
		return
	}
	t.add(name, float64(b)/(1<<20), "MiB")
}

// markdown renders the table.
func (t *table) markdown() string {
	var b strings.Builder
	b.WriteString("| figure | value | unit |\n|---|---:|---|\n")
	for _, r := range t.rows {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.name, r.value, r.unit)
	}
	return b.String()
}

func formatFloat(x float64) string {
	switch {
	case x >= 100 || x <= -100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10 || x <= -10:
		return fmt.Sprintf("%.1f", x)
	case x >= 1 || x <= -1:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.3f", x)
	}
}

// formatMillis prints a duration in milliseconds with three significant
// digits or so.
func formatMillis(d time.Duration) string {
	return formatFloat(float64(d) / float64(time.Millisecond))
}
