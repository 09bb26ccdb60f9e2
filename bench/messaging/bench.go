package messaging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"

	"github.com/lanchat/lanchat/internal/testbed"
	"github.com/lanchat/lanchat/peer/api"
)

// settleTimeout bounds the wait for every outbox to empty between phases.
const settleTimeout = 15 * time.Second

// Path names, as the table shows them.
const (
	pathDirect = "direct (QUIC)"
	pathRelay  = "relayed (server)"
)

// benchmark is one run of the benchmark: its processes and what it found.
type benchmark struct {
	cli.Run
	cfg   *config
	dir   string           // data and logs
	owner testbed.Stack    // the test bed's logger
	bed   *testbed.Cluster // the server and the daemons
	peers []*peer

	alice *peer // the sender of every message
	bob   *peer // reached directly
	carol *peer // reached through the relay only; nil without IPv6 loopback
	dave  *peer // like carol, but its direct address times out; nil without IPv6 loopback

	rows []*measurement
}

// measurement is one row of the table: one kind of round on one path,
// repeated.
type measurement struct {
	what, path string
	throughput bool // a throughput row (else latency)
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
	// The logs go with the directory: read them after the processes
	// stopped and before it is removed.
	stopErr := r.stop()
	r.noteWarnings()
	if err := r.remove(); err != nil {
		stopErr = errors.Join(stopErr, err)
	}
	if stopErr != nil {
		r.Note("stopping the processes: %v", stopErr)
	}
	if runErr != nil {
		if len(r.rows) == 0 {
			return runErr
		}
		r.Note("the run stopped early: %v", runErr)
	}
	r.checkPaths()
	if err := cfg.Publish(stdout, stderr, r.report()); err != nil {
		return err
	}
	return errors.Join(runErr, stopErr)
}

// measure sets up the users and runs every round.
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

	latDirect := r.row("latency, one message at a time", pathDirect, false)
	latRelay := r.row("latency, one message at a time", pathRelay, false)
	first := r.row("latency, first message to a contact whose direct address times out", pathRelay, false)
	seqDirect := r.row("throughput, 1 sender back to back", pathDirect, true)
	conDirect := r.row(fmt.Sprintf("throughput, %d senders at once", r.cfg.concurrency), pathDirect, true)
	seqRelay := r.row("throughput, 1 sender back to back", pathRelay, true)
	conRelay := r.row(fmt.Sprintf("throughput, %d senders at once", r.cfg.concurrency), pathRelay, true)
	if r.dave != nil {
		if err := r.firstDial(ctx, first); err != nil {
			return err
		}
	}

	// The rounds interleave the measurements, so that a disturbance on the
	// machine spreads over all of them rather than spoiling one.
	for i := range r.cfg.rounds {
		n := i + 1
		type step struct {
			m   *measurement
			run func() (round, error)
		}
		steps := []step{
			{latDirect, func() (round, error) {
				return latencyRound(ctx, r.alice.API, r.bob, warmup, r.cfg.n, fmt.Sprintf("latency-direct-%d", n))
			}},
			{seqDirect, func() (round, error) {
				return throughputRound(ctx, senders[:1], r.bob, fmt.Sprintf("seq-direct-%d", n))
			}},
			{conDirect, func() (round, error) {
				return throughputRound(ctx, senders, r.bob, fmt.Sprintf("conc-direct-%d", n))
			}},
		}
		if r.carol != nil {
			steps = append(steps,
				step{latRelay, func() (round, error) {
					return latencyRound(ctx, r.alice.API, r.carol, warmup, r.cfg.n, fmt.Sprintf("latency-relay-%d", n))
				}},
				step{seqRelay, func() (round, error) {
					return throughputRound(ctx, senders[:1], r.carol, fmt.Sprintf("seq-relay-%d", n))
				}},
				step{conRelay, func() (round, error) {
					return throughputRound(ctx, senders, r.carol, fmt.Sprintf("conc-relay-%d", n))
				}})
		}
		for _, s := range steps {
			t0 := time.Now()
			before, scrapeErr := scrapeRequests(ctx, r.bed.Server.Metrics)
			res, err := s.run()
			if err != nil {
				return fmt.Errorf("round %d, %s, %s: %w", n, s.m.what, s.m.path, err)
			}
			r.settle(ctx)
			after, err := scrapeRequests(ctx, r.bed.Server.Metrics)
			if err := errors.Join(scrapeErr, err); err != nil {
				r.Note("round %d, %s, %s: server requests not counted: %v", n, s.m.what, s.m.path, err)
			} else {
				res.requests = perMessage(before, after, res.total)
			}
			s.m.rounds = append(s.m.rounds, res)
			r.Say("round %d/%d: %s, %s: %s (%v)", n, r.cfg.rounds, s.m.what, s.m.path, res.brief(s.m.throughput), time.Since(t0).Round(10*time.Millisecond))
		}
	}
	return nil
}

// row adds a row to the table and returns it.
func (r *benchmark) row(what, path string, throughput bool) *measurement {
	m := &measurement{what: what, path: path, throughput: throughput}
	r.rows = append(r.rows, m)
	return m
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
	if err := r.startServer(ctx); err != nil {
		return err
	}
	var err error
	if r.alice, err = r.startPeer(ctx, "alice", "127.0.0.1:0"); err != nil {
		return err
	}
	if r.bob, err = r.startPeer(ctx, "bob", "127.0.0.1:0"); err != nil {
		return err
	}
	if err := testbed.Befriend(ctx, r.alice.Daemon, r.bob.Daemon); err != nil {
		return err
	}
	if haveIPv6Loopback() {
		_, bobPort, err := net.SplitHostPort(r.bob.Listen(ctx))
		if err != nil {
			return fmt.Errorf("bob's direct port: %w", err)
		}
		if r.carol, err = r.startPeer(ctx, "carol", "[::1]:"+bobPort); err != nil {
			return err
		}
		if r.dave, err = r.startPeer(ctx, "dave", "[::1]:0"); err != nil {
			return err
		}
		for _, u := range []*peer{r.carol, r.dave} {
			if err := testbed.Befriend(ctx, r.alice.Daemon, u.Daemon); err != nil {
				return err
			}
		}
	} else {
		r.Note("no IPv6 loopback here: the relayed rows need a receiver that alice cannot reach directly (one on [::1]), so they are missing")
	}
	for _, u := range []*peer{r.bob, r.carol, r.dave} {
		if u == nil {
			continue
		}
		if u.events, err = watch(ctx, u, r.alice.Name); err != nil {
			return err
		}
	}
	return nil
}

// firstDial sends alice's first messages to dave: the first Send tries
// the direct path, whose fallback address nobody answers, and waits for
// the dial to time out before it relays.
func (r *benchmark) firstDial(ctx context.Context, m *measurement) error {
	res, err := latencyRound(ctx, r.alice.API, r.dave, 0, 1, "first-dial")
	if err != nil {
		return fmt.Errorf("first message to dave: %w", err)
	}
	m.rounds = append(m.rounds, res)
	r.Say("%s: %s", m.what, res.brief(false))
	r.settle(ctx)
	return nil
}

// settle waits until every outbox is empty, so that no phase inherits
// the previous one's queue, and then lets the receipts of relayed
// messages come through.
func (r *benchmark) settle(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	for _, u := range r.peers {
		for {
			st, err := u.API.Status(ctx)
			if err == nil && st.Outbox == 0 {
				break
			}
			select {
			case <-ctx.Done():
				r.Note("%s's outbox did not empty within %v between phases (%d copies left; %v)", u.Name, settleTimeout, st.Outbox, err)
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	select {
	case <-ctx.Done():
	case <-time.After(300 * time.Millisecond):
	}
}

// noteWarnings notes the warnings and errors the processes logged.
func (r *benchmark) noteWarnings() {
	procs := []*testbed.Process{}
	if r.bed != nil && r.bed.Server != nil {
		procs = append(procs, r.bed.Server.Process)
	}
	for _, u := range r.peers {
		procs = append(procs, u.Process)
	}
	for _, p := range procs {
		n, first := p.Warnings(3)
		if n == 0 {
			continue
		}
		r.Note("%s logged %d warnings or errors; the first: %s", p.Name, n, strings.Join(first, " / "))
	}
}

// brief summarises a round for the progress output.
func (r round) brief(throughput bool) string {
	s := fmt.Sprintf("p50 %s ms, p99 %s ms", stats.Number(stats.Millis(stats.Percentile(r.lat, 0.50))), stats.Number(stats.Millis(stats.Percentile(r.lat, 0.99))))
	if throughput {
		s = fmt.Sprintf("%s msg/s (%d of %d sent arrived), %s", stats.Number(r.rate()), r.arrived, r.sent, s)
	}
	return s + ", sent via " + r.sendVia.String()
}
