package webapp

import (
	"strings"
	"testing"
	"time"
)

func TestReport(t *testing.T) {
	r := report{
		n: 2, history: 10000,
		app:  []time.Duration{10 * time.Millisecond, 20 * time.Millisecond},
		api:  []time.Duration{time.Millisecond, 2 * time.Millisecond},
		open: []time.Duration{150 * time.Millisecond},
		heap: heapResult{before: 3 << 20, after: 5 << 20, steps: 40, reachedTop: true},
	}
	md := r.markdown()
	for _, want := range []string{
		"Send pressed in alice's app → shown in bob's app | 2 | 10.0 ms | 20.0 ms | 20.0 ms |",
		"(API alone) | 2 | 1.0 ms | 2.0 ms |",
		"open a 10000-message conversation: click → newest message shown | 1 | 150.0 ms |",
		"| with the 10000-message conversation open | 3.0 MiB |",
		"(40 steps, reached the first message) | 5.0 MiB |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
