// Package messaging is the messaging benchmark of make bench. It starts a
// real rendezvous server and real lanchat daemons from the binaries in
// --bin, on 127.0.0.1 and in a throw-away directory, makes the users
// friends through the daemons' local API, and measures:
//
//   - message latency, from the sender's Send call to the message event
//     on the receiver's event stream, one message at a time, over the
//     direct QUIC path and through the server's relay;
//   - sustained messages per second in one conversation, one sender
//     back to back and several senders at once, counted as they arrive.
//
// It prints one Markdown table, with the commands that produced it, and
// writes it to --out. Every loop is bounded in count and time; it stops
// only the processes it started, by their ids, and removes its directory.
//
//	bench messaging --bin bin --out bench/results/messaging-latest.md
package messaging

import (
	"github.com/lanchat/lanchat/bench/internal/cli"

	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/lanchat/lanchat/internal/testbed"
)

// config is the command line.
type config struct {
	cli.Common
	rounds      int
	n           int
	concurrency int
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
)

const example = "bench messaging --bin bin --out bench/results/messaging-latest.md --rounds 3 --n 500"

var errUsage = cli.ErrUsage

// Main runs the command line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cli.Main("bench messaging", args, stdout, stderr, parseConfig, bench)
}

// parseConfig reads and checks the flags.
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	fs := cli.Flags("bench messaging", "the messaging benchmark; bench/run.sh runs it", stderr, example)
	c := &config{}
	c.AddFlags(fs, "the lanchat and rendezvous binaries", "the temporary directory (data and logs)")
	fs.IntVar(&c.rounds, "rounds", 3, "times each measurement is repeated; the table shows medians")
	fs.IntVar(&c.n, "n", 500, "messages timed per latency round")
	fs.IntVar(&c.concurrency, "concurrency", 4, "senders at once into one conversation in the concurrent throughput rounds")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	switch {
	case c.rounds < 1, c.n < 1, c.concurrency < 1:
		return nil, fmt.Errorf("%w: --rounds, --n and --concurrency must be positive", errUsage)
	case c.concurrency > 64:
		return nil, fmt.Errorf("%w: --concurrency must be at most 64", errUsage)
	}
	return c, nil
}

// peer is one user with a data directory and a running daemon, and the
// messages arriving there.
type peer struct {
	*testbed.Daemon
	events *arrivals // nil until watched
}

// startServer starts the run's server on a free 127.0.0.1 port with its
// metrics. Password hashing is made cheap: registering is not what is
// measured.
func (r *benchmark) startServer(ctx context.Context) error {
	var err error
	r.bed, err = testbed.StartCluster(ctx, &r.owner, r.cfg.Bin, r.dir, nil, false,
		[]string{"--metrics", "127.0.0.1:0", "--argon2-memory", "256", "--argon2-time", "1", "--request-rate", strconv.Itoa(requestRate)}, nil)
	return err
}

// startPeer runs name's daemon with its direct listener on listen, waits
// for its local API, and registers name through it.
func (r *benchmark) startPeer(ctx context.Context, name, listen string) (*peer, error) {
	d, err := r.bed.AddDaemon(ctx, name, "--listen", listen, "--no-mdns")
	if d == nil {
		return nil, err
	}
	u := &peer{Daemon: d}
	r.peers = append(r.peers, u)
	if err != nil {
		return nil, err
	}
	r.Say("%s: daemon pid %d, direct listener %s", name, d.PID(), d.Listen(ctx))
	return u, nil
}

// haveIPv6Loopback reports whether a UDP socket can be bound on [::1].
func haveIPv6Loopback() bool {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// stop stops every process this run started, daemons first, each by its
// process id, and returns what went wrong.
func (r *benchmark) stop() error {
	for _, u := range r.peers {
		if u.events != nil {
			u.events.close()
			u.events = nil
		}
	}
	if r.bed == nil {
		return nil
	}
	return r.bed.Stop()
}

// remove deletes the temporary directory, unless asked to keep it.
func (r *benchmark) remove() error {
	if r.cfg.Keep {
		r.Say("kept %s", r.dir)
		return nil
	}
	if err := os.RemoveAll(r.dir); err != nil {
		return fmt.Errorf("remove %s: %w", r.dir, err)
	}
	return nil
}
