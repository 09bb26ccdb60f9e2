package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/direct"
	"github.com/quic-go/quic-go"
)

// quicConfig is peer/direct's configuration with its defaults (see
// direct.Options and its quicConfig): the same timeouts and flow-control
// windows, the connection window starting at one and a half stream
// windows. Only the stream limits differ, since one stream per
// connection is all a copy needs.
func quicConfig() *quic.Config {
	initialConn := min(uint64(direct.DefaultInitialStreamReceiveWindow)*3/2, direct.DefaultMaxConnectionReceiveWindow)
	return &quic.Config{
		HandshakeIdleTimeout:           direct.DefaultHandshakeIdleTimeout,
		MaxIdleTimeout:                 direct.DefaultMaxIdleTimeout,
		KeepAlivePeriod:                direct.DefaultKeepAlivePeriod,
		InitialStreamReceiveWindow:     direct.DefaultInitialStreamReceiveWindow,
		MaxStreamReceiveWindow:         direct.DefaultMaxStreamReceiveWindow,
		InitialConnectionReceiveWindow: initialConn,
		MaxConnectionReceiveWindow:     direct.DefaultMaxConnectionReceiveWindow,
		MaxIncomingStreams:             1,
		MaxIncomingUniStreams:          -1,
	}
}

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
	d := map[string]any{
		"initial_stream_window": conf.InitialStreamReceiveWindow,
		"max_stream_window":     conf.MaxStreamReceiveWindow,
		"initial_conn_window":   conf.InitialConnectionReceiveWindow,
		"max_conn_window":       conf.MaxConnectionReceiveWindow,
		"conns":                 conns,
	}
	if rcv, snd, err := direct.UDPSocketBuffers(udp); err == nil {
		d["socket_rcvbuf"], d["socket_sndbuf"] = rcv, snd
	}
	d["gso"] = c.ConnectionState().GSO
	return d
}

// serveQUIC takes one copy, over o.conns connections of one stream each,
// and writes it to o.out ("" discards it).
func serveQUIC(ctx context.Context, o options, stdout io.Writer) error {
	tlsConf, err := tlsConfig(alpnQUIC, true)
	if err != nil {
		return err
	}
	sink, err := openSink(o.out, o.direct)
	if err != nil {
		return err
	}
	defer sink.Close()
	udp, tr, err := transport(o.listen)
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
	conns := make([]*quic.Conn, o.conns)
	streams := make([]*quic.Stream, o.conns)
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
	counts := make([]int64, o.conns)
	errs := make([]error, o.conns)
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
			counts[k], errs[k] = receive(s, sink)
		})
	}
	wg.Wait()
	errs = append(errs, sink.Close())
	if err := errors.Join(errs...); err != nil {
		return err
	}
	elapsed := time.Since(start)
	var n int64
	for k, s := range streams {
		if err := writeCount(s, counts[k]); err != nil {
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
	r := result{Role: "receive", Bytes: n, Sink: sink.describe(),
		Cipher: tls.CipherSuiteName(c.ConnectionState().TLS.CipherSuite), Details: details(udp, conf, c, o.conns)}
	return r.print(stdout, elapsed)
}

// sendQUIC copies the file at o.path to the server at o.to, part k of
// o.conns on connection k, all from one socket (as lanchat's daemon
// would).
func sendQUIC(ctx context.Context, o options, stdout io.Writer) error {
	tlsConf, err := tlsConfig(alpnQUIC, false)
	if err != nil {
		return err
	}
	udp, tr, err := transport(localFor(o.to))
	if err != nil {
		return err
	}
	defer udp.Close()
	defer tr.Close()
	ra, err := net.ResolveUDPAddr("udp", o.to)
	if err != nil {
		return err
	}
	conf := quicConfig()
	start := time.Now()
	conns := make([]*quic.Conn, o.conns)
	for k := range conns {
		c, err := tr.Dial(ctx, ra, tlsConf, conf)
		if err != nil {
			return fmt.Errorf("dial %s: %w", o.to, err)
		}
		defer c.CloseWithError(0, "")
		conns[k] = c
	}
	counts := make([]int64, o.conns)
	errs := make([]error, o.conns)
	var wg sync.WaitGroup
	for k, c := range conns {
		wg.Go(func() { counts[k], errs[k] = sendStream(ctx, c, o.path, k, o.conns) })
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
	r := result{Role: "send", Bytes: n, Cipher: tls.CipherSuiteName(c.ConnectionState().TLS.CipherSuite), Details: details(udp, conf, c, o.conns)}
	return r.print(stdout, time.Since(start))
}

// sendStream sends part k of n on a new stream of c and waits for the
// receiver's count.
func sendStream(ctx context.Context, c *quic.Conn, path string, k, n int) (int64, error) {
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		return 0, err
	}
	stop := context.AfterFunc(ctx, func() { s.CancelRead(1); s.CancelWrite(1) })
	defer stop()
	sent, err := sendPart(s, path, k, n)
	if err != nil {
		return sent, err
	}
	s.Close() // FIN: the receiver reads the rest, then replies
	return sent, readCount(s, sent)
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
