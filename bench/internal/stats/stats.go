// Package stats is the arithmetic and number formatting the benchmarks'
// reports share: medians, spreads and percentiles of repeated runs, and
// sizes and figures printed the same way in every table.
package stats

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
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
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Median returns the median of x (the mean of the middle two for an even
// count), or NaN for none.
func Median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := slices.Clone(x)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// Millis converts a duration to milliseconds.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Number prints x with about three significant digits, "—" for NaN and
// infinities.
func Number(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case math.Abs(x) >= 100:
		return fmt.Sprintf("%.0f", x)
	case math.Abs(x) >= 10:
		return fmt.Sprintf("%.1f", x)
	case math.Abs(x) >= 1:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.3f", x)
	}
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
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return math.NaN()
	}
	return a / b
}

// ParseSize reads a byte count such as "4G", "4GiB", "512M", "4096" or
// "1.5G"; K, M, G and T are binary multiples.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "i")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'k', 'K':
			mult = KiB
		case 'm', 'M':
			mult = MiB
		case 'g', 'G':
			mult = GiB
		case 't', 'T':
			mult = GiB * KiB
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	x, err := strconv.ParseFloat(t, 64)
	if err != nil || x <= 0 || math.IsInf(x, 0) {
		return 0, fmt.Errorf("size %q: want a positive number of bytes such as 4G, 512M or 4096", s)
	}
	n := x * float64(mult)
	if n > 1<<50 {
		return 0, errors.New("size " + s + ": too large")
	}
	return int64(n), nil
}

// Size prints a byte count with a binary prefix: "4 GiB", "1.5 GiB",
// "4 KiB", "712 B".
func Size(n int64) string {
	units := []struct {
		size int64
		name string
	}{{GiB * KiB, "TiB"}, {GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}}
	for _, u := range units {
		if n >= u.size {
			x := math.Round(float64(n)/float64(u.size)*100) / 100
			return strconv.FormatFloat(x, 'f', -1, 64) + " " + u.name
		}
	}
	return fmt.Sprintf("%d B", n)
}

// Tally counts occurrences by name: how messages went, what failed.
type Tally map[string]int

// String lists the counts as "name n, …" sorted by name, or "none".
func (t Tally) String() string {
	if len(t) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(t)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, t[k]))
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
