package stats

import (
	"math"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1, unsorted on purpose
	}
	fiveHundred := make([]int, 500)
	for i := range fiveHundred {
		fiveHundred[i] = i + 1
	}
	for _, tt := range []struct {
		name string
		d    []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.5, 7 * time.Millisecond},
		{"one p99", ms(7), 0.99, 7 * time.Millisecond},
		{"two p50 is the lower", ms(9, 1), 0.5, time.Millisecond},
		{"three p50", ms(3, 1, 2), 0.5, 2 * time.Millisecond},
		{"100 p50", ms(hundred...), 0.50, 50 * time.Millisecond},
		{"100 p99", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"100 max", ms(hundred...), 1, 100 * time.Millisecond},
		{"500 p99 is the 495th", ms(fiveHundred...), 0.99, 495 * time.Millisecond},
		{"tiny q is the minimum", ms(5, 4, 6), 0.0001, 4 * time.Millisecond},
	} {
		if got := Percentile(tt.d, tt.q); got != tt.want {
			t.Errorf("%s: Percentile(%v, %v) = %v, want %v", tt.name, tt.d, tt.q, got, tt.want)
		}
	}
	d := ms(3, 1, 2)
	Percentile(d, 0.5)
	if d[0] != 3*time.Millisecond || d[1] != time.Millisecond {
		t.Errorf("percentile changed its input: %v", d)
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		x    []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 10, 1000}, 10},
	} {
		if got := Median(tt.x); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.x, got, tt.want)
		}
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
}

func TestFormatNumberAndSpread(t *testing.T) {
	for _, tt := range []struct {
		x    float64
		want string
	}{
		{math.NaN(), "—"},
		{0, "0.000"},
		{0.1234, "0.123"},
		{3.14159, "3.14"},
		{12.345, "12.3"},
		{3015.4, "3015"},
	} {
		if got := Number(tt.x); got != tt.want {
			t.Errorf("Number(%v) = %q, want %q", tt.x, got, tt.want)
		}
	}
	if got := Spread([]float64{12.1, 9.87, 11}); got != "9.87–12.1" {
		t.Errorf("spread = %q", got)
	}
	if got := Spread([]float64{4.001, 4.002}); got != "4.00" {
		t.Errorf("spread of equal-looking values = %q, want one value", got)
	}
	if got := Spread(nil); got != "—" {
		t.Errorf("Spread(nil) = %q", got)
	}
}

func TestTally(t *testing.T) {
	a := Tally{"direct": 3}
	a.Add(Tally{"queued": 2, "direct": 1})
	if got := a.String(); got != "direct 4, queued 2" {
		t.Errorf("String = %q", got)
	}
	if a.Only("direct") {
		t.Error("only(direct) with queued counts")
	}
	if !(Tally{"relay": 5, "direct": 0}).Only("relay") {
		t.Error("only(relay) with a zero count of another")
	}
	if got := (Tally{}).String(); got != "none" {
		t.Errorf("empty String = %q", got)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"4096", 4096},
		{"4K", 4 * KiB},
		{"4KiB", 4 * KiB},
		{"512M", 512 * MiB},
		{"512MB", 512 * MiB},
		{"4G", 4 * GiB},
		{"4GiB", 4 * GiB},
		{"1.5G", 3 * GiB / 2},
		{" 2g ", 2 * GiB},
		{"1T", 1 << 40},
	} {
		got, err := ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "G", "-1G", "0", "four", "1X", "1e300"} {
		if n, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", bad, n)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{4 * GiB, "4 GiB"},
		{3 * GiB / 2, "1.5 GiB"},
		{4 * KiB, "4 KiB"},
		{712, "712 B"},
		{64 * MiB, "64 MiB"},
		{GiB + 1, "1 GiB"},
	} {
		if got := Size(tc.in); got != tc.want {
			t.Errorf("Size(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRatio(t *testing.T) {
	if !math.IsNaN(Ratio(1, 0)) || !math.IsNaN(Ratio(math.NaN(), 1)) || Ratio(3, 2) != 1.5 {
		t.Error("ratio")
	}
}

func ms(n ...int) []time.Duration {
	out := make([]time.Duration, len(n))
	for i, v := range n {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}
