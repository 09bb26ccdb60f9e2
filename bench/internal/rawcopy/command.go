package rawcopy

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
)

// Command is one baseline copy program: its name, the network it listens
// on (for help), whether it can stripe a file over several connections,
// and its two halves.
type Command struct {
	Name    string // "quiccopy"
	Network string // "UDP" or "TCP"
	Stripes bool   // offers --conns
	Serve   func(ctx context.Context, o Options, stdout io.Writer) error
	Send    func(ctx context.Context, o Options, stdout io.Writer) error
}

// Options are the parsed command line of either half.
type Options struct {
	Listen string // serve: the address to listen on
	Out    string // serve: the file to write ("" discards)
	To     string // send: the server's address
	Path   string // send: the file to send
	Conns  int    // both: connections the file is striped over (1: none)
	Direct bool   // serve: write Out with direct I/O
}

// maxConns bounds --conns.
const maxConns = 16

// Run parses "serve|send [flags]" and runs that half until it ends or
// --timeout passes; it returns the exit code.
func (c Command) Run(args []string, stdout, stderr io.Writer) int {
	conns := ""
	if c.Stripes {
		conns = " [--conns N]"
	}
	usage := fmt.Sprintf("Usage:\n  %[1]s serve --listen HOST:PORT [--out FILE] [--timeout D]%[2]s\n  %[1]s send --to HOST:PORT [--timeout D]%[2]s FILE\n", c.Name, conns)
	if len(args) == 0 || (args[0] != "serve" && args[0] != "send") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet(c.Name+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", c.Network+" `ADDR` to listen on (serve)")
	out := fs.String("out", "", "write the data to `FILE`, which must not exist, and sync it (serve; default: discard)")
	to := fs.String("to", "", "the server's `HOST:PORT` (send)")
	direct := fs.Bool("direct", false, "write --out with direct I/O (O_DIRECT, past the page cache), as lanchat writes a big file (serve)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after `D`")
	o := Options{Conns: 1}
	if c.Stripes {
		fs.IntVar(&o.Conns, "conns", 1, "stripe the file over `N` connections, one stream each (both ends must agree)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if o.Conns < 1 || o.Conns > maxConns {
		fmt.Fprintf(stderr, "%s: --conns must be 1 to %d\n", c.Name, maxConns)
		return 2
	}
	if *direct && *out == "" {
		fmt.Fprintf(stderr, "%s: --direct needs --out\n", c.Name)
		return 2
	}
	o.Listen, o.Out, o.To, o.Direct = *listen, *out, *to, *direct
	ctx, stop := cli.Context()
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var err error
	switch {
	case args[0] == "serve" && fs.NArg() == 0:
		err = c.Serve(ctx, o, stdout)
	case args[0] == "send" && fs.NArg() == 1 && *to != "":
		o.Path = fs.Arg(0)
		err = c.Send(ctx, o, stdout)
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (after --timeout %v)", err, *timeout)
		}
		fmt.Fprintf(stderr, "%s %s: %v\n", c.Name, args[0], err)
		return 1
	}
	return 0
}
