// Command tlscopy is the TLS-over-TCP baseline of the transfer
// benchmark: one file over one TLS 1.3 connection (crypto/tls, mutual
// certificates, as lanchat's peers use over QUIC), with the same I/O as
// bench/quiccopy: read in 1 MiB pieces, written to a file that is synced
// at the end, or discarded (no --out).
//
//	tlscopy serve --listen 127.0.0.1:0 [--out FILE]
//	tlscopy send --to HOST:PORT FILE
//
// serve prints "tlscopy listening on HOST:PORT", takes one copy, prints a
// JSON result line and exits; send prints its own once the receiver has
// acknowledged every byte (after its sync). Both end after --timeout
// whatever happens. bench/xferload runs it.
package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/lanchat/lanchat/bench/internal/rawcopy"
)

const alpn = "tlscopy"

var command = rawcopy.Command{Name: "tlscopy", Network: "TCP", Serve: serve, Send: send}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int { return command.Run(args, stdout, stderr) }

// closeOnDone closes c when ctx ends, waking any blocked read or write.
func closeOnDone(ctx context.Context, c net.Conn) func() bool {
	return context.AfterFunc(ctx, func() { c.Close() })
}

// serve takes one copy and writes it to out ("" discards it).
func serve(ctx context.Context, o rawcopy.Options, stdout io.Writer) error {
	conf, err := rawcopy.ServerTLS(alpn)
	if err != nil {
		return err
	}
	sink, err := rawcopy.OpenSink(o.Out, o.Direct)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		sink.Close()
		return err
	}
	defer ln.Close()
	stopLn := context.AfterFunc(ctx, func() { ln.Close() })
	defer stopLn()
	fmt.Fprintf(stdout, "tlscopy listening on %s\n", ln.Addr())
	raw, err := ln.Accept()
	if err != nil {
		sink.Close()
		return err
	}
	c := tls.Server(raw, conf)
	defer c.Close()
	defer closeOnDone(ctx, c)()
	if err := c.HandshakeContext(ctx); err != nil {
		sink.Close()
		return err
	}
	start := time.Now()
	n, err := rawcopy.Receive(c, sink)
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if err := rawcopy.WriteCount(c, n); err != nil {
		return err
	}
	r := rawcopy.Result{Role: "receive", Bytes: n, Sink: sink.Describe(), Cipher: rawcopy.CipherSuite(c.ConnectionState())}
	return r.Print(stdout, elapsed)
}

// send copies the file at path to the server at to.
func send(ctx context.Context, o rawcopy.Options, stdout io.Writer) error {
	conf, err := rawcopy.ClientTLS(alpn)
	if err != nil {
		return err
	}
	start := time.Now()
	d := tls.Dialer{Config: conf}
	nc, err := d.DialContext(ctx, "tcp", o.To)
	if err != nil {
		return fmt.Errorf("dial %s: %w", o.To, err)
	}
	c := nc.(*tls.Conn)
	defer c.Close()
	defer closeOnDone(ctx, c)()
	n, err := rawcopy.Send(c, o.Path)
	if err != nil {
		return err
	}
	if err := rawcopy.ReadCount(c, n); err != nil {
		return err
	}
	r := rawcopy.Result{Role: "send", Bytes: n, Cipher: rawcopy.CipherSuite(c.ConnectionState())}
	return r.Print(stdout, time.Since(start))
}
