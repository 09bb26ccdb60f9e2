package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/lanchat/lanchat/bench/internal/rawcopy"
)

// closeOnDone closes c when ctx ends, waking any blocked read or write.
func closeOnDone(ctx context.Context, c net.Conn) func() bool {
	return context.AfterFunc(ctx, func() { c.Close() })
}

// serveTLS takes one copy and writes it to out ("" discards it).
func serveTLS(ctx context.Context, o rawcopy.Options, stdout io.Writer) error {
	conf, err := rawcopy.ServerTLS(alpnTLS)
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
	fmt.Fprintf(stdout, "rawcopy listening on %s\n", ln.Addr())
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

// sendTLS copies the file at path to the server at to.
func sendTLS(ctx context.Context, o rawcopy.Options, stdout io.Writer) error {
	conf, err := rawcopy.ClientTLS(alpnTLS)
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
