// Package stats is the arithmetic and number formatting the benchmarks'
// reports share: medians, spreads and percentiles of repeated runs, sizes
// and figures printed the same way in every table, counts collected from
// many goroutines, and a server's Prometheus metrics.
package stats

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Units: sizes in binary prefixes (KiB, MiB, GiB) as files are counted,
// rates in decimal megabytes per second (MB/s = 10⁶ bytes/s) and
// megabits (Mbit/s), as links and iperf3 are.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
)

// Percentile returns the q-quantile (0 < q ≤ 1) of d by nearest rank: the
// smallest value with at least q of the values at or below it. d need not
// be sorted; it is not changed. An empty d gives 0.
func Percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(d))
	return s[min(max(int(math.Ceil(q*float64(len(s))))-1, 0), len(s)-1)]
}

// Median returns the median of x (the mean of the middle two for an even
// count), or NaN for none.
func Median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(x))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// Millis converts a duration to milliseconds.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Number prints x with about three significant digits, "—" for NaN and
// infinities.
func Number(x float64) string {
	switch a := math.Abs(x); {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	case a >= 1:
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprintf("%.3f", x)
}

// Spread prints the lowest and highest of x as "lo–hi", or the one value.
func Spread(x []float64) string {
	if len(x) == 0 {
		return "—"
	}
	lo, hi := Number(slices.Min(x)), Number(slices.Max(x))
	if lo == hi {
		return lo
	}
	return lo + "–" + hi
}

// Ratio is a/b, NaN when either is unknown or b is zero.
func Ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// ParseSize reads a byte count such as "4G", "4GiB", "512M", "4096" or
// "1.5G"; K, M and G are binary multiples.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "B"), "i")
	mult := 1.0
	if i := strings.IndexAny(t, "kKmMgG"); i >= 0 && i == len(t)-1 {
		mult = map[byte]float64{'k': KiB, 'm': MiB, 'g': GiB}[t[i]|0x20]
		t = t[:i]
	}
	x, err := strconv.ParseFloat(t, 64)
	if err != nil || x <= 0 || x*mult > 1<<50 {
		return 0, fmt.Errorf("size %q: want a positive number of bytes such as 4G, 512M or 4096", s)
	}
	return int64(x * mult), nil
}

// Size prints a byte count with a binary prefix: "4 GiB", "1.5 GiB",
// "4 KiB", "712 B".
func Size(n int64) string {
	for i, u := range []int64{GiB, MiB, KiB} {
		if n >= u {
			return strconv.FormatFloat(math.Round(float64(n)/float64(u)*100)/100, 'f', -1, 64) + " " + []string{"GiB", "MiB", "KiB"}[i]
		}
	}
	return fmt.Sprintf("%d B", n)
}

// Tally counts occurrences by name: how messages went, what failed.
type Tally map[string]int

// String lists the counts as "name n, …" sorted by name, or "none".
func (t Tally) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(t)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, t[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Only reports whether every count is under name.
func (t Tally) Only(name string) bool {
	for k, v := range t {
		if k != name && v > 0 {
			return false
		}
	}
	return true
}

// Add adds every count of u.
func (t Tally) Add(u Tally) {
	for k, v := range u {
		t[k] += v
	}
}

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
	defer c.mu.Unlock()
	if c.t == nil {
		c.t = Tally{}
	}
	c.t[name]++
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

// Scrape reads a server's Prometheus metrics from http://addr/metrics
// into a map from series (name and labels, as written) to value;
// comments and lines without a number are passed over.
func Scrape(ctx context.Context, addr string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	var resp *http.Response
	if err == nil {
		resp, err = http.DefaultClient.Do(req)
	}
	if err == nil && resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err = errors.New(resp.Status)
	}
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for lines := 0; sc.Scan() && lines < 1e6; lines++ {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); i > 0 && err == nil && line[0] != '#' {
			m[line[:i]] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return m, nil
}
