package rawcopy

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
)

// Command is the baseline copy program: its name and its protocols
// (--proto), the first of Order the default.
type Command struct {
	Name   string // "rawcopy"
	Order  []string
	Protos map[string]Proto
}

// Proto is one protocol of the copy program: whether it can stripe a
// file over several connections, and its two halves.
type Proto struct {
	Stripes bool // takes --conns above 1
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
	usage := fmt.Sprintf("Usage:\n  %[1]s serve [--proto P] --listen HOST:PORT [--out FILE] [--timeout D] [--conns N]\n  %[1]s send [--proto P] --to HOST:PORT [--timeout D] [--conns N] FILE\n(--proto: %[2]s; --conns above 1: quic only)\n", c.Name, strings.Join(c.Order, ", "))
	if len(args) == 0 || (args[0] != "serve" && args[0] != "send") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet(c.Name+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	proto := fs.String("proto", c.Order[0], "the protocol: "+strings.Join(c.Order, " or "))
	listen := fs.String("listen", "127.0.0.1:0", "`ADDR` to listen on (serve; UDP for quic, TCP for tls)")
	out := fs.String("out", "", "write the data to `FILE`, which must not exist, and sync it (serve; default: discard)")
	to := fs.String("to", "", "the server's `HOST:PORT` (send)")
	direct := fs.Bool("direct", false, "write --out with direct I/O (O_DIRECT, past the page cache), as lanchat writes a big file (serve)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after `D`")
	o := Options{Conns: 1}
	fs.IntVar(&o.Conns, "conns", 1, "stripe the file over `N` connections, one stream each (both ends must agree; quic)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	p, ok := c.Protos[*proto]
	switch {
	case !ok:
		fmt.Fprintf(stderr, "%s: --proto must be one of %s\n", c.Name, strings.Join(c.Order, ", "))
		return 2
	case o.Conns < 1 || o.Conns > maxConns || (o.Conns > 1 && !p.Stripes):
		fmt.Fprintf(stderr, "%s: --conns must be 1 to %d (1 for --proto %s)\n", c.Name, maxConns, *proto)
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
		err = p.Serve(ctx, o, stdout)
	case args[0] == "send" && fs.NArg() == 1 && *to != "":
		o.Path = fs.Arg(0)
		err = p.Send(ctx, o, stdout)
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
