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
