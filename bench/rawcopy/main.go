// Command rawcopy is the raw baseline of the transfer benchmark: one
// file over one stream, with nothing of lanchat's transfer protocol (no
// chunk hashes, no progress records). --proto quic (the default) uses
// quic-go with the version, flow-control windows and socket buffer
// handling of lanchat's peer/direct, and can stripe the file over
// several connections (--conns); --proto tls uses TLS 1.3 over one TCP
// connection (crypto/tls, mutual certificates, as lanchat's peers use
// over QUIC). The receiver reads in 1 MiB pieces and writes a file that
// it syncs at the end, or discards the data (no --out).
//
//	rawcopy serve [--proto tls] --listen 127.0.0.1:0 [--out FILE [--direct]]
//	rawcopy send [--proto tls] --to HOST:PORT FILE
//
// serve prints "rawcopy listening on HOST:PORT", takes one copy, prints
// a JSON result line and exits; send prints its own result line once the
// receiver has acknowledged every byte (after its sync). Both end after
// --timeout whatever happens. The stream format is deliberately bare (a
// header, the bytes, a count back), so that the baseline measures the
// transport and the disk, not a protocol:
//
//	stream := size, offset, length (8 bytes each, big-endian), length bytes of file data
//	reply  := count (8 bytes, big-endian): what the receiver wrote and synced
//
// bench transfer runs it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
)

// options are the parsed command line of either half.
type options struct {
	listen string // serve: the address to listen on
	out    string // serve: the file to write ("" discards)
	direct bool   // serve: write out with direct I/O
	to     string // send: the server's address
	path   string // send: the file to send
	conns  int    // both: connections the file is striped over (quic)
}

// maxConns bounds --conns.
const maxConns = 16

const usage = `Usage:
  rawcopy serve [--proto quic|tls] --listen HOST:PORT [--out FILE [--direct]] [--timeout D] [--conns N]
  rawcopy send [--proto quic|tls] --to HOST:PORT [--timeout D] [--conns N] FILE
(--conns above 1: quic only)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses "serve|send [flags]" and runs that half until it ends or
// --timeout passes; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "serve" && args[0] != "send") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("rawcopy "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	proto := fs.String("proto", "quic", "the protocol: quic or tls")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "`ADDR` to listen on (serve; UDP for quic, TCP for tls)")
	fs.StringVar(&o.out, "out", "", "write the data to `FILE`, which must not exist, and sync it (serve; default: discard)")
	fs.BoolVar(&o.direct, "direct", false, "write --out with direct I/O (O_DIRECT, past the page cache), as lanchat writes a big file (serve)")
	fs.StringVar(&o.to, "to", "", "the server's `HOST:PORT` (send)")
	fs.IntVar(&o.conns, "conns", 1, "stripe the file over `N` connections, one stream each (both ends must agree; quic)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after `D`")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	bad := (*proto != "quic" && *proto != "tls") || o.conns < 1 || o.conns > maxConns || (*proto == "tls" && o.conns > 1) || (o.direct && o.out == "")
	if args[0] == "send" {
		o.path = fs.Arg(0)
		bad = bad || fs.NArg() != 1 || o.to == ""
	} else {
		bad = bad || fs.NArg() != 0
	}
	if bad {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := cli.Context()
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	err := copyOnce(ctx, o, *proto == "tls", args[0] == "serve", stdout)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (after --timeout %v)", err, *timeout)
		}
		fmt.Fprintf(stderr, "rawcopy %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// copyOnce takes (serve) or sends one copy and prints its result line.
func copyOnce(ctx context.Context, o options, overTLS, serve bool, stdout io.Writer) error {
	sink, err := openSink(o.out, o.direct)
	if err != nil {
		return err
	}
	defer sink.Close()
	streams, r, done, err := connect(ctx, o, overTLS, serve, stdout)
	if err != nil {
		return err
	}
	start := time.Now()
	if serve {
		r.Role, r.Sink = "receive", sink.describe()
		r.Bytes, err = receiveAll(streams, sink)
	} else {
		r.Role = "send"
		r.Bytes, err = sendAll(o.path, streams)
	}
	r.Seconds = time.Since(start).Seconds()
	done()
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(r)
}

// result is the one JSON line each end prints when a copy is done; bench
// transfer reads it.
type result struct {
	Role    string  `json:"role"` // "send" or "receive"
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"` // first byte to last, synced (receiver) or acknowledged (sender)
	Sink    string  `json:"sink,omitempty"`
	Cipher  string  `json:"cipher,omitempty"`
	// Details are transport facts worth checking: socket buffer sizes,
	// GSO, flow-control windows, connections.
	Details map[string]any `json:"details,omitempty"`
}
