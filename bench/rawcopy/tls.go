package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"time"
)

// The ALPN names keep these connections apart from lanchat's.
const (
	alpnQUIC = "rawcopy-quic"
	alpnTLS  = "rawcopy-tls"
)

// tlsConfig is a TLS 1.3 configuration with a fresh self-signed Ed25519
// certificate, the kind lanchat peers present. A server asks the client
// for one too (mutual TLS, as between lanchat peers). Keys are not
// pinned: a baseline needs the cost of the handshake, not its checks.
func tlsConfig(alpn string, server bool) (*tls.Config, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{alpn},
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	if server {
		c.ClientAuth = tls.RequireAnyClientCert
		return c, nil
	}
	c.InsecureSkipVerify = true // throw-away keys on both ends
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if cs.Version != tls.VersionTLS13 || len(cs.PeerCertificates) == 0 {
			return errors.New("want TLS 1.3 with a certificate")
		}
		return nil
	}
	return c, nil
}

// closeOnDone closes c when ctx ends, waking any blocked accept, read or
// write.
func closeOnDone(ctx context.Context, c io.Closer) func() bool {
	return context.AfterFunc(ctx, func() { c.Close() })
}

// serveTLS takes one copy and writes it to o.out ("" discards it).
func serveTLS(ctx context.Context, o options, stdout io.Writer) error {
	conf, err := tlsConfig(alpnTLS, true)
	if err != nil {
		return err
	}
	sink, err := openSink(o.out, o.direct)
	if err != nil {
		return err
	}
	defer sink.Close()
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	defer closeOnDone(ctx, ln)()
	fmt.Fprintf(stdout, "rawcopy listening on %s\n", ln.Addr())
	raw, err := ln.Accept()
	if err != nil {
		return err
	}
	c := tls.Server(raw, conf)
	defer c.Close()
	defer closeOnDone(ctx, c)()
	if err := c.HandshakeContext(ctx); err != nil {
		return err
	}
	start := time.Now()
	n, err := receive(c, sink)
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if err := writeCount(c, n); err != nil {
		return err
	}
	r := result{Role: "receive", Bytes: n, Sink: sink.describe(), Cipher: tls.CipherSuiteName(c.ConnectionState().CipherSuite)}
	return r.print(stdout, elapsed)
}

// sendTLS copies the file at o.path to the server at o.to.
func sendTLS(ctx context.Context, o options, stdout io.Writer) error {
	conf, err := tlsConfig(alpnTLS, false)
	if err != nil {
		return err
	}
	start := time.Now()
	d := tls.Dialer{Config: conf}
	nc, err := d.DialContext(ctx, "tcp", o.to)
	if err != nil {
		return fmt.Errorf("dial %s: %w", o.to, err)
	}
	c := nc.(*tls.Conn)
	defer c.Close()
	defer closeOnDone(ctx, c)()
	n, err := sendPart(c, o.path, 0, 1)
	if err != nil {
		return err
	}
	if err := readCount(c, n); err != nil {
		return err
	}
	r := result{Role: "send", Bytes: n, Cipher: tls.CipherSuiteName(c.ConnectionState().CipherSuite)}
	return r.print(stdout, time.Since(start))
}
