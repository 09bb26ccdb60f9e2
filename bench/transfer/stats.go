package transfer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Units: sizes in binary prefixes (KiB, MiB, GiB) as files are counted,
// rates in decimal megabytes per second (MB/s = 10⁶ bytes/s) and
// megabits (Mbit/s), as links and iperf3 are.
const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

// parseSize reads a byte count such as "4G", "4GiB", "512M", "4096" or
// "1.5G"; K, M, G and T are binary multiples.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "i")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'k', 'K':
			mult = kib
		case 'm', 'M':
			mult = mib
		case 'g', 'G':
			mult = gib
		case 't', 'T':
			mult = gib * kib
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

// formatSize prints a byte count with a binary prefix: "4 GiB",
// "1.5 GiB", "4 KiB", "712 B".
func formatSize(n int64) string {
	units := []struct {
		size int64
		name string
	}{{gib * kib, "TiB"}, {gib, "GiB"}, {mib, "MiB"}, {kib, "KiB"}}
	for _, u := range units {
		if n >= u.size {
			x := math.Round(float64(n)/float64(u.size)*100) / 100
			return strconv.FormatFloat(x, 'f', -1, 64) + " " + u.name
		}
	}
	return fmt.Sprintf("%d B", n)
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

// formatNumber prints x with about three significant digits, "—" for
// NaN.
func formatNumber(x float64) string {
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

// spread prints the lowest and highest of x as "lo–hi", or the one value.
func spread(x []float64) string {
	if len(x) == 0 {
		return "—"
	}
	lo, hi := formatNumber(slices.Min(x)), formatNumber(slices.Max(x))
	if lo == hi {
		return lo
	}
	return lo + "–" + hi
}

// ratio is a/b, NaN when either is unknown or b is zero.
func ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return math.NaN()
	}
	return a / b
}

// megabytes converts bytes per second to MB/s.
func megabytes(bps float64) float64 { return bps / 1e6 }

// megabits converts bytes per second to Mbit/s.
func megabits(bps float64) float64 { return bps * 8 / 1e6 }
