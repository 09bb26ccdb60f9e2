package stats

import (
	"math"
	"testing"
	"time"
)

func TestPercentileAndMedian(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond // 100 … 1, unsorted on purpose
	}
	for _, tt := range []struct {
		d    []time.Duration
		q    float64
		want time.Duration
	}{
		{nil, 0.5, 0},
		{[]time.Duration{9, 1}, 0.5, 1},
		{hundred, 0.50, 50 * time.Millisecond},
		{hundred, 0.99, 99 * time.Millisecond},
		{hundred, 1, 100 * time.Millisecond},
		{[]time.Duration{5, 4, 6}, 0.0001, 4},
	} {
		if got := Percentile(tt.d, tt.q); got != tt.want {
			t.Errorf("Percentile(%d values, %v) = %v, want %v", len(tt.d), tt.q, got, tt.want)
		}
	}
	if hundred[0] != 100*time.Millisecond {
		t.Error("Percentile changed its input")
	}
	if Median([]float64{3, 1, 2}) != 2 || Median([]float64{4, 1, 3, 2}) != 2.5 || !math.IsNaN(Median(nil)) {
		t.Error("Median")
	}
}

func TestFormat(t *testing.T) {
	for x, want := range map[float64]string{math.NaN(): "—", 0.1234: "0.123", 3.14159: "3.14", 12.345: "12.3", 3015.4: "3015"} {
		if got := Number(x); got != want {
			t.Errorf("Number(%v) = %q, want %q", x, got, want)
		}
	}
	if Spread([]float64{12.1, 9.87, 11}) != "9.87–12.1" || Spread([]float64{4.001, 4.002}) != "4.00" || Spread(nil) != "—" {
		t.Error("Spread")
	}
	for n, want := range map[int64]string{4 * GiB: "4 GiB", 3 * GiB / 2: "1.5 GiB", 64 * MiB: "64 MiB", 712: "712 B"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
	a := Tally{"direct": 3}
	a.Add(Tally{"queued": 2, "direct": 1})
	if a.String() != "direct 4, queued 2" || a.Only("direct") || !(Tally{"relay": 5, "direct": 0}).Only("relay") || (Tally{}).String() != "none" {
		t.Errorf("Tally: %v", a)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"4096": 4096, "4KiB": 4 * KiB, "512MB": 512 * MiB, "4G": 4 * GiB, "1.5G": 3 * GiB / 2, " 2g ": 2 * GiB} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "G", "-1G", "0", "four", "1X", "1e300"} {
		if n, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", bad, n)
		}
	}
}
