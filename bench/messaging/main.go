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
// writes it to --out. Every loop is bounded in count and time; msgload
// stops only the processes it started, by their ids, and removes its
// directory.
//
//	msgload --bin bin --out bench/results/messaging-latest.md
package messaging

import (
	"github.com/lanchat/lanchat/bench/internal/cli"

	"fmt"
	"io"
	"time"
)

// config is the command line.
type config struct {
	cli.Common
	rounds      int
	n           int
	warmup      int
	tputCount   int
	tputTime    time.Duration
	concurrency int
	size        int
	maxRun      time.Duration
	requestRate float64
	logLevel    string
}

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
	fs.IntVar(&c.warmup, "warmup", 20, "untimed messages before each latency round")
	fs.IntVar(&c.tputCount, "throughput-count", 2000, "most messages sent per throughput round")
	fs.DurationVar(&c.tputTime, "throughput-time", 5*time.Second, "longest sending time per throughput round")
	fs.IntVar(&c.concurrency, "concurrency", 4, "senders at once into one conversation in the concurrent throughput rounds")
	fs.IntVar(&c.size, "size", 100, "message text size in bytes")
	fs.DurationVar(&c.maxRun, "max-run", 5*time.Minute, "give up after this long, whatever happens")
	fs.Float64Var(&c.requestRate, "request-rate", 1000, "the server's --request-rate: `N` requests per second per connection (0 keeps its default, 200, which the relayed rows then run into)")
	fs.StringVar(&c.logLevel, "log-level", "info", "the daemons' --log-level (debug shows every dial; with --keep for a post-mortem)")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	switch {
	case c.rounds < 1, c.n < 1, c.warmup < 0, c.tputCount < 1, c.concurrency < 1:
		return nil, fmt.Errorf("%w: --rounds, --n, --throughput-count and --concurrency must be positive, --warmup not negative", errUsage)
	case c.concurrency > 64:
		return nil, fmt.Errorf("%w: --concurrency must be at most 64", errUsage)
	case c.size < 16 || c.size > 60<<10:
		return nil, fmt.Errorf("%w: --size must be 16 to %d bytes", errUsage, 60<<10)
	case c.requestRate < 0:
		return nil, fmt.Errorf("%w: --request-rate must not be negative", errUsage)
	case c.tputTime <= 0, c.maxRun <= 0:
		return nil, fmt.Errorf("%w: durations must be positive", errUsage)
	}
	return c, nil
}
