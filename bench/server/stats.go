package server

import (
	"fmt"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"
)

// latencies and counts are the shared collectors.
type (
	latencies = stats.Latencies
	counts    = stats.Counts
)

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
		v = stats.Number(x)
	case time.Duration:
		v = stats.Number(stats.Millis(x))
	default:
		v = fmt.Sprint(x)
	}
	t.rows = append(t.rows, row{name, v, unit})
}

// addLatency adds the p50, p99 and (optionally) max rows of l.
func (t *table) addLatency(name string, l *latencies, withMax bool) {
	d := l.All()
	if len(d) == 0 {
		t.add(name+" p50", "n/a", "ms")
		return
	}
	t.add(name+" p50", stats.Percentile(d, 0.50), "ms")
	t.add(name+" p99", stats.Percentile(d, 0.99), "ms")
	if withMax {
		t.add(name+" max", stats.Percentile(d, 1), "ms")
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
	rows := make([][]string, len(t.rows))
	for i, r := range t.rows {
		rows[i] = []string{r.name, r.value, r.unit}
	}
	return cli.Table([]string{"figure", "value:", "unit"}, rows)
}
