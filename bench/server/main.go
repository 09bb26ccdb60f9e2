// Package server is the load generator of the rendezvous server
// benchmark (bench server). It runs as its own process, apart from the
// server it measures, and talks only to addresses in 127.0.0.0/8.
//
//	bench server --addr 127.0.0.1:7443 --fingerprint FP --server-pid PID
//
// It holds thousands of idle sessions, measures relay throughput and
// request latency while they are held, samples the server's memory and
// CPU from /proc, and prints a Markdown table; bench/run.sh drives it.
package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

var errUsage = cli.ErrUsage

// config is the command line.
type config struct {
	addr, recipientAddr, fingerprint, metrics string
	serverPID                                 int
	idle, senders, dialConcurrency, sources   int
	pool, sealed, bodySize, ackBatch          int
	sendBatch                                 int
	rate, probeRate                           float64
	hold, duration, setupTimeout, heartbeat   time.Duration

	pin      string        // the fingerprint, normalised
	serverID keys.ServerID // from the fingerprint: names the server in key proofs
}

// Main runs the command line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cli.Main("bench server", args, stdout, stderr, parse, run)
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := cli.Flags("bench server", "the rendezvous server benchmark; bench/run.sh runs it", stderr,
		"bench server --addr 127.0.0.1:7443 --fingerprint 3f9a…c2 --server-pid 4242 --idle 20000 --hold 30s --senders 32 --duration 20s")
	c := &config{}
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
	if c.recipientAddr == "" {
		c.recipientAddr = c.addr
	}
	for _, f := range []struct{ name, addr string }{{"addr", c.addr}, {"recipient-addr", c.recipientAddr}, {"metrics", c.metrics}} {
		if f.addr == "" && f.name == "metrics" {
			continue
		}
		if err := checkLoopback(f.name, f.addr); err != nil {
			return nil, err
		}
	}
	var err error
	if c.pin, err = client.NormalizeFingerprint(c.fingerprint); err == nil {
		c.serverID, err = keys.ParseServerID(c.pin)
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: --fingerprint (rendezvous fingerprint --data DIR prints it): %v", errUsage, err)
	case c.idle < 0, c.senders < 0, c.senders > 999, c.sources < 0, c.sources > 200:
		return nil, fmt.Errorf("%w: --idle must not be negative, --senders must be 0 to 999, --sources 0 to 200", errUsage)
	case c.dialConcurrency < 1, c.pool < 1, c.bodySize < 1, c.probeRate < 0, c.sealed < 0, c.rate < 0:
		return nil, fmt.Errorf("%w: --dial-concurrency, --pool and --body must be positive, --probe-rate, --sealed and --rate not negative", errUsage)
	case c.sendBatch < 1, c.sendBatch > wire.MaxRelayBatch, c.ackBatch < 1, c.ackBatch > wire.MaxAckIDs:
		return nil, fmt.Errorf("%w: --send-batch must be 1 to %d, --ack-batch 1 to %d", errUsage, wire.MaxRelayBatch, wire.MaxAckIDs)
	case c.hold < 0, c.duration <= 0, c.setupTimeout <= 0, c.heartbeat < 0:
		return nil, fmt.Errorf("%w: durations must be positive", errUsage)
	}
	return c, nil
}

// checkLoopback checks that hostport is an IPv4 address in 127.0.0.0/8
// with a port, so that no traffic leaves this machine. Host names are
// refused rather than resolved: "localhost" may well mean ::1.
func checkLoopback(flagName, hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%w: --%s %q: %v", errUsage, flagName, hostport, err)
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.Is4() || ip.As4()[0] != 127 || port == "" || port == "0" {
		return fmt.Errorf("%w: --%s %q: want an address in 127.0.0.0/8 and a port", errUsage, flagName, hostport)
	}
	return nil
}

// run runs the benchmark and prints its report, whatever was measured.
func run(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.setupTimeout+cfg.hold+cfg.duration+drainTimeout+closeWait+2*time.Minute)
	defer cancel()
	b := &bench{cfg: cfg, Run: cli.NewRun("server", args, stderr), asked: cfg.idle}
	err := b.run(ctx)
	b.Elapsed = time.Since(b.Start)
	if ctx.Err() != nil && err == nil {
		b.Note("the run was cut short (%v): figures cover what was done", context.Cause(ctx))
	}
	io.WriteString(stdout, b.report())
	return err
}
