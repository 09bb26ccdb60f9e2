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
//	rawcopy serve [--proto tls] --listen 127.0.0.1:0 [--out FILE]
//	rawcopy send [--proto tls] --to HOST:PORT FILE
//
// serve prints "rawcopy listening on HOST:PORT", takes one copy, prints
// a JSON result line and exits; send prints its own result line once the
// receiver has acknowledged every byte (after its sync). Both end after
// --timeout whatever happens. bench transfer runs it.
package main

import (
	"io"
	"os"

	"github.com/lanchat/lanchat/bench/internal/rawcopy"
)

var command = rawcopy.Command{Name: "rawcopy", Order: []string{"quic", "tls"}, Protos: map[string]rawcopy.Proto{
	"quic": {Stripes: true, Serve: serveQUIC, Send: sendQUIC},
	"tls":  {Serve: serveTLS, Send: sendTLS},
}}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int { return command.Run(args, stdout, stderr) }
