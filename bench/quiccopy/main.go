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
// --timeout whatever happens. bench transfer runs it.
package main

import (
	"io"
	"os"

	"github.com/lanchat/lanchat/bench/internal/rawcopy"
)

var command = rawcopy.Command{Name: "quiccopy", Network: "UDP", Stripes: true, Serve: serve, Send: send}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int { return command.Run(args, stdout, stderr) }
