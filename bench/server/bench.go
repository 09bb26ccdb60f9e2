package server

import (
	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"

	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/testbed"

	"github.com/lanchat/lanchat/bench/internal/sysinfo"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// benchConfig is the bench command line.
type benchConfig struct {
	addr, fingerprint string
	recipientAddr     string
	serverPID         int
	metrics           string
	idle              int
	hold              time.Duration
	senders           int
	duration          time.Duration
	dialConcurrency   int
	sources           int
	pool              int
	sealed            int
	bodySize          int
	ackBatch          int
	sendBatch         int
	rate              float64
	probeRate         float64
	setupTimeout      time.Duration
	heartbeat         time.Duration
}

// fdReserve is how many descriptors rvload keeps for itself beyond its
// connections: /proc files, standard streams, the runtime's own.
const fdReserve = 64

func parseBench(args []string, stderr io.Writer) (*benchConfig, error) {
	fs := cli.Flags("bench server", "the rendezvous server benchmark; bench/run.sh runs it", stderr, "bench server --addr 127.0.0.1:7443 --fingerprint 3f9a…c2 --server-pid 4242 --idle 20000 --hold 30s --senders 32 --duration 20s")
	c := &benchConfig{}
	fs.StringVar(&c.addr, "addr", "", "server address, in 127.0.0.0/8 (required)")
	fs.StringVar(&c.recipientAddr, "recipient-addr", "", "a second node of the same service (PostgreSQL store, same certificate), in 127.0.0.0/8, that the relay recipients connect to while the senders stay on --addr (empty: --addr)")
	fs.StringVar(&c.fingerprint, "fingerprint", "", "the server certificate's SHA-256 fingerprint (required)")
	fs.IntVar(&c.serverPID, "server-pid", 0, "the server's process id, for its memory and CPU from /proc (0: not measured)")
	fs.StringVar(&c.metrics, "metrics", "", "the server's --metrics address, in 127.0.0.0/8, for its goroutine and heap figures (optional)")
	fs.IntVar(&c.idle, "idle", 20000, "idle sessions to open and hold")
	fs.DurationVar(&c.hold, "hold", 30*time.Second, "how long to hold the idle sessions before the relay phase")
	fs.IntVar(&c.senders, "senders", 32, "sender/recipient pairs in the relay phase (0: no relay phase)")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "length of the timed relay phase")
	fs.IntVar(&c.dialConcurrency, "dial-concurrency", 256, "idle sessions being opened at once")
	fs.IntVar(&c.sources, "sources", 8, "spread idle sessions over this many source addresses from 127.0.0.2 (0: let the kernel choose)")
	fs.IntVar(&c.pool, "pool", 1200, "envelopes pre-sealed per sender; a sender that uses them all stops early")
	fs.IntVar(&c.sealed, "sealed", 0, "distinct envelopes sealed per sender, the pool reusing them under fresh ids, as the server never opens one (0: every envelope of the pool sealed on its own)")
	fs.IntVar(&c.bodySize, "body", 200, "message body size in bytes")
	fs.IntVar(&c.ackBatch, "ack-batch", 1, "most envelopes a recipient gathers into one relay.ack beyond one relay event's (1: each event's on their own, as they arrive)")
	fs.IntVar(&c.sendBatch, "send-batch", 1, "envelopes per relay.send request (1: each on its own)")
	fs.Float64Var(&c.rate, "rate", 0, "relayed messages per second offered by all senders together, spread evenly (0: each sender back to back), to measure latency below the most the server takes")
	fs.Float64Var(&c.probeRate, "probe-rate", 50, "probe rounds per second (one friends.list and one ping each) during the relay phase")
	fs.DurationVar(&c.setupTimeout, "setup-timeout", 3*time.Minute, "give up opening idle sessions after this long")
	fs.DurationVar(&c.heartbeat, "heartbeat", 0, "idle session heartbeat interval (0: what the server asks for in hello)")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	if err := checkLoopback("addr", c.addr); err != nil {
		return nil, err
	}
	if c.recipientAddr != "" {
		if err := checkLoopback("recipient-addr", c.recipientAddr); err != nil {
			return nil, err
		}
	}
	if err := requireFingerprint(c.fingerprint); err != nil {
		return nil, err
	}
	if c.metrics != "" {
		if err := checkLoopback("metrics", c.metrics); err != nil {
			return nil, err
		}
	}
	switch {
	case c.idle < 0, c.senders < 0, c.sources < 0, c.sources > 200:
		return nil, fmt.Errorf("%w: --idle and --senders must not be negative; --sources must be 0 to 200", errUsage)
	case c.senders > 999:
		return nil, fmt.Errorf("%w: --senders must be at most 999", errUsage)
	case c.dialConcurrency < 1, c.pool < 1, c.bodySize < 1, c.probeRate < 0, c.sealed < 0, c.rate < 0:
		return nil, fmt.Errorf("%w: --dial-concurrency, --pool and --body must be positive, --probe-rate, --sealed and --rate not negative", errUsage)
	case c.sendBatch < 1, c.sendBatch > wire.MaxRelayBatch:
		return nil, fmt.Errorf("%w: --send-batch must be 1 to %d", errUsage, wire.MaxRelayBatch)
	case c.ackBatch < 1, c.ackBatch > wire.MaxAckIDs:
		return nil, fmt.Errorf("%w: --ack-batch must be 1 to %d", errUsage, wire.MaxAckIDs)
	case c.hold < 0, c.duration <= 0, c.setupTimeout <= 0, c.heartbeat < 0:
		return nil, fmt.Errorf("%w: durations must be positive", errUsage)
	}
	return c, nil
}

// maxRun bounds the whole run, whatever happens.
func (c *benchConfig) maxRun() time.Duration {
	return c.setupTimeout + c.hold + c.duration + drainTimeout + closeWait + 2*time.Minute
}

// bench is one benchmark run and what it found.
type bench struct {
	cfg     *benchConfig
	stderr  io.Writer
	start   time.Time
	tab     table
	notes   []string
	server  *testbed.Sampler // nil when the server is not measured
	self    *testbed.Sampler
	hello   string // what the server said in hello, for the report
	scraped bool   // a scrape failure was noted already
	asked   int    // --idle as given, before fitDescriptors
	loadavg string // the machine's load average at the start
	elapsed time.Duration
}

func cmdBench(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseBench(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := cli.Context()
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.maxRun())
	defer cancel()

	b := &bench{cfg: cfg, stderr: stderr, start: time.Now(), asked: cfg.idle, loadavg: sysinfo.LoadAverage()}
	runErr := b.run(ctx)
	b.elapsed = time.Since(b.start)
	if ctx.Err() != nil && runErr == nil {
		b.note("the run was cut short (%v): figures cover what was done", context.Cause(ctx))
	}
	b.report(stdout, os.Args)
	return runErr
}

// logf prints a progress line on stderr.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

// note adds a line under the table, once.
func (b *bench) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !slices.Contains(b.notes, n) {
		b.notes = append(b.notes, n)
	}
}

// run runs the phases in order. It returns an error only when nothing
// could be measured; everything else is reported in the table and notes.
func (b *bench) run(ctx context.Context) error {
	cfg := b.cfg
	opts := client.Options{Fingerprint: cfg.fingerprint, ClientName: "rvload", EventBuffer: 1024}

	// Reach the server once before opening thousands of connections.
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := client.Dial(dctx, cfg.addr, opts)
	cancel()
	if err != nil {
		return fmt.Errorf("cannot reach the server: %w", err)
	}
	hello := c.Hello()
	c.Close()
	interval := cfg.heartbeat
	if interval == 0 {
		interval = time.Duration(hello.HeartbeatMS) * time.Millisecond
	}
	if interval <= 0 {
		interval = client.DefaultHeartbeat
	}
	b.hello = fmt.Sprintf("%s, protocol %d, heartbeat every %v asked", hello.Server, hello.Version, time.Duration(hello.HeartbeatMS)*time.Millisecond)
	b.logf("server at %s answers: %s", cfg.addr, b.hello)

	b.fitDescriptors()
	b.self = testbed.StartSampler("self", time.Second)
	defer b.self.Stop()
	if cfg.serverPID > 0 {
		if _, err := testbed.ReadProc(strconv.Itoa(cfg.serverPID)); err != nil {
			b.note("server memory and CPU not measured: %v", err)
		} else {
			b.server = testbed.StartSampler(strconv.Itoa(cfg.serverPID), time.Second)
			defer b.server.Stop()
		}
	} else {
		b.note("no --server-pid: server memory and CPU not measured")
	}

	pool, err := b.idlePhase(ctx, interval)
	var closeOnce sync.Once
	closePool := func() {
		closeOnce.Do(func() {
			if pool == nil {
				return
			}
			t := time.Now()
			n := pool.held()
			pool.close()
			b.logf("closed %d idle sessions in %v", n, time.Since(t).Round(time.Millisecond))
		})
	}
	defer closePool()
	if err != nil {
		return err
	}
	switch {
	case cfg.senders == 0:
	case ctx.Err() != nil:
		b.note("relay phase not run: %v", context.Cause(ctx))
	default:
		b.relayPhase(ctx, opts)
		b.tab.add("idle sessions still held after the relay phase", pool.held(), "sessions")
	}
	closePool()
	b.afterClose(ctx, time.Now())
	return nil
}

// closeWait bounds the wait, after rvload closed everything, for the
// server to let go of its connections.
const closeWait = time.Minute

// afterClose checks, once rvload has closed every connection, that the
// server lets go of them (connections and goroutines), and how long it
// takes: each ending session is written to the store.
func (b *bench) afterClose(ctx context.Context, closed time.Time) {
	if b.cfg.metrics == "" {
		return
	}
	var m map[string]float64
	deadline := closed.Add(closeWait)
	for {
		if m = b.scrape(ctx); m == nil {
			return
		}
		if m["lanchat_rendezvous_connections_open"] == 0 || !time.Now().Before(deadline) || ctx.Err() != nil {
			break
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
	open := int64(m["lanchat_rendezvous_connections_open"])
	if open == 0 {
		b.tab.add("time for the server to close every session after rvload closed them", time.Since(closed).Seconds(), "s")
	} else {
		b.note("%d connections were still open on the server %v after rvload closed all of its own", open, closeWait)
	}
	b.tab.add("server connections open then", open, "connections")
	b.tab.add("server goroutines then", int64(m["go_goroutines"]), "goroutines")
	if p, ok := b.serverSample(); ok {
		b.tab.addBytes("server RSS then (Go returns freed memory lazily)", p.RSS)
	}
	var rejected float64
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.HasPrefix(k, "lanchat_rendezvous_connections_rejected_total") {
			rejected += m[k]
			b.note("server metric %s = %g", k, m[k])
		}
	}
	b.tab.add("connections the server refused or dropped, whole run", int64(rejected), "connections")
}

// fitDescriptors lowers --idle when this process may not open that many
// descriptors; the server, started from the same shell, has the same
// limit. Go raises the soft limit to the hard one at start-up.
func (b *bench) fitDescriptors() {
	limit, err := descriptorLimit()
	if err != nil {
		b.note("descriptor limit unknown: %v", err)
		return
	}
	others := 2*b.cfg.senders + 2 + fdReserve
	if need := uint64(b.cfg.idle + others); need > limit {
		fit := max(int(limit)-others, 0)
		b.note("--idle %d lowered to %d: rvload may open only %d descriptors (ulimit -n)", b.cfg.idle, fit, limit)
		b.logf("warning: descriptor limit %d: holding %d idle sessions instead of %d", limit, fit, b.cfg.idle)
		b.cfg.idle = fit
	}
}

// serverSample reads the server's memory and CPU now, if measured.
func (b *bench) serverSample() (testbed.Sample, bool) {
	if b.server == nil {
		return testbed.Sample{}, false
	}
	p, err := b.server.Sample()
	if err != nil {
		b.note("server sample failed: %v", err)
		return p, false
	}
	return p, true
}

// selfSample reads this process's memory and CPU now.
func (b *bench) selfSample() (testbed.Sample, bool) {
	p, err := b.self.Sample()
	return p, err == nil
}

// scrape reads the server's metrics, or returns nil when --metrics was not
// given or the scrape failed (noted once).
func (b *bench) scrape(ctx context.Context) map[string]float64 {
	if b.cfg.metrics == "" {
		return nil
	}
	m, err := stats.Scrape(ctx, b.cfg.metrics)
	if err != nil {
		if !b.scraped {
			b.note("server metrics not read: %v", err)
			b.scraped = true
		}
		return nil
	}
	return m
}

// addRuntime adds the server's goroutine, heap and descriptor figures
// from metrics scraped at now and before the idle sessions, per held
// session too.
func (b *bench) addRuntime(when string, before, now map[string]float64, held int) {
	if now == nil {
		return
	}
	b.tab.add("server goroutines "+when, int64(now["go_goroutines"]), "goroutines")
	b.tab.addBytes("server Go heap in use "+when, int64(now["go_memstats_heap_inuse_bytes"]))
	b.tab.addBytes("server goroutine stacks "+when, int64(now["go_memstats_stack_inuse_bytes"]))
	b.tab.add("server open descriptors "+when, int64(now["process_open_fds"]), "fds")
	if before == nil || held <= 0 {
		return
	}
	per := func(name string) float64 { return (now[name] - before[name]) / float64(held) }
	b.tab.add("server goroutines per held session", per("go_goroutines"), "goroutines")
	b.tab.add("server Go heap in use per held session", per("go_memstats_heap_inuse_bytes")/1024, "KiB")
	b.tab.add("server goroutine stack per held session", per("go_memstats_stack_inuse_bytes")/1024, "KiB")
}

// idlePhase opens and holds the idle sessions (phase a). The pool it
// returns is still open: the relay phase runs while it is held.
func (b *bench) idlePhase(ctx context.Context, interval time.Duration) (*idlePool, error) {
	cfg := b.cfg
	sources, notes := usableSources(cfg.sources)
	for _, n := range notes {
		b.note("%s", n)
	}
	pool, err := newIdlePool(cfg.addr, cfg.fingerprint, sources)
	if err != nil {
		return nil, err
	}
	before, haveServer := b.serverSample()
	mBefore := b.scrape(ctx)

	b.logf("opening %d idle sessions from %d source addresses, %d at a time; heartbeat every %v", cfg.idle, max(len(sources), 1), cfg.dialConcurrency, interval)
	pool.startHeartbeat(ctx, interval)
	setupCtx, cancel := context.WithTimeout(ctx, cfg.setupTimeout)
	t0 := time.Now()
	pool.fill(setupCtx, cfg.idle, cfg.dialConcurrency, func(tried, held, failed int) {
		rate := float64(tried) / time.Since(t0).Seconds()
		b.logf("idle sessions: %d tried, %d held, %d failed (%.0f/s)", tried, held, failed, rate)
	})
	setupErr := context.Cause(setupCtx)
	cancel()
	setup := time.Since(t0)
	se, _ := b.serverSample()
	opened := pool.held()
	b.logf("idle sessions: %d held after %v", opened, setup.Round(time.Millisecond))
	if pool.gaveUp.Load() {
		b.note("idle set-up stopped after %d failures in a row: the server refuses more sessions", maxConsecutiveFailures)
	} else if errors.Is(setupErr, context.DeadlineExceeded) && ctx.Err() == nil {
		b.note("idle set-up stopped at --setup-timeout %v", cfg.setupTimeout)
	}
	if n := pool.failures.Total(); n > 0 {
		b.note("idle set-up failures: %s", pool.failures.String())
		pool.firstErr.Range(func(k, v any) bool {
			b.note("first %q: %s", k, v)
			return true
		})
	}

	b.tab.add("idle sessions asked for (--idle)", b.asked, "sessions")
	if cfg.idle != b.asked {
		b.tab.add("idle sessions tried (fit the descriptor limit)", cfg.idle, "sessions")
	}
	b.tab.add("idle sessions opened (TLS, hello, register)", opened, "sessions")
	b.tab.add("idle set-up time", setup.Seconds(), "s")
	if setup > 0 {
		b.tab.add("idle set-up rate", float64(opened)/setup.Seconds(), "sessions/s")
	}
	if haveServer {
		b.tab.add("server CPU during the idle set-up", testbed.CPUPercent(before, se), "% of one core")
	}

	// Hold.
	b.logf("holding %d idle sessions for %v", opened, cfg.hold)
	hs, _ := b.serverSample()
	ms, _ := b.selfSample()
	pings0, replies0 := pool.pings.Load(), pool.replies()
	sleepCtx(ctx, cfg.hold)
	he, _ := b.serverSample()
	me, _ := b.selfSample()
	pings1, replies1 := pool.pings.Load(), pool.replies()
	held := pool.held()
	holdTime := he.At.Sub(hs.At)
	if !haveServer {
		holdTime = me.At.Sub(ms.At)
	}
	b.logf("idle sessions: %d still held after the hold", held)

	b.tab.add("idle sessions held at the end of the hold", held, "sessions")
	if haveServer {
		b.tab.addBytes("server RSS before the idle sessions", before.RSS)
		b.tab.addBytes("server RSS peak during the hold", max(b.server.PeakRSS(hs.At, he.At), hs.RSS, he.RSS))
		b.tab.addBytes("server RSS at the end of the hold", he.RSS)
		if held > 0 {
			b.tab.add("server RSS per held session", float64(he.RSS-before.RSS)/float64(held)/1024, "KiB")
		}
		b.tab.add(fmt.Sprintf("server CPU during the hold (heartbeats every %v)", interval), testbed.CPUPercent(hs, he), "% of one core")
	}
	if secs := holdTime.Seconds(); secs > 0 {
		b.tab.add("heartbeats sent during the hold", float64(pings1-pings0)/secs, "pings/s")
		b.tab.add("heartbeat replies during the hold", float64(replies1-replies0)/secs, "replies/s")
	}
	b.tab.add("rvload CPU during the hold", testbed.CPUPercent(ms, me), "% of one core")
	b.addRuntime("at the end of the hold", mBefore, b.scrape(ctx), held)
	if n := pool.pingErrs.Load(); n > 0 {
		b.note("%d heartbeat writes failed", n)
	}
	if s := pool.endings.String(); s != "none" {
		b.note("idle sessions that ended while held: %s", s)
	}
	return pool, nil
}

// relayPhase measures relay throughput and request latency while the
// idle sessions are held (phases b and c).
func (b *bench) relayPhase(ctx context.Context, opts client.Options) {
	cfg := b.cfg
	rr := newRelayRun(cfg.addr, opts, cfg.ackBatch, cfg.sendBatch)
	rr.rate = cfg.rate
	if cfg.recipientAddr != "" {
		rr.raddr = cfg.recipientAddr
	}
	defer rr.close()

	b.logf("relay: setting up %d sender/recipient pairs and the probe", cfg.senders)
	if err := rr.setup(ctx, cfg.senders, cfg.probeRate); err != nil {
		b.note("relay phase not run: set-up failed: %v", err)
		b.logf("relay set-up failed: %v", err)
		return
	}
	t := time.Now()
	if err := rr.seal(ctx, cfg.pool, cfg.sealed, cfg.bodySize); err != nil {
		b.note("relay phase not run: %v", err)
		return
	}
	b.logf("relay: sealed %d envelopes in %v (not timed)", cfg.senders*cfg.pool, time.Since(t).Round(time.Millisecond))

	if cfg.rate > 0 {
		b.logf("relay: %d senders offering %g messages/s in all for %v; probe at %g/s", cfg.senders, cfg.rate, cfg.duration, cfg.probeRate)
	} else {
		b.logf("relay: %d senders back to back for %v; probe at %g/s", cfg.senders, cfg.duration, cfg.probeRate)
	}
	rs, haveServer := b.serverSample()
	ms, _ := b.selfSample()
	mBefore := b.scrape(ctx)
	elapsed := rr.run(ctx, cfg.duration)
	re, _ := b.serverSample()
	me, _ := b.selfSample()
	inWindow := rr.delivered.Load()
	rr.drain(ctx)
	mAfter := b.scrape(ctx)
	queued := rr.queued.Load()
	b.logf("relay: %d acknowledged, %d delivered in %v; %d delivered after the drain", queued, inWindow, elapsed.Round(time.Millisecond), rr.total.Load())

	secs := elapsed.Seconds()
	b.tab.add("relay pairs (sender → recipient, friends)", cfg.senders, "pairs")
	if cfg.recipientAddr != "" {
		b.note("relay senders on %s, their recipients on %s: every message crosses between the two nodes", cfg.addr, cfg.recipientAddr)
	}
	b.tab.add("ids per relay.ack (at most, beyond one relay event's)", cfg.ackBatch, "ids")
	b.tab.add("envelopes per relay.send", cfg.sendBatch, "envelopes")
	if cfg.rate > 0 {
		b.tab.add("relayed messages offered per second (--rate)", cfg.rate, "msg/s")
	}
	b.tab.add("relay.send acknowledged (committed) per second", float64(queued)/secs, "msg/s")
	b.tab.add("relayed messages delivered to recipients per second", float64(inWindow)/secs, "msg/s")
	b.tab.add("relay.send acknowledged in all", queued, "messages")
	b.tab.add("delivered after a drain of up to "+drainTimeout.String(), rr.total.Load(), "messages")
	b.tab.add("relay.send errors", rr.sendErrs.Total(), "requests")
	if n := float64(rr.total.Load()); mBefore != nil && mAfter != nil && n > 0 {
		grew := func(series string) float64 { return mAfter[series] - mBefore[series] }
		b.tab.add("server relay.send requests per relayed message", grew(`lanchat_rendezvous_requests_total{code="ok",op="relay.send"}`)/n, "requests")
		b.tab.add("server relay.ack requests per relayed message", grew(`lanchat_rendezvous_requests_total{code="ok",op="relay.ack"}`)/n, "requests")
		if _, ok := mAfter["lanchat_rendezvous_relay_commits_total"]; ok {
			b.tab.add("server relay commits (fsyncs) per relayed message, sends and acks", grew("lanchat_rendezvous_relay_commits_total")/n, "commits")
		}
	}
	if haveServer {
		cpu := testbed.CPUPercent(rs, re)
		b.tab.add("server CPU during the relay phase", cpu, "% of one core")
		if queued > 0 {
			// What a message costs the server, whatever else shares the
			// machine: the figure that tells how many a core can take.
			b.tab.add("server CPU time per acknowledged message", cpu/100*re.At.Sub(rs.At).Seconds()/float64(queued)*1e6, "µs")
		}
		b.tab.addBytes("server RSS peak during the relay phase", max(b.server.PeakRSS(rs.At, re.At), rs.RSS, re.RSS))
	}
	b.tab.add("rvload CPU during the relay phase", testbed.CPUPercent(ms, me), "% of one core")
	if m := b.scrape(ctx); m != nil {
		b.tab.add("server goroutines at the end of the relay phase", int64(m["go_goroutines"]), "goroutines")
	}
	b.tab.addLatency("relay.send latency", &rr.sendLat, true)
	b.tab.addLatency("delivery latency (relay.send → relay event)", &rr.deliverLat, false)
	if p := rr.probe; p != nil {
		label := fmt.Sprintf("probe friends.list latency (%d friends, %g/s)", p.friends, p.rate)
		b.tab.addLatency(label, &p.listLat, false)
		b.tab.addLatency(fmt.Sprintf("probe ping latency (%g/s)", p.rate), &p.pingLat, false)
		if planned := int(p.rate * secs); p.ticks < planned*9/10 {
			b.note("the probe made %d rounds of the %d planned: the server held it up", p.ticks, planned)
		}
		if s := p.errs.String(); s != "none" {
			b.note("probe errors: %s", s)
		}
	}
	if s := rr.sendErrs.String(); s != "none" {
		b.note("relay.send errors: %s", s)
	}
	if s := rr.ackErrs.String(); s != "none" {
		b.note("relay.ack errors: %s", s)
	}
	if n := rr.duplicates.Load(); n > 0 {
		b.note("%d relay.send answered duplicate", n)
	}
	if n := rr.exhausted.Load(); n > 0 {
		b.note("%d senders used all %d pre-sealed envelopes before the end: the throughput figure is a lower bound; raise --pool", n, cfg.pool)
	}
	if lost := queued - rr.total.Load(); lost > 0 {
		b.note("%d acknowledged messages had not reached their recipient %v after the senders stopped", lost, drainTimeout)
	}
}
