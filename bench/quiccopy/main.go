// Command quiccopy is the raw quic-go baseline of the transfer benchmark:
// one file over one QUIC stream, with the quic-go version, flow-control
// windows and socket buffer handling of lanchat's peer/direct, and
// nothing of lanchat's transfer protocol (no chunk hashes, no progress
// records). The receiver writes to a file and syncs it, like lanchat's
// receiver, or discards the data (no --out).
//
//	quiccopy serve --listen 127.0.0.1:0 [--out FILE]
//	quiccopy send --to HOST:PORT FILE
//
// serve prints "quiccopy listening on HOST:PORT", takes one copy, prints
// a JSON result line and exits; send prints its own result line once the
// receiver has acknowledged every byte (after its sync). Both end after
// --timeout whatever happens. bench/xferload runs it.
package main

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

const usage = `Usage:
  quiccopy serve --listen HOST:PORT [--out FILE] [--timeout D]
  quiccopy send --to HOST:PORT [--timeout D] FILE
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "serve" && args[0] != "send") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("quiccopy "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "UDP `ADDR` to listen on (serve)")
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
		err = serve(ctx, *listen, *out, stdout)
	case args[0] == "send" && fs.NArg() == 1 && *to != "":
		err = send(ctx, *to, fs.Arg(0), stdout)
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (after --timeout %v)", err, *timeout)
		}
		fmt.Fprintf(stderr, "quiccopy %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
