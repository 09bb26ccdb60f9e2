package messaging

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/lanchat/lanchat/bench/internal/stats"
)

// requestsMetric is the server's counter of requests by operation and
// result code.
const requestsMetric = "lanchat_rendezvous_requests_total"

// scrapeRequests reads the server's request counters from its /metrics,
// summed over result codes, by operation.
func scrapeRequests(ctx context.Context, addr string) (map[string]float64, error) {
	m, err := stats.Scrape(ctx, addr)
	if err != nil {
		return nil, err
	}
	return requestsByOp(m), nil
}

// requestsByOp picks the request counters out of scraped series, summing
// the result codes of each operation.
func requestsByOp(series map[string]float64) map[string]float64 {
	out := make(map[string]float64)
	for s, v := range series {
		labels, ok := strings.CutPrefix(s, requestsMetric+"{")
		if !ok {
			continue
		}
		if op := label(strings.TrimSuffix(labels, "}"), "op"); op != "" {
			out[op] += v
		}
	}
	return out
}

// label returns the value of label name in a Prometheus label list such
// as `code="ok",op="relay.send"`. Our op names hold no quotes or commas.
func label(labels, name string) string {
	for _, kv := range strings.Split(labels, ",") {
		if v, ok := strings.CutPrefix(kv, name+"=\""); ok {
			return strings.TrimSuffix(v, "\"")
		}
	}
	return ""
}

// perMessage returns how many more requests of each operation after made
// than before, divided by n messages; operations that did not grow are
// left out.
func perMessage(before, after map[string]float64, n int) map[string]float64 {
	out := make(map[string]float64)
	if n <= 0 {
		return out
	}
	for op, v := range after {
		if d := v - before[op]; d > 0 {
			out[op] = d / float64(n)
		}
	}
	return out
}

// sum adds up the counts of every operation.
func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}

// meanRequests averages the per-message requests of the rounds that were
// counted.
func meanRequests(rounds []round) map[string]float64 {
	out := make(map[string]float64)
	n := 0
	for _, rd := range rounds {
		if rd.requests == nil {
			continue
		}
		n++
		for op, v := range rd.requests {
			out[op] += v
		}
	}
	for op := range out {
		out[op] /= float64(n)
	}
	return out
}

// opsString lists per-message request counts as "op n, …", largest
// first, or "none".
func opsString(m map[string]float64) string {
	if len(m) == 0 {
		return "none"
	}
	ops := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(ops, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = op + " " + stats.Number(m[op])
	}
	return strings.Join(parts, ", ")
}
