package rawcopy

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Command is one baseline copy program: its name, the network it listens
// on (for help), and its two halves.
type Command struct {
	Name    string // "quiccopy"
	Network string // "UDP" or "TCP"
	Serve   func(ctx context.Context, listen, out string, stdout io.Writer) error
	Send    func(ctx context.Context, to, path string, stdout io.Writer) error
}

// Run parses "serve|send [flags]" and runs that half until it ends or
// --timeout passes; it returns the exit code.
func (c Command) Run(args []string, stdout, stderr io.Writer) int {
	usage := fmt.Sprintf("Usage:\n  %[1]s serve --listen HOST:PORT [--out FILE] [--timeout D]\n  %[1]s send --to HOST:PORT [--timeout D] FILE\n", c.Name)
	if len(args) == 0 || (args[0] != "serve" && args[0] != "send") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet(c.Name+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", c.Network+" `ADDR` to listen on (serve)")
	out := fs.String("out", "", "write the data to `FILE`, which must not exist, and sync it (serve; default: discard)")
	to := fs.String("to", "", "the server's `HOST:PORT` (send)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after `D`")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var err error
	switch {
	case args[0] == "serve" && fs.NArg() == 0:
		err = c.Serve(ctx, *listen, *out, stdout)
	case args[0] == "send" && fs.NArg() == 1 && *to != "":
		err = c.Send(ctx, *to, fs.Arg(0), stdout)
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
