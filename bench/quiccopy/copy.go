package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/lanchat/lanchat/bench/internal/rawcopy"
	"github.com/quic-go/quic-go"
)

// transport opens a UDP socket and hands it to a quic.Transport, as
// peer/direct does: quic-go then enlarges the socket buffers itself (to
// 7 MiB, forcing past the system limit where it may) and uses GSO and
// batched reads where the kernel has them.
func transport(addr string) (*net.UDPConn, *quic.Transport, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, nil, err
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, nil, err
	}
	return udp, &quic.Transport{Conn: udp}, nil
}

// details are the transport facts the result line reports.
func details(udp *net.UDPConn, conf *quic.Config, c *quic.Conn) map[string]any {
	d := windows(conf)
	if rcv, snd, err := socketBuffers(udp); err == nil {
		d["socket_rcvbuf"], d["socket_sndbuf"] = rcv, snd
	}
	d["gso"] = c.ConnectionState().GSO
	return d
}

// serve takes one copy and writes it to out ("" discards it).
func serve(ctx context.Context, listen, out string, stdout io.Writer) error {
	tlsConf, err := rawcopy.ServerTLS(alpn)
	if err != nil {
		return err
	}
	sink, err := rawcopy.OpenSink(out)
	if err != nil {
		return err
	}
	udp, tr, err := transport(listen)
	if err != nil {
		sink.Close()
		return err
	}
	defer udp.Close()
	defer tr.Close()
	conf := quicConfig()
	ln, err := tr.Listen(tlsConf, conf)
	if err != nil {
		sink.Close()
		return err
	}
	fmt.Fprintf(stdout, "quiccopy listening on %s\n", udp.LocalAddr())
	c, err := ln.Accept(ctx)
	if err != nil {
		sink.Close()
		return err
	}
	defer c.CloseWithError(0, "")
	s, err := c.AcceptStream(ctx)
	if err != nil {
		sink.Close()
		return err
	}
	stop := context.AfterFunc(ctx, func() { s.CancelRead(1); s.CancelWrite(1) })
	defer stop()
	start := time.Now()
	n, err := rawcopy.Receive(s, sink)
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if err := rawcopy.WriteCount(s, n); err != nil {
		return err
	}
	s.Close()
	// Let the count reach the sender before the connection goes.
	select {
	case <-c.Context().Done():
	case <-time.After(2 * time.Second):
	}
	r := rawcopy.Result{Role: "receive", Bytes: n, Sink: sink.Describe(),
		Cipher: rawcopy.CipherSuite(c.ConnectionState().TLS), Details: details(udp, conf, c)}
	return r.Print(stdout, elapsed)
}

// send copies the file at path to the server at to.
func send(ctx context.Context, to, path string, stdout io.Writer) error {
	tlsConf, err := rawcopy.ClientTLS(alpn)
	if err != nil {
		return err
	}
	udp, tr, err := transport(localFor(to))
	if err != nil {
		return err
	}
	defer udp.Close()
	defer tr.Close()
	ra, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		return err
	}
	conf := quicConfig()
	start := time.Now()
	c, err := tr.Dial(ctx, ra, tlsConf, conf)
	if err != nil {
		return fmt.Errorf("dial %s: %w", to, err)
	}
	defer c.CloseWithError(0, "")
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { s.CancelRead(1); s.CancelWrite(1) })
	defer stop()
	n, err := rawcopy.Send(s, path)
	if err != nil {
		return err
	}
	s.Close() // FIN: the receiver reads the rest, then replies
	if err := rawcopy.ReadCount(s, n); err != nil {
		return err
	}
	r := rawcopy.Result{Role: "send", Bytes: n, Cipher: rawcopy.CipherSuite(c.ConnectionState().TLS), Details: details(udp, conf, c)}
	return r.Print(stdout, time.Since(start))
}

// localFor is the address to bind for dialling to: loopback for a
// loopback server, any address otherwise (a network namespace's link).
func localFor(to string) string {
	host, _, err := net.SplitHostPort(to)
	if ip := net.ParseIP(host); err == nil && ip != nil && !ip.IsLoopback() {
		return ":0"
	}
	return "127.0.0.1:0"
}
