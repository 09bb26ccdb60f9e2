// Package messaging is the messaging benchmark of make bench ("bench
// messaging"): a rendezvous server and lanchat daemons from --bin on
// 127.0.0.1, the users friends through the daemons' local API; message
// latency (Send call to the event on the receiver's stream, one at a
// time) and messages per second in one conversation (one sender and
// several), over the direct QUIC path and through the server's relay.
// Every loop is bounded in count and time; it stops only the processes
// it started, by their ids.
//
//	bench messaging --bin bin --out bench/results/messaging-latest.md
package messaging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/internal/testbed"
	"github.com/lanchat/lanchat/peer/api"
)

// config is the command line.
type config struct {
	cli.Common
	rounds, n, concurrency int
}

// What the command line does not set.
const (
	warmup    = 20              // untimed messages before each latency round
	tputCount = 2000            // most messages sent per throughput round
	tputTime  = 5 * time.Second // longest sending time per throughput round
	textSize  = 100             // message text size in bytes
	maxRun    = 5 * time.Minute // the whole benchmark, whatever happens
	// requestRate is the server's --request-rate: at its default (200
	// requests per second per connection) the relayed rows would measure
	// the limit.
	requestRate = 1000
	// settleTimeout bounds the wait for every outbox to empty between
	// phases.
	settleTimeout = 15 * time.Second
	pathDirect    = "direct (QUIC)"
	pathRelay     = "relayed (server)"
)

// Main runs the command line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cli.Main("bench messaging", args, stdout, stderr, parseConfig, bench)
}

// parseConfig reads and checks the flags.
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	fs := cli.Flags("bench messaging", "the messaging benchmark; bench/run.sh runs it", stderr,
		"bench messaging --bin bin --out bench/results/messaging-latest.md --rounds 3 --n 500")
	c := &config{}
	c.AddFlags(fs, "the lanchat and rendezvous binaries", "the temporary directory (data and logs)")
	fs.IntVar(&c.rounds, "rounds", 3, "times each measurement is repeated; the table shows medians")
	fs.IntVar(&c.n, "n", 500, "messages timed per latency round")
	fs.IntVar(&c.concurrency, "concurrency", 4, "senders at once into one conversation in the concurrent throughput rounds")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	if c.rounds < 1 || c.n < 1 || c.concurrency < 1 || c.concurrency > 64 {
		return nil, fmt.Errorf("%w: --rounds and --n must be positive, --concurrency 1 to 64", cli.ErrUsage)
	}
	return c, nil
}

// benchmark is one run of the benchmark: its processes and what it found.
type benchmark struct {
	cli.Run
	cfg   *config
	dir   string
	owner testbed.Stack    // stops the processes
	bed   *testbed.Cluster // the server and the daemons

	alice *peer // the sender of every message
	bob   *peer // reached directly
	carol *peer // reached through the relay only; nil without IPv6 loopback
	dave  *peer // like carol, but its direct address times out; nil without IPv6 loopback
	rows  []*measurement
}

// peer is one user's daemon and the messages from alice arriving there.
type peer struct {
	*testbed.Daemon
	events *arrivals
}

// measurement is one row of the table: one kind of round on one path,
// repeated.
type measurement struct {
	what, path string
	throughput bool
	rounds     []round
}

// bench runs the whole benchmark and prints the report to stdout (and
// --out).
func bench(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, maxRun)
	defer cancel()
	dir, err := os.MkdirTemp("", "lanchat-msgbench.")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	r := &benchmark{Run: cli.NewRun("messaging", args, stderr), cfg: cfg, dir: dir, owner: testbed.Stack{W: stderr}}
	runErr := r.measure(ctx)
	r.Elapsed = time.Since(r.Start)
	r.owner.Close()
	if r.bed != nil && r.bed.Server != nil {
		// The logs go with the directory: read them first.
		procs := []*testbed.Process{r.bed.Server.Process}
		for _, d := range r.bed.Daemons {
			procs = append(procs, d.Process)
		}
		for _, p := range procs {
			if n, first := p.Warnings(3); n > 0 {
				r.Note("%s logged %d warnings or errors; the first: %s", p.Name, n, strings.Join(first, " / "))
			}
		}
	}
	if cfg.Keep {
		r.Say("kept %s", dir)
	} else {
		os.RemoveAll(dir)
	}
	if runErr != nil {
		if len(r.rows) == 0 {
			return runErr
		}
		r.Note("the run stopped early: %v", runErr)
	}
	r.checkPaths()
	return errors.Join(cfg.Publish(stdout, stderr, r.report()), runErr)
}

// setup starts the server and the daemons, registers the users and makes
// alice friends with each of the others.
//
// bob's direct listener is on 127.0.0.1 like alice's, so alice reaches
// him directly. carol and dave listen on [::1]: alice's IPv4 socket cannot
// send there, so her dial of the endpoint they report fails at once and
// she falls back on the relay while both stay online. The daemon also
// tries the reported port at the address the server saw (127.0.0.1); for
// carol that is bob's port, where bob's listener answers with the wrong
// key and the dial fails at once, so carol's figures are the relay's
// own. For dave nothing listens there and the dial times out,
// which the first-dial row measures.
func (r *benchmark) setup(ctx context.Context) error {
	var err error
	// Password hashing is made cheap: registering is not what is measured.
	if r.bed, err = testbed.StartCluster(ctx, &r.owner, r.cfg.Bin, r.dir, nil, false,
		[]string{"--metrics", "127.0.0.1:0", "--argon2-memory", "256", "--argon2-time", "1", "--request-rate", strconv.Itoa(requestRate)}, nil); err != nil {
		return err
	}
	start := func(name, listen string) (*peer, error) {
		d, err := r.bed.AddDaemon(ctx, name, "--listen", listen, "--no-mdns")
		if err != nil {
			return nil, err
		}
		r.Say("%s: daemon pid %d, direct listener %s", name, d.PID(), d.Listen(ctx))
		if name == "alice" {
			return &peer{Daemon: d}, nil
		}
		if err := testbed.Befriend(ctx, r.alice.Daemon, d); err != nil {
			return nil, err
		}
		a, err := watch(ctx, d, "alice")
		if err == nil {
			r.owner.Cleanup(a.close)
		}
		return &peer{Daemon: d, events: a}, err
	}
	if r.alice, err = start("alice", "127.0.0.1:0"); err != nil {
		return err
	}
	if r.bob, err = start("bob", "127.0.0.1:0"); err != nil {
		return err
	}
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		r.Note("no IPv6 loopback here: the relayed rows need a receiver that alice cannot reach directly (one on [::1]), so they are missing")
		return nil
	}
	c.Close()
	_, bobPort, err := net.SplitHostPort(r.bob.Listen(ctx))
	if err != nil {
		return fmt.Errorf("bob's direct port: %w", err)
	}
	if r.carol, err = start("carol", "[::1]:"+bobPort); err != nil {
		return err
	}
	r.dave, err = start("dave", "[::1]:0")
	return err
}

// measure sets up the users and runs every round: the rounds interleave
// the measurements, so that a disturbance on the machine spreads over
// all of them rather than spoiling one.
func (r *benchmark) measure(ctx context.Context) error {
	if err := r.setup(ctx); err != nil {
		return err
	}
	senders := []*api.Client{r.alice.API}
	for range r.cfg.concurrency - 1 {
		// One client (one connection) per sender, as separate front ends
		// of the same daemon would have.
		c := api.NewClient(r.alice.API.SocketPath())
		defer c.Close()
		senders = append(senders, c)
	}
	row := func(what, path string, throughput bool) *measurement {
		m := &measurement{what: what, path: path, throughput: throughput}
		r.rows = append(r.rows, m)
		return m
	}
	lat, seq, conc := "latency, one message at a time", "throughput, 1 sender back to back", fmt.Sprintf("throughput, %d senders at once", r.cfg.concurrency)
	latD, latR := row(lat, pathDirect, false), row(lat, pathRelay, false)
	first := row("latency, first message to a contact whose direct address times out", pathRelay, false)
	steps := []struct {
		m       *measurement
		to      *peer
		senders []*api.Client
	}{
		{latD, r.bob, nil}, {row(seq, pathDirect, true), r.bob, senders[:1]}, {row(conc, pathDirect, true), r.bob, senders},
		{latR, r.carol, nil}, {row(seq, pathRelay, true), r.carol, senders[:1]}, {row(conc, pathRelay, true), r.carol, senders},
	}
	if r.dave != nil {
		// alice's first message to dave tries the direct path, whose
		// fallback address nobody answers, and waits for the dial to time
		// out before it relays.
		res, err := runRound(ctx, senders[:1], r.dave, "first-dial", 0, 1, true)
		if err != nil {
			return fmt.Errorf("first message to dave: %w", err)
		}
		first.rounds = append(first.rounds, res)
		r.Say("%s: %s", first.what, res.brief())
		r.settle(ctx)
	}
	for i := range r.cfg.rounds {
		for j, s := range steps {
			if s.to == nil {
				continue
			}
			t0 := time.Now()
			before, scrapeErr := scrapeRequests(ctx, r.bed.Server.Metrics)
			label := fmt.Sprintf("round-%d-step-%d", i+1, j)
			var res round
			var err error
			if s.m.throughput {
				res, err = runRound(ctx, s.senders, s.to, label, 0, tputCount, false)
			} else {
				res, err = runRound(ctx, senders[:1], s.to, label, warmup, r.cfg.n, true)
			}
			if err != nil {
				return fmt.Errorf("round %d, %s, %s: %w", i+1, s.m.what, s.m.path, err)
			}
			r.settle(ctx)
			after, err := scrapeRequests(ctx, r.bed.Server.Metrics)
			if err := errors.Join(scrapeErr, err); err != nil {
				r.Note("round %d, %s, %s: server requests not counted: %v", i+1, s.m.what, s.m.path, err)
			} else {
				res.requests = perMessage(before, after, res.total)
			}
			s.m.rounds = append(s.m.rounds, res)
			r.Say("round %d/%d: %s, %s: %s (%v)", i+1, r.cfg.rounds, s.m.what, s.m.path, res.brief(), time.Since(t0).Round(10*time.Millisecond))
		}
	}
	return nil
}

// settle waits until every outbox is empty, so that no phase inherits
// the previous one's queue, and then lets the receipts of relayed
// messages come through.
func (r *benchmark) settle(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	for _, u := range r.bed.Daemons {
		for st, err := u.API.Status(ctx); err != nil || st.Outbox > 0; st, err = u.API.Status(ctx) {
			if !sleep(ctx, 50*time.Millisecond) {
				r.Note("%s's outbox did not empty within %v between phases (%d copies left; %v)", u.Name, settleTimeout, st.Outbox, err)
				return
			}
		}
	}
	sleep(ctx, 300*time.Millisecond)
}

// sleep waits for d and reports true, or for ctx to end and reports
// false.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
