package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
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
func details(udp *net.UDPConn, conf *quic.Config, c *quic.Conn, conns int) map[string]any {
	d := windows(conf)
	d["conns"] = conns
	if rcv, snd, err := socketBuffers(udp); err == nil {
		d["socket_rcvbuf"], d["socket_sndbuf"] = rcv, snd
	}
	d["gso"] = c.ConnectionState().GSO
	return d
}

// serveQUIC takes one copy, over o.Conns connections of one stream each,
// and writes it to o.Out ("" discards it).
func serveQUIC(ctx context.Context, o rawcopy.Options, stdout io.Writer) error {
	tlsConf, err := rawcopy.ServerTLS(alpnQUIC)
	if err != nil {
		return err
	}
	sink, err := rawcopy.OpenSink(o.Out, o.Direct)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			sink.Close()
		}
	}()
	udp, tr, err := transport(o.Listen)
	if err != nil {
		return err
	}
	defer udp.Close()
	defer tr.Close()
	conf := quicConfig()
	ln, err := tr.Listen(tlsConf, conf)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rawcopy listening on %s\n", udp.LocalAddr())
	var start time.Time
	conns := make([]*quic.Conn, o.Conns)
	streams := make([]*quic.Stream, o.Conns)
	for k := range conns {
		c, err := ln.Accept(ctx)
		if err != nil {
			return err
		}
		defer c.CloseWithError(0, "")
		if k == 0 {
			start = time.Now()
		}
		conns[k] = c
	}
	// Every connection's stream is received at once: the parts go to
	// their own offsets of the one file.
	counts := make([]int64, o.Conns)
	errs := make([]error, o.Conns)
	var wg sync.WaitGroup
	for k, c := range conns {
		wg.Go(func() {
			s, err := c.AcceptStream(ctx)
			if err != nil {
				errs[k] = err
				return
			}
			streams[k] = s
			stop := context.AfterFunc(ctx, func() { s.CancelRead(1); s.CancelWrite(1) })
			defer stop()
			counts[k], errs[k] = rawcopy.Receive(s, sink)
		})
	}
	wg.Wait()
	closed = true
	errs = append(errs, sink.Close())
	if err := errors.Join(errs...); err != nil {
		return err
	}
	elapsed := time.Since(start)
	var n int64
	for k, s := range streams {
		if err := rawcopy.WriteCount(s, counts[k]); err != nil {
			return err
		}
		s.Close()
		n += counts[k]
	}
	// Let the counts reach the sender before the connections go.
	for _, c := range conns {
		select {
		case <-c.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}
	c := conns[0]
	r := rawcopy.Result{Role: "receive", Bytes: n, Sink: sink.Describe(),
		Cipher: rawcopy.CipherSuite(c.ConnectionState().TLS), Details: details(udp, conf, c, o.Conns)}
	return r.Print(stdout, elapsed)
}

// sendQUIC copies the file at o.Path to the server at o.To, part k of
// o.Conns on connection k, all from one socket (as lanchat's daemon
// would).
func sendQUIC(ctx context.Context, o rawcopy.Options, stdout io.Writer) error {
	tlsConf, err := rawcopy.ClientTLS(alpnQUIC)
	if err != nil {
		return err
	}
	udp, tr, err := transport(localFor(o.To))
	if err != nil {
		return err
	}
	defer udp.Close()
	defer tr.Close()
	ra, err := net.ResolveUDPAddr("udp", o.To)
	if err != nil {
		return err
	}
	conf := quicConfig()
	start := time.Now()
	conns := make([]*quic.Conn, o.Conns)
	for k := range conns {
		c, err := tr.Dial(ctx, ra, tlsConf, conf)
		if err != nil {
			return fmt.Errorf("dial %s: %w", o.To, err)
		}
		defer c.CloseWithError(0, "")
		conns[k] = c
	}
	counts := make([]int64, o.Conns)
	errs := make([]error, o.Conns)
	var wg sync.WaitGroup
	for k, c := range conns {
		wg.Go(func() { counts[k], errs[k] = sendPart(ctx, c, o.Path, k, o.Conns) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var n int64
	for _, c := range counts {
		n += c
	}
	c := conns[0]
	r := rawcopy.Result{Role: "send", Bytes: n, Cipher: rawcopy.CipherSuite(c.ConnectionState().TLS), Details: details(udp, conf, c, o.Conns)}
	return r.Print(stdout, time.Since(start))
}

// sendPart sends part k of n on a new stream of c and waits for the
// receiver's count.
func sendPart(ctx context.Context, c *quic.Conn, path string, k, n int) (int64, error) {
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		return 0, err
	}
	stop := context.AfterFunc(ctx, func() { s.CancelRead(1); s.CancelWrite(1) })
	defer stop()
	sent, err := rawcopy.SendPart(s, path, k, n)
	if err != nil {
		return sent, err
	}
	s.Close() // FIN: the receiver reads the rest, then replies
	return sent, rawcopy.ReadCount(s, sent)
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
