package messaging

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"github.com/lanchat/lanchat/bench/internal/stats"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// requestsMetric is the server's counter of requests by operation and
// result code.
const requestsMetric = "lanchat_rendezvous_requests_total"

// scrapeRequests reads the server's request counters from its /metrics,
// summed over result codes, by operation.
func scrapeRequests(ctx context.Context, addr string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape metrics: %s", resp.Status)
	}
	return parseRequests(io.LimitReader(resp.Body, 16<<20))
}

// parseRequests picks the request counters out of the Prometheus text
// format, summing the result codes of each operation.
func parseRequests(r io.Reader) (map[string]float64, error) {
	out := make(map[string]float64)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		labels, ok := strings.CutPrefix(sc.Text(), requestsMetric+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(labels, "} ")
		if !ok {
			continue
		}
		op, fields := label(labels, "op"), strings.Fields(value)
		if op == "" || len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		out[op] += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return out, nil
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
