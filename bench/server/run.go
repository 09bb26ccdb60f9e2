package server

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/testbed"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// closeWait bounds the wait, after rvload closed everything, for the
// server to let go of its connections.
const closeWait = time.Minute

// bench is one benchmark run and what it found.
type bench struct {
	cli.Run
	cfg     *config
	rows    [][]string
	server  *testbed.Sampler // nil when the server is not measured
	self    *testbed.Sampler
	hello   string            // what the server said in hello, for the report
	scraped bool              // a scrape failure was noted already
	asked   int               // --idle as given, before it was fitted to the descriptor limit
	prekey  keys.SignedPrekey // the HPKE key every account publishes
}

// run runs the phases in order. It returns an error only when nothing
// could be measured; everything else is reported in the table and notes.
func (b *bench) run(ctx context.Context) error {
	cfg := b.cfg
	// Reach the server once before opening thousands of connections.
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := client.Dial(dctx, cfg.addr, client.Options{Fingerprint: cfg.fingerprint, ClientName: "rvload"})
	cancel()
	if err != nil {
		return fmt.Errorf("cannot reach the server: %w", err)
	}
	hello := c.Hello()
	c.Close()
	asked := time.Duration(hello.HeartbeatMS) * time.Millisecond
	interval := cmp.Or(cfg.heartbeat, asked, client.DefaultHeartbeat)
	b.hello = fmt.Sprintf("%s, protocol %d, heartbeat every %v asked", hello.Server, hello.Version, asked)
	b.Say("server at %s answers: %s", cfg.addr, b.hello)

	b.fitDescriptors()
	b.self = testbed.StartSampler("self", time.Second)
	defer b.self.Stop()
	if cfg.serverPID == 0 {
		b.Note("no --server-pid: server memory and CPU not measured")
	} else if _, err := testbed.ReadProc(strconv.Itoa(cfg.serverPID)); err != nil {
		b.Note("server memory and CPU not measured: %v", err)
	} else {
		b.server = testbed.StartSampler(strconv.Itoa(cfg.serverPID), time.Second)
		defer b.server.Stop()
	}

	prekey, err := sharedPrekey()
	if err != nil {
		return err
	}
	b.prekey = prekey
	pool := newIdlePool(ctx, cfg, prekey, interval, &b.Run)
	b.idlePhase(ctx, pool, interval)
	if cfg.senders > 0 && ctx.Err() != nil {
		b.Note("relay phase not run: %v", context.Cause(ctx))
	} else if cfg.senders > 0 {
		b.relayPhase(ctx)
		held, _ := pool.count()
		b.add("idle sessions still held after the relay phase", held, "sessions")
	}
	t := time.Now()
	held, _ := pool.count()
	pool.close()
	b.Say("closed %d idle sessions in %v", held, time.Since(t).Round(time.Millisecond))
	b.afterClose(ctx, time.Now())
	return nil
}

// fitDescriptors lowers --idle when this process may not open that many
// descriptors; the server, started from the same shell, has the same
// limit. Go raises the soft limit to the hard one at start-up.
func (b *bench) fitDescriptors() {
	limit, err := strconv.Atoi(strings.Fields(cli.ProcField("/proc/self/limits", "Max open files") + " x")[0])
	if err != nil {
		b.Note("descriptor limit unknown (/proc/self/limits)")
		return
	}
	// Beyond the idle sessions: the relay pairs, the probe, the first
	// dial, and what the runtime and /proc readings need.
	if others := 2*b.cfg.senders + 2 + 64; b.cfg.idle+others > limit {
		fit := max(limit-others, 0)
		b.Note("--idle %d lowered to %d: rvload may open only %d descriptors (ulimit -n)", b.cfg.idle, fit, limit)
		b.Say("warning: descriptor limit %d: holding %d idle sessions instead of %d", limit, fit, b.cfg.idle)
		b.cfg.idle = fit
	}
}

// window is what the server and rvload spent between two points in time.
type window struct {
	server, self testbed.Sample
	haveServer   bool
	metrics      map[string]float64 // nil when not scraped
}

// mark reads the server's and rvload's CPU and memory now, and with
// metrics its metrics too.
func (b *bench) mark(ctx context.Context, metrics bool) window {
	var w window
	if b.server != nil {
		var err error
		if w.server, err = b.server.Sample(); err != nil {
			b.Note("server sample failed: %v", err)
		}
		w.haveServer = err == nil
	}
	w.self, _ = b.self.Sample()
	if metrics {
		w.metrics = b.scrape(ctx)
	}
	return w
}

// peakRSS is the server's largest RSS from w to e.
func (b *bench) peakRSS(w, e window) int64 {
	return max(b.server.PeakRSS(w.server.At, e.server.At), w.server.RSS, e.server.RSS)
}

// scrape reads the server's metrics, or returns nil when --metrics was not
// given or the scrape failed (noted once).
func (b *bench) scrape(ctx context.Context) map[string]float64 {
	if b.cfg.metrics == "" {
		return nil
	}
	m, err := stats.Scrape(ctx, b.cfg.metrics)
	if err != nil && !b.scraped {
		b.Note("server metrics not read: %v", err)
		b.scraped = true
	}
	return m
}

// idlePhase opens and holds the idle sessions (phase a). They stay open:
// the relay phase runs while they are held.
func (b *bench) idlePhase(ctx context.Context, pool *idlePool, interval time.Duration) {
	cfg := b.cfg
	before := b.mark(ctx, true)
	b.Say("opening %d idle sessions from %d source addresses, %d at a time; heartbeat every %v", cfg.idle, max(len(pool.sources), 1), cfg.dialConcurrency, interval)
	pool.fill(ctx, cfg.idle, cfg.dialConcurrency, cfg.setupTimeout)
	setup := time.Since(before.self.At)
	opened, _ := pool.count()
	b.Say("idle sessions: %d held after %v", opened, setup.Round(time.Millisecond))
	b.add("idle sessions asked for (--idle)", b.asked, "sessions")
	if cfg.idle != b.asked {
		b.add("idle sessions tried (fit the descriptor limit)", cfg.idle, "sessions")
	}
	b.add("idle sessions opened (TLS, hello, register)", opened, "sessions")
	b.add("idle set-up time", setup.Seconds(), "s")
	b.add("idle set-up rate", float64(opened)/setup.Seconds(), "sessions/s")
	hs := b.mark(ctx, false)
	if hs.haveServer {
		b.add("server CPU during the idle set-up", testbed.CPUPercent(before.server, hs.server), "% of one core")
	}

	b.Say("holding %d idle sessions for %v", opened, cfg.hold)
	_, replies0 := pool.count()
	pings0 := pool.pings.Load()
	sleepCtx(ctx, cfg.hold)
	he := b.mark(ctx, true)
	held, replies1 := pool.count()
	pings1 := pool.pings.Load()
	b.Say("idle sessions: %d still held after the hold", held)
	b.add("idle sessions held at the end of the hold", held, "sessions")
	if hs.haveServer {
		b.addBytes("server RSS before the idle sessions", before.server.RSS)
		b.addBytes("server RSS peak during the hold", b.peakRSS(hs, he))
		b.addBytes("server RSS at the end of the hold", he.server.RSS)
		if held > 0 {
			b.add("server RSS per held session", float64(he.server.RSS-before.server.RSS)/float64(held)/1024, "KiB")
		}
		b.add(fmt.Sprintf("server CPU during the hold (heartbeats every %v)", interval), testbed.CPUPercent(hs.server, he.server), "% of one core")
	}
	if secs := he.self.At.Sub(hs.self.At).Seconds(); secs > 0 {
		b.add("heartbeats sent during the hold", float64(pings1-pings0)/secs, "pings/s")
		b.add("heartbeat replies during the hold", float64(replies1-replies0)/secs, "replies/s")
	}
	b.add("rvload CPU during the hold", testbed.CPUPercent(hs.self, he.self), "% of one core")
	if m := he.metrics; m != nil {
		const when = "at the end of the hold"
		b.add("server goroutines "+when, int64(m["go_goroutines"]), "goroutines")
		b.addBytes("server Go heap in use "+when, int64(m["go_memstats_heap_inuse_bytes"]))
		b.addBytes("server goroutine stacks "+when, int64(m["go_memstats_stack_inuse_bytes"]))
		b.add("server open descriptors "+when, int64(m["process_open_fds"]), "fds")
		if before.metrics != nil && held > 0 {
			per := func(name string) float64 { return (m[name] - before.metrics[name]) / float64(held) }
			b.add("server goroutines per held session", per("go_goroutines"), "goroutines")
			b.add("server Go heap in use per held session", per("go_memstats_heap_inuse_bytes")/1024, "KiB")
			b.add("server goroutine stack per held session", per("go_memstats_stack_inuse_bytes")/1024, "KiB")
		}
	}
	if n := pool.pingErrs.Load(); n > 0 {
		b.Note("%d heartbeat writes failed", n)
	}
	if s := pool.endings.String(); s != "none" {
		b.Note("idle sessions that ended while held: %s", s)
	}
}

// relayPhase measures relay throughput and request latency while the
// idle sessions are held (phases b and c).
func (b *bench) relayPhase(ctx context.Context) {
	cfg := b.cfg
	rr := &relayRun{cfg: cfg, prekey: b.prekey}
	defer rr.close()
	b.Say("relay: setting up %d sender/recipient pairs and the probe", cfg.senders)
	if err := rr.setup(ctx); err != nil {
		b.Note("relay phase not run: %v", err)
		b.Say("relay set-up failed: %v", err)
		return
	}
	b.Say("relay: %d senders (%g messages/s in all, 0: back to back) for %v; probe at %g/s", cfg.senders, cfg.rate, cfg.duration, cfg.probeRate)
	rs := b.mark(ctx, true)
	elapsed := rr.run(ctx)
	re := b.mark(ctx, false)
	inWindow := rr.delivered.Load()
	rr.drain(ctx)
	mAfter := b.scrape(ctx)
	queued, total := rr.queued.Load(), rr.total.Load()
	b.Say("relay: %d acknowledged, %d delivered in %v; %d delivered after the drain", queued, inWindow, elapsed.Round(time.Millisecond), total)

	secs := elapsed.Seconds()
	b.add("relay pairs (sender → recipient, friends)", cfg.senders, "pairs")
	if cfg.recipientAddr != cfg.addr {
		b.Note("relay senders on %s, their recipients on %s: every message crosses between the two nodes", cfg.addr, cfg.recipientAddr)
	}
	b.add("ids per relay.ack (at most, beyond one relay event's)", cfg.ackBatch, "ids")
	b.add("envelopes per relay.send", cfg.sendBatch, "envelopes")
	if cfg.rate > 0 {
		b.add("relayed messages offered per second (--rate)", cfg.rate, "msg/s")
	}
	b.add("relay.send acknowledged (committed) per second", float64(queued)/secs, "msg/s")
	b.add("relayed messages delivered to recipients per second", float64(inWindow)/secs, "msg/s")
	b.add("relay.send acknowledged in all", queued, "messages")
	b.add("delivered after a drain of up to "+drainTimeout.String(), total, "messages")
	b.add("relay.send errors", rr.sendErrs.Total(), "requests")
	if mBefore := rs.metrics; mBefore != nil && mAfter != nil && total > 0 {
		per := func(series string) float64 { return (mAfter[series] - mBefore[series]) / float64(total) }
		b.add("server relay.send requests per relayed message", per(`lanchat_rendezvous_requests_total{code="ok",op="relay.send"}`), "requests")
		b.add("server relay.ack requests per relayed message", per(`lanchat_rendezvous_requests_total{code="ok",op="relay.ack"}`), "requests")
		if _, ok := mAfter["lanchat_rendezvous_relay_commits_total"]; ok {
			b.add("server relay commits (fsyncs) per relayed message, sends and acks", per("lanchat_rendezvous_relay_commits_total"), "commits")
		}
	}
	if rs.haveServer && re.haveServer {
		cpu := testbed.CPUPercent(rs.server, re.server)
		b.add("server CPU during the relay phase", cpu, "% of one core")
		if queued > 0 {
			// What a message costs the server, whatever else shares the
			// machine: the figure that tells how many a core can take.
			b.add("server CPU time per acknowledged message", cpu/100*re.server.At.Sub(rs.server.At).Seconds()/float64(queued)*1e6, "µs")
		}
		b.addBytes("server RSS peak during the relay phase", b.peakRSS(rs, re))
	}
	b.add("rvload CPU during the relay phase", testbed.CPUPercent(rs.self, re.self), "% of one core")
	if mAfter != nil {
		b.add("server goroutines at the end of the relay phase", int64(mAfter["go_goroutines"]), "goroutines")
	}
	b.addLatency("relay.send latency", &rr.sendLat, true)
	b.addLatency("delivery latency (relay.send → relay event)", &rr.deliverLat, false)
	b.addLatency(fmt.Sprintf("probe friends.list latency (%d friends, %g/s)", len(rr.pairs), cfg.probeRate), &rr.listLat, false)
	b.addLatency(fmt.Sprintf("probe ping latency (%g/s)", cfg.probeRate), &rr.pingLat, false)
	if planned := int(cfg.probeRate * secs); rr.probeRounds < planned*9/10 {
		b.Note("the probe made %d rounds of the %d planned: the server held it up", rr.probeRounds, planned)
	}
	for i, c := range []*stats.Counts{&rr.probeErrs, &rr.sendErrs, &rr.ackErrs} {
		if s := c.String(); s != "none" {
			b.Note("%s: %s", []string{"probe errors", "relay.send errors", "relay.ack errors"}[i], s)
		}
	}
	if n := rr.exhausted.Load(); n > 0 {
		b.Note("%d senders used all %d pre-sealed envelopes before the end: the throughput figure is a lower bound; raise --pool", n, cfg.pool)
	}
	if lost := queued - total; lost > 0 {
		b.Note("%d acknowledged messages had not reached their recipient %v after the senders stopped", lost, drainTimeout)
	}
}

// afterClose checks, once rvload has closed every connection, that the
// server lets go of them (connections and goroutines), and how long it
// takes: each ending session is written to the store.
func (b *bench) afterClose(ctx context.Context, closed time.Time) {
	m := b.scrape(ctx)
	for ; m != nil && m["lanchat_rendezvous_connections_open"] > 0 && time.Since(closed) <= closeWait && ctx.Err() == nil; m = b.scrape(ctx) {
		sleepCtx(ctx, 100*time.Millisecond)
	}
	if m == nil {
		return
	}
	open := int64(m["lanchat_rendezvous_connections_open"])
	if open == 0 {
		b.add("time for the server to close every session after rvload closed them", time.Since(closed).Seconds(), "s")
	} else {
		b.Note("%d connections were still open on the server %v after rvload closed all of its own", open, closeWait)
	}
	b.add("server connections open then", open, "connections")
	b.add("server goroutines then", int64(m["go_goroutines"]), "goroutines")
	if w := b.mark(ctx, false); w.haveServer {
		b.addBytes("server RSS then (Go returns freed memory lazily)", w.server.RSS)
	}
	var rejected float64
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.HasPrefix(k, "lanchat_rendezvous_connections_rejected_total") {
			rejected += m[k]
			b.Note("server metric %s = %g", k, m[k])
		}
	}
	b.add("connections the server refused or dropped, whole run", int64(rejected), "connections")
}

// add appends a row; a float gets a precision suited to its size.
func (b *bench) add(name string, value any, unit string) {
	v := fmt.Sprint(value)
	if x, ok := value.(float64); ok {
		v = stats.Number(x)
	}
	b.rows = append(b.rows, []string{name, v, unit})
}

// addLatency adds the p50, p99 and (optionally) max rows of l.
func (b *bench) addLatency(name string, l *stats.Latencies, withMax bool) {
	d := l.All()
	if len(d) == 0 {
		b.add(name+" p50", "n/a", "ms")
		return
	}
	for i, q := range []float64{0.50, 0.99, 1} {
		if i < 2 || withMax {
			b.add(name+[]string{" p50", " p99", " max"}[i], stats.Millis(stats.Percentile(d, q)), "ms")
		}
	}
}

// addBytes adds a memory figure in MiB.
func (b *bench) addBytes(name string, n int64) { b.add(name, float64(n)/stats.MiB, "MiB") }

// report is the run's Markdown report: machine, command lines, the table
// and the notes.
func (b *bench) report() string {
	r := cli.NewReport("rendezvous server benchmark", b.Start, b.Elapsed, b.Loadavg, "rvload; built with the same toolchain as the server by bench/run.sh")
	r.Fact("load generator: `%s`", testbed.ShellQuote(os.Args))
	if pid := b.cfg.serverPID; pid > 0 {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		r.Fact("server (pid %d): `%s`", pid, testbed.ShellQuote(strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")))
		if f := strings.Fields(cli.ProcField(fmt.Sprintf("/proc/%d/limits", pid), "Max open files")); len(f) >= 2 {
			r.Fact("server descriptor limit: %s (soft), %s (hard)", f[0], f[1])
		}
	}
	if b.hello != "" {
		r.Fact("server hello: %s", b.hello)
	}
	r.Fact("load generator and server share this machine's CPUs; CPU figures are in percent of one core (%d cores = %d%%)\n", runtime.NumCPU(), 100*runtime.NumCPU())
	r.WriteString(cli.Table([]string{"figure", "value:", "unit"}, b.rows))
	r.List("Notes:", b.Notes)
	return r.String()
}
