package messaging

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"
)

// reRequests picks the operation out of a series of the server's
// counter of requests by operation and result code.
var reRequests = regexp.MustCompile(`^lanchat_rendezvous_requests_total\{.*\bop="([^"]+)"`)

// scrapeRequests reads the server's request counters from its /metrics,
// summed over result codes, by operation.
func scrapeRequests(ctx context.Context, addr string) (map[string]float64, error) {
	series, err := stats.Scrape(ctx, addr)
	out := map[string]float64{}
	for s, v := range series {
		if m := reRequests.FindStringSubmatch(s); m != nil {
			out[m[1]] += v
		}
	}
	return out, err
}

// perMessage returns how many more requests of each operation after made
// than before, divided by n messages; operations that did not grow are
// left out.
func perMessage(before, after map[string]float64, n int) map[string]float64 {
	out := map[string]float64{}
	for op, v := range after {
		if d := v - before[op]; d > 0 && n > 0 {
			out[op] = d / float64(n)
		}
	}
	return out
}

// opsString lists per-message request counts as "op n, …", largest
// first, or "none".
func opsString(m map[string]float64) string {
	ops := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(ops, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	for i, op := range ops {
		ops[i] = op + " " + stats.Number(m[op])
	}
	return cmp.Or(strings.Join(ops, ", "), "none")
}

// report renders the run as Markdown: what ran where, the table, the
// notes.
func (r *benchmark) report() string {
	rep := cli.NewReport("messaging benchmark", r.Start, r.Elapsed, r.Loadavg, "bench/run.sh builds the binaries with the same toolchain")
	rep.Fact("server, daemons and the benchmark share this machine's CPUs; all traffic is on 127.0.0.1")
	cmds := r.Commands("second part, after the server benchmark")
	var others []string
	if r.bed != nil && r.bed.Server != nil {
		cmds = append(cmds, fmt.Sprintf("server (pid %d): `%s`", r.bed.Server.PID(), r.bed.Server.Command()))
		for i, u := range r.bed.Daemons {
			cmds = append(cmds, fmt.Sprintf("%s's daemon (pid %d): `%s`", u.Name, u.PID(), u.Command()))
			if i > 0 {
				others = append(others, u.Name)
			}
		}
	}
	rep.List("Commands:", append(cmds,
		"each user registered through its daemon's local API (POST /v1/register, what `lanchat --home DIR register USER --password-stdin` does); "+
			"alice befriended "+strings.Join(others, ", ")+" (`lanchat friend add USER`, then `lanchat friend accept alice` on their side)",
		"every message: `lanchat send USER TEXT` (POST /v1/messages) on alice's daemon, timed until it shows on the receiver's event stream (GET /v1/events, as `lanchat watch` reads it)"))
	rep.WriteString("\n" + r.table())
	rep.List("How to read it:", r.legend())
	rep.List("Notes:", r.Notes)
	return rep.String()
}

// table renders the measurements, medians over their rounds.
func (r *benchmark) table() string {
	var rows [][]string
	for _, m := range r.rows {
		if len(m.rounds) == 0 {
			rows = append(rows, []string{m.what, m.path, "not run"})
			continue
		}
		var p50, p99, rates, reqs []float64
		var maxLat time.Duration
		sent, arrived := 0, 0
		for _, rd := range m.rounds {
			p50 = append(p50, stats.Millis(stats.Percentile(rd.lat, 0.50)))
			p99 = append(p99, stats.Millis(stats.Percentile(rd.lat, 0.99)))
			rates = append(rates, rd.rate())
			maxLat = max(maxLat, stats.Percentile(rd.lat, 1))
			if rd.requests != nil {
				reqs = append(reqs, 0)
				for _, v := range rd.requests {
					reqs[len(reqs)-1] += v
				}
			}
			sent, arrived = sent+rd.sent, arrived+rd.arrived
		}
		rounds := fmt.Sprintf("%d rounds", len(m.rounds))
		if len(m.rounds) == 1 {
			rounds = "1 round"
		}
		msgs := fmt.Sprintf("%d × %s", m.rounds[0].arrived, rounds)
		rate, spreads := "—", fmt.Sprintf("p50 %s, p99 %s", stats.Spread(p50), stats.Spread(p99))
		if m.throughput {
			msgs = fmt.Sprintf("%d of %d sent, %s", arrived, sent, rounds)
			rate = stats.Number(stats.Median(rates))
			spreads = fmt.Sprintf("msgs/s %s, p50 %s", stats.Spread(rates), stats.Spread(p50))
		}
		p99s := stats.Number(stats.Median(p99))
		if m.rounds[0].arrived == 1 && len(m.rounds) == 1 {
			p99s, spreads = "—", "one message"
		}
		rows = append(rows, []string{m.what, m.path, msgs, stats.Number(stats.Median(p50)), p99s, stats.Number(stats.Millis(maxLat)), rate, stats.Number(stats.Median(reqs)), spreads})
	}
	return cli.Table([]string{"measurement", "path", "messages:", "p50 ms:", "p99 ms:", "max ms:", "msgs/s:", "server requests per message:", "spread over rounds"}, rows)
}

// legend explains the columns and how each path was arranged.
func (r *benchmark) legend() []string {
	out := []string{
		"latency: from just before alice's Send call to the moment the benchmark reads the message's event from the receiver's stream (the local API and its event stream included, as a user would see it); " +
			"p50 and p99 are by nearest rank within a round, then the median over rounds; max is the largest of all rounds",
		fmt.Sprintf("one message at a time: %d untimed messages, then %d timed, each sent once the one before arrived", warmup, r.cfg.n),
		fmt.Sprintf("throughput: Sends back to back into one conversation (alice → one receiver) until %d were sent or %v passed, then up to %v for the last to arrive; msgs/s counts arrivals, first Send to last arrival; "+
			"p50/p99 are the latencies under that load; %d senders at once are %d API clients of alice's daemon", tputCount, tputTime, drainTimeout, r.cfg.concurrency, r.cfg.concurrency),
		"server requests per message: the growth of the server's request counters (its /metrics) over a round and until every outbox emptied, divided by the messages that arrived; the sender's, the receiver's and the receipts' requests together, median over rounds",
		"direct: bob's daemon listens on 127.0.0.1 like alice's; Send reports `direct` (one QUIC stream per message, answered after bob's commit)",
	}
	for _, m := range r.rows {
		if m.path == pathRelay && !m.throughput && len(m.rounds) > 1 {
			sums, n := map[string]float64{}, 0
			for _, rd := range m.rounds {
				for op, v := range rd.requests {
					sums[op] += v
				}
				if rd.requests != nil {
					n++
				}
			}
			out = append(out, fmt.Sprintf("server requests per relayed message, %s, by operation (mean over rounds): %s", m.what, opsString(perMessage(nil, sums, n))))
		}
	}
	out = append(out, fmt.Sprintf("the server runs with --request-rate %d (its default is 200 requests per second per connection): each daemon's link carries about half of a relayed message's requests (the column above), "+
		"so at the default the relayed throughput rows would measure the limit, and the outbox's slow retry of what it refused, rather than the relay", requestRate))
	if r.carol != nil {
		out = append(out,
			"relayed: carol's daemon listens on [::1] on the same port number as bob's; alice's socket is IPv4, so the endpoint carol reports cannot be dialled, and the fallback (that port at 127.0.0.1, where the server saw carol) reaches bob, whose key is not carol's: "+
				"each redial fails as soon as bob's certificate arrives (the daemon redials every 20s) and every message is sealed and relayed through the server while both daemons stay online. No packet goes to [::1]",
			"first message to a contact whose direct address times out: dave is set up like carol but nothing listens at his fallback address, so the first Send waits for the 3s dial timeout before relaying; the daemon does this again every 20s (its dial back-off) for as long as the contact stays unreachable")
	}
	return out
}

// checkPaths notes every row whose messages did not all go the way its
// path says, failed Sends, and Sends slow enough to have waited for a
// dial.
func (r *benchmark) checkPaths() {
	for _, m := range r.rows {
		send, recv, errs, slow := stats.Tally{}, stats.Tally{}, stats.Tally{}, 0
		for _, rd := range m.rounds {
			send.Add(rd.sendVia)
			recv.Add(rd.recvVia)
			errs.Add(rd.errs)
			slow += rd.slow
		}
		want := "direct"
		if m.path == pathRelay {
			want = "relay"
		}
		if len(m.rounds) > 0 && (!send.Only(want) || !recv.Only(want) || len(errs) > 0) {
			r.Note("%s, %s: Send said %s; the receiver said %s; failed Sends: %s", m.what, m.path, send, recv, errs)
		}
		if slow > 0 && !strings.HasPrefix(m.what, "latency, first") {
			r.Note("%s, %s: %d Sends took over %v", m.what, m.path, slow, slowSend)
		}
	}
}
