package messaging

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// percentile returns the q-quantile (0 < q ≤ 1) of d by nearest rank: the
// smallest value with at least q of the values at or below it. d need not
// be sorted; it is not changed. An empty d gives 0.
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// median returns the median of x (the mean of the middle two for an even
// count), or NaN for none.
func median(x []float64) float64 {
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

// millis converts a duration to milliseconds.
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// formatNumber prints x with about three significant digits, "—" for
// NaN.
func formatNumber(x float64) string {
	switch {
	case math.IsNaN(x):
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

// spread prints the lowest and highest of x as "lo–hi", or the one value.
func spread(x []float64) string {
	if len(x) == 0 {
		return "—"
	}
	lo, hi := slices.Min(x), slices.Max(x)
	if len(x) == 1 || formatNumber(lo) == formatNumber(hi) {
		return formatNumber(lo)
	}
	return formatNumber(lo) + "–" + formatNumber(hi)
}

// tally counts occurrences by name: how messages went, what failed.
type tally map[string]int

// String lists the counts as "name n, …" sorted by name, or "none".
func (t tally) String() string {
	if len(t) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(t)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, t[k]))
	}
	return strings.Join(parts, ", ")
}

// only reports whether every count is under name.
func (t tally) only(name string) bool {
	for k, v := range t {
		if k != name && v > 0 {
			return false
		}
	}
	return true
}

// add adds every count of u.
func (t tally) add(u tally) {
	for k, v := range u {
		t[k] += v
	}
}
